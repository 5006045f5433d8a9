"""A user's own images, from a folder or a zip archive.

Images are centre-cropped to a square, resized to 28, 32 or 64 px and converted to grey
or RGB. When every image sits in a subfolder, the subfolder names become class labels.
Unreadable files are skipped and counted. What could harm the machine is refused with a
message: archive members that would land outside the target folder, symbolic links,
archives or folders that expand past a size limit, and images with absurd dimensions.
Zip members are read in memory; nothing is extracted to disk.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from genlab.data.dataset import Dataset, DatasetError

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
MAX_TOTAL_BYTES = 1 << 30  # what a folder or archive may expand to
MAX_FILES = 200_000
MAX_SIDE = 8192  # pixels per side of one image
TEST_SHARE = 0.1


def _check_member_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise DatasetError(f"refused: archive member {name!r} would land outside the target folder")
    return path


def _zip_entries(archive: Path) -> Iterator[tuple[PurePosixPath, bytes]]:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DatasetError(f"{archive.name} is not a readable zip archive ({exc})") from exc
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) > MAX_FILES:
            raise DatasetError(f"refused: {archive.name} holds {len(members)} files; the limit is {MAX_FILES}")
        total = 0
        for m in members:
            _check_member_name(m.filename)
            if stat.S_ISLNK(m.external_attr >> 16):
                raise DatasetError(f"refused: archive member {m.filename!r} is a symbolic link")
            total += m.file_size
        if total > MAX_TOTAL_BYTES:
            raise DatasetError(f"refused: {archive.name} expands to {total / 2**20:.0f} MiB; "
                               f"the limit is {MAX_TOTAL_BYTES / 2**20:.0f} MiB")
        for m in members:
            with zf.open(m) as f:
                # Read at most the declared size (+1 to notice a lying header).
                data = f.read(m.file_size + 1)
            yield _check_member_name(m.filename), data[: m.file_size]


def _folder_entries(root: Path) -> Iterator[tuple[PurePosixPath, bytes]]:
    files: list[Path] = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            if (Path(dirpath) / name).is_symlink():
                raise DatasetError(f"refused: {Path(dirpath, name).relative_to(root)} is a symbolic link")
        for name in filenames:
            path = Path(dirpath) / name
            files.append(path)
            total += path.stat().st_size
    if len(files) > MAX_FILES:
        raise DatasetError(f"refused: {root} holds {len(files)} files; the limit is {MAX_FILES}")
    if total > MAX_TOTAL_BYTES:
        raise DatasetError(f"refused: {root} holds {total / 2**20:.0f} MiB; "
                           f"the limit is {MAX_TOTAL_BYTES / 2**20:.0f} MiB")
    for path in sorted(files):
        yield PurePosixPath(path.relative_to(root).as_posix()), path.read_bytes()


def _decode(name: PurePosixPath, data: bytes, size: int, mode: str) -> np.ndarray | None:
    """One image as uint8 [H, W, C], or None when it cannot be read."""
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise DatasetError(f"refused: {name} has absurd dimensions ({exc})") from exc
    except (UnidentifiedImageError, OSError):
        return None
    with img:
        w, h = img.size
        if w > MAX_SIDE or h > MAX_SIDE:
            raise DatasetError(f"refused: {name} is {w}x{h} pixels; the limit is {MAX_SIDE} per side")
        try:
            arr = np.asarray(ImageOps.fit(img.convert(mode), (size, size), Image.Resampling.LANCZOS))
        except (OSError, ValueError):  # a truncated or corrupt file
            return None
    return arr[..., None] if arr.ndim == 2 else arr


def load_folder(path: str | os.PathLike, image_size: int = 28, color: str = "grey",
                seed: int = 0) -> Dataset:
    """Load a folder or a .zip of images as a dataset (see the module docstring)."""
    source = Path(path)
    if image_size not in (28, 32, 64):
        raise DatasetError(f"image size must be 28, 32 or 64, not {image_size}")
    if color not in ("grey", "rgb"):
        raise DatasetError(f"color must be grey or rgb, not {color!r}")
    if source.is_symlink():
        raise DatasetError(f"refused: {source} is a symbolic link")
    if source.is_dir():
        entries = _folder_entries(source)
    elif source.is_file() and source.suffix.lower() == ".zip":
        entries = _zip_entries(source)
    else:
        raise DatasetError(f"{source} is neither a folder nor a .zip file of images")

    mode = "L" if color == "grey" else "RGB"
    images, names, skipped = [], [], 0
    for name, data in entries:
        if name.suffix.lower() not in EXTENSIONS or name.name.startswith("."):
            skipped += 1
            continue
        arr = _decode(name, data, image_size, mode)
        if arr is None:
            skipped += 1
            continue
        images.append(arr)
        names.append(name)
    if len(images) < 2:
        raise DatasetError(f"found {len(images)} readable images in {source.name} ({skipped} files "
                           f"skipped); at least 2 are needed, as {', '.join(sorted(EXTENSIONS))}")

    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div_(255.0)
    # Images that all sit one folder deep get that folder's name as their class.
    folders = [n.parts[-2] if len(n.parts) >= 2 else None for n in names]
    classes = sorted(set(folders)) if None not in folders and len(set(folders)) > 1 else None
    y = torch.tensor([classes.index(f) for f in folders]) if classes else None

    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    n_test = max(1, int(len(x) * TEST_SHARE))
    test, train = order[:n_test], order[n_test:]
    return Dataset(name="folder", kind="images", x_train=x[train],
                   y_train=y[train] if y is not None else None, x_test=x[test],
                   y_test=y[test] if y is not None else None, classes=classes,
                   source=str(source), notes={"skipped": skipped, "images": len(x)})
