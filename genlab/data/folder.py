"""A user's own images, from a folder or a zip archive.

Images are centre-cropped to a square, resized to 28, 32 or 64 px and converted to grey
or RGB. When every image sits in a subfolder, the subfolder names become class labels.
Unreadable files, files that are not regular files (a FIFO would block the reader forever)
and images whose header claims more than MAX_PIXELS are skipped and counted. What could
harm the machine is refused with a message: archive members that would land outside the
target folder, symbolic links, a damaged, encrypted or oddly compressed archive, archives or
folders that expand past a size limit, and collections whose decoded tensor or total pixels
would pass a memory or time budget (both known before any image is decoded).
Zip members are read in memory; nothing is extracted to disk.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from genlab.data.dataset import Dataset, DatasetError

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
MAX_TOTAL_BYTES = 1 << 30  # what a folder or archive may expand to
MAX_FILES = 200_000
MAX_PIXELS = 4096 * 4096  # claimed pixels of one image: more is skipped, unread
SKIPPED_NAMED = 20  # files skipped that a dataset's notes name
MAX_TOTAL_PIXELS = 256 * 2**20  # claimed pixels of all images: bounds the time to decode them
MAX_TENSOR_BYTES = 512 * 2**20  # the float32 tensor the images become
TEST_SHARE = 0.1
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, NotImplementedError, EOFError,
              OSError, zlib.error, ValueError)


def _check_member_name(name: str) -> PurePosixPath:
    """The member's path; refused when it is absolute (also as a Windows path) or climbs out."""
    path = PurePosixPath(name.replace("\\", "/"))
    windows = PureWindowsPath(name)
    if path.is_absolute() or ".." in path.parts or (windows.drive and windows.root):
        raise DatasetError(f"refused: archive member {name!r} would land outside the target folder")
    return path


def _zip_entries(archive: Path | BinaryIO, name: str) -> Iterator[tuple[PurePosixPath, bytes | None]]:
    """(name, bytes) of each file in the archive (a file, or bytes in memory, called `name`
    in messages); any damage to the archive is a refusal."""
    try:
        zf = zipfile.ZipFile(archive)
    except ZIP_ERRORS as exc:
        raise DatasetError(f"{name} is not a readable zip archive ({exc})") from exc
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        _check_zip_members(name, members)
        for m in members:
            try:
                with zf.open(m) as f:
                    # Read at most the declared size (+1 to notice a lying header).
                    data = f.read(m.file_size + 1)
            except ZIP_ERRORS as exc:
                raise DatasetError(f"refused: {name} is damaged or unsupported at member "
                                   f"{m.filename!r} ({exc}); make the zip again with plain deflate") from exc
            if len(data) != m.file_size:
                raise DatasetError(f"refused: member {m.filename!r} of {name} is not the size its "
                                   f"header says ({len(data)} bytes read, {m.file_size} declared)")
            yield _check_member_name(m.filename), data


def _check_zip_members(name: str, members: list[zipfile.ZipInfo]) -> None:
    if len(members) > MAX_FILES:
        raise DatasetError(f"refused: {name} holds {len(members)} files; the limit is {MAX_FILES}")
    total, seen = 0, set()
    for m in members:
        _check_member_name(m.filename)
        if m.filename in seen:
            raise DatasetError(f"refused: {name} holds two members called {m.filename!r}; make the zip again")
        seen.add(m.filename)
        if stat.S_ISLNK(m.external_attr >> 16):
            raise DatasetError(f"refused: archive member {m.filename!r} is a symbolic link")
        if m.flag_bits & 0x1:
            raise DatasetError(f"refused: archive member {m.filename!r} is encrypted")
        total += m.file_size
    if total > MAX_TOTAL_BYTES:
        raise DatasetError(f"refused: {name} expands to {total / 2**20:.0f} MiB; "
                           f"the limit is {MAX_TOTAL_BYTES / 2**20:.0f} MiB")


def _folder_entries(root: Path) -> Iterator[tuple[PurePosixPath, bytes | None]]:
    """(name, bytes) of each file under `root`; bytes is None for what is not a regular file
    (a FIFO, a socket, a device), which is skipped unread."""
    files: list[Path] = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            if (Path(dirpath) / name).is_symlink():
                raise DatasetError(f"refused: {Path(dirpath, name).relative_to(root)} is a symbolic link")
        for name in filenames:
            path = Path(dirpath) / name
            files.append(path)
            info = path.lstat()
            total += info.st_size if stat.S_ISREG(info.st_mode) else 0
    if len(files) > MAX_FILES:
        raise DatasetError(f"refused: {root} holds {len(files)} files; the limit is {MAX_FILES}")
    if total > MAX_TOTAL_BYTES:
        raise DatasetError(f"refused: {root} holds {total / 2**20:.0f} MiB; "
                           f"the limit is {MAX_TOTAL_BYTES / 2**20:.0f} MiB")
    for path in sorted(files):
        regular = stat.S_ISREG(path.lstat().st_mode)
        yield PurePosixPath(path.relative_to(root).as_posix()), path.read_bytes() if regular else None


def _claimed_pixels(data: bytes) -> int | None:
    """Width x height from an image's header (nothing is decoded), or None when it is no
    image PIL can open."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        return None
    return w * h


@dataclass
class Survey:
    """What a first pass over the files found, from their headers alone."""

    names: list[PurePosixPath] = field(default_factory=list)  # images to decode
    pixels: int = 0  # their claimed pixels, all together
    skipped: int = 0  # not images, unreadable, or not regular files
    too_large: int = 0  # images claiming more than MAX_PIXELS
    skipped_names: list[str] = field(default_factory=list)  # the first SKIPPED_NAMED of them, by name

    def skip(self, name: PurePosixPath, too_large: bool = False) -> None:
        self.too_large += too_large
        self.skipped += not too_large
        if len(self.skipped_names) < SKIPPED_NAMED:
            self.skipped_names.append(str(name) + (" (too large)" if too_large else ""))


def _survey(entries: Iterator[tuple[PurePosixPath, bytes | None]]) -> Survey:
    survey = Survey()
    for name, data in entries:
        pixels = None
        if data is not None and name.suffix.lower() in EXTENSIONS and not name.name.startswith("."):
            pixels = _claimed_pixels(data)
        if pixels is None:
            survey.skip(name)
        elif pixels > MAX_PIXELS:
            survey.skip(name, too_large=True)
        else:
            survey.names.append(name)
            survey.pixels += pixels
    return survey


def _check_budget(survey: Survey, size: int, channels: int, source: str) -> None:
    """Refuse, with the numbers, a collection whose tensor or decoding would be too big."""
    n = len(survey.names)
    tensor = n * channels * size * size * 4
    if tensor > MAX_TENSOR_BYTES:
        raise DatasetError(f"refused: {n:,} images at {size} px with {channels} channel(s) make a "
                           f"{tensor / 2**20:,.0f} MiB tensor; the limit is {MAX_TENSOR_BYTES / 2**20:,.0f} MiB "
                           "(use fewer images, a smaller size, or grey)")
    if survey.pixels > MAX_TOTAL_PIXELS:
        raise DatasetError(f"refused: the images of {source} hold {survey.pixels / 1e6:,.0f} megapixels "
                           f"to decode; the limit is {MAX_TOTAL_PIXELS / 1e6:,.0f} (shrink them first)")


def opaque(img: Image.Image) -> Image.Image:
    """The image with any transparency composited onto white, as a viewer shows it: convert()
    alone drops the alpha channel, and a logo's transparent background (black underneath, in
    most files) became an all-black image."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return img


def _decode(data: bytes, size: int, mode: str) -> np.ndarray | None:
    """One image as uint8 [size, size, C], or None when it cannot be read."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            arr = np.asarray(ImageOps.fit(opaque(img).convert(mode), (size, size), Image.Resampling.LANCZOS))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        return None  # a truncated or corrupt file
    return arr[..., None] if arr.ndim == 2 else arr


def _decode_all(entries: Iterator[tuple[PurePosixPath, bytes | None]], survey: Survey, size: int,
                mode: str) -> tuple[np.ndarray, list[PurePosixPath]]:
    """The surveyed images decoded into one preallocated array, and their names; images
    that fail to decode after all are left out and counted as skipped."""
    wanted = set(survey.names)
    out = np.empty((len(wanted), size, size, 1 if mode == "L" else 3), dtype=np.uint8)
    names: list[PurePosixPath] = []
    for name, data in entries:
        if name not in wanted or data is None:
            continue
        arr = _decode(data, size, mode)
        if arr is None:
            survey.skip(name)
            continue
        out[len(names)] = arr
        names.append(name)
    return out[:len(names)], names


def _entries(source: Path) -> Callable[[], Iterator[tuple[PurePosixPath, bytes | None]]]:
    """A way to walk the folder's or archive's files, as often as needed."""
    if source.is_symlink():
        raise DatasetError(f"refused: {source} is a symbolic link")
    if source.is_dir():
        return lambda: _folder_entries(source)
    if source.is_file() and source.suffix.lower() == ".zip":
        return lambda: _zip_entries(source, source.name)
    raise DatasetError(f"{source} is neither a folder nor a .zip file of images")


def load_folder(path: str | os.PathLike, image_size: int = 28, color: str = "grey",
                seed: int = 0) -> Dataset:
    """Load a folder or a .zip of images as a dataset (see the module docstring): a first
    pass reads the headers and checks the budgets, a second decodes."""
    source = Path(path)
    return _load(_entries(source), source.name, str(source), image_size, color, seed)


def load_zip_bytes(raw: bytes, name: str, image_size: int = 28, color: str = "grey", seed: int = 0) -> Dataset:
    """A zip of images held in memory (an upload not yet stored), loaded as `load_folder`
    would load the same file from disk; messages call it `name`."""
    return _load(lambda: _zip_entries(io.BytesIO(raw), name), name, name, image_size, color, seed)


def _load(entries: Callable[[], Iterator[tuple[PurePosixPath, bytes | None]]], name: str, source: str,
          image_size: int, color: str, seed: int) -> Dataset:
    if image_size not in (28, 32, 64):
        raise DatasetError(f"image size must be 28, 32 or 64, not {image_size}")
    if color not in ("grey", "rgb"):
        raise DatasetError(f"color must be grey or rgb, not {color!r}")
    mode = "L" if color == "grey" else "RGB"
    survey = _survey(entries())
    _check_budget(survey, image_size, 1 if mode == "L" else 3, name)
    images, names = _decode_all(entries(), survey, image_size, mode)
    skipped = survey.skipped + survey.too_large
    if len(images) < 2:
        raise DatasetError(f"found {len(images)} readable images in {name} ({skipped} files skipped, "
                           f"{survey.too_large} of them over {MAX_PIXELS / 1e6:.0f} megapixels); at least 2 "
                           f"are needed, as {', '.join(sorted(EXTENSIONS))}")
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0)
    # Images that all sit one folder deep get that folder's name as their class.
    folders = [n.parts[-2] if len(n.parts) >= 2 else None for n in names]
    classes = sorted(set(folders)) if None not in folders and len(set(folders)) > 1 else None
    y = torch.tensor([classes.index(f) for f in folders]) if classes else None

    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    n_test = max(1, int(len(x) * TEST_SHARE))
    test, train = order[:n_test], order[n_test:]
    return Dataset(name="folder", kind="images", x_train=x[train],
                   y_train=y[train] if y is not None else None, x_test=x[test],
                   y_test=y[test] if y is not None else None, classes=classes, source=source,
                   notes={"skipped": skipped, "too_large": survey.too_large, "images": len(x),
                          "skipped_files": survey.skipped_names})
