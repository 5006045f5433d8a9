import gzip
import io
import os
import stat
import struct
import threading
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from genlab.data import DatasetError, DatasetUnavailable, availability, cifar, folder, idx, load_dataset
from genlab.data.toys import grid_modes, ring_modes
from tests.support import needs_fashion


def test_ring_has_eight_distinct_angles_and_pacgan_spread():
    d = load_dataset("ring")
    angles = torch.atan2(ring_modes()[:, 1], ring_modes()[:, 0])
    assert len(torch.unique((angles * 1000).round())) == 8
    assert torch.allclose(ring_modes().norm(dim=1), torch.ones(8))
    offsets = d.x_train - d.modes[d.y_train]
    assert offsets.std().item() == pytest.approx(0.01, rel=0.05)
    assert len(d.y_train.unique()) == 8


def test_grid_has_25_modes_on_the_lattice():
    d = load_dataset("grid")
    assert sorted(set(grid_modes()[:, 0].tolist())) == [-4, -2, 0, 2, 4]
    assert len(grid_modes().unique(dim=0)) == 25
    offsets = d.x_train - d.modes[d.y_train]
    assert offsets.std().item() == pytest.approx(0.05, rel=0.05)


@pytest.mark.parametrize("name", ["ring", "grid", "spiral", "moons"])
def test_toys_are_seeded_points_with_separate_test_split(name):
    d = load_dataset(name)
    assert d.kind == "points" and d.shape == (2,)
    assert torch.isfinite(d.x_train).all()
    assert not torch.equal(d.x_train[:100], d.x_test[:100])
    from genlab.data.toys import load_toy
    assert torch.equal(load_toy(name).x_train, d.x_train)


def test_digits_are_the_real_8x8_images_in_unit_range():
    d = load_dataset("digits")
    assert d.shape == (1, 8, 8) and len(d.x_train) + len(d.x_test) == 1797
    assert d.x_train.min() == 0 and d.x_train.max() == 1
    assert d.n_classes == 10


@needs_fashion
def test_fashion_mnist_reads_the_real_idx_files():
    d = load_dataset("fashion-mnist")
    assert len(d.x_train) == 60_000 and len(d.x_test) == 10_000
    assert d.shape == (1, 28, 28) and d.x_train.dtype == torch.float32
    assert 0 <= d.x_train.min() and d.x_train.max() == 1
    assert torch.bincount(d.y_train).tolist() == [6000] * 10
    assert d.classes[9] == "Ankle boot"
    assert availability("fashion-mnist")[0]


def write_idx(path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_mnist_loads_idx_files_placed_in_the_data_folder(isolated_dirs):
    folder_ = isolated_dirs / "data" / "mnist"
    folder_.mkdir(parents=True)
    rng = np.random.default_rng(0)
    write_idx(folder_ / idx.FILES["train_images"], rng.integers(0, 256, (12, 28, 28)))
    write_idx(folder_ / idx.FILES["train_labels"], np.arange(12) % 10)
    write_idx(folder_ / idx.FILES["test_images"], rng.integers(0, 256, (3, 28, 28)))
    write_idx(folder_ / idx.FILES["test_labels"], np.arange(3))
    assert availability("mnist") == (True, f"found in {folder_}")
    d = load_dataset("mnist")
    assert d.x_train.shape == (12, 1, 28, 28) and d.y_test.tolist() == [0, 1, 2]


def test_idx_reader_refuses_a_truncated_file(tmp_path):
    path = tmp_path / "bad.gz"
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + struct.pack(">i", 100) + b"\x00" * 10)
    with pytest.raises(DatasetError, match="promises 100"):
        idx.read_idx(path)


def test_missing_mnist_says_how_to_get_it(isolated_dirs):
    ok, why = availability("mnist")
    assert not ok and "when online" in why
    with pytest.raises(DatasetUnavailable):
        idx.load_idx_dataset("mnist", isolated_dirs / "data", download=False)


def test_cifar10_reads_the_binary_release_without_unpickling(isolated_dirs):
    folder_ = isolated_dirs / "data" / cifar.FOLDER
    folder_.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i, name in enumerate(cifar.TRAIN + cifar.TEST):
        records = rng.integers(0, 256, (2, cifar.RECORD)).astype(np.uint8)
        records[:, 0] = [i % 10, (i + 1) % 10]
        records.tofile(folder_ / name)
    d = load_dataset("cifar10")
    assert d.x_train.shape == (10, 3, 32, 32) and d.y_train[:2].tolist() == [0, 1]
    assert d.x_test.shape == (2, 3, 32, 32)


def png_bytes(size=(20, 12), color=(200, 10, 10)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def test_folder_with_class_subfolders_gives_labels_and_counts_skips(tmp_path):
    for cls in ("cats", "dogs"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(5):
            (tmp_path / "imgs" / cls / f"{i}.png").write_bytes(png_bytes())
    (tmp_path / "imgs" / "cats" / "broken.png").write_bytes(b"not an image")
    (tmp_path / "imgs" / "dogs" / "notes.txt").write_text("hello")
    d = load_dataset("folder", path=str(tmp_path / "imgs"), image_size=32, color="rgb")
    assert d.shape == (3, 32, 32) and d.classes == ["cats", "dogs"]
    assert len(d.x_train) + len(d.x_test) == 10 and d.notes["skipped"] == 2
    assert d.x_train[:, 0].mean() > 0.7 and d.x_train[:, 2].mean() < 0.1  # red survived


def zip_with(tmp_path, members: dict[str, bytes], symlink: str | None = None):
    path = tmp_path / "upload.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


def test_zip_of_images_loads_grey_at_28px(tmp_path):
    path = zip_with(tmp_path, {f"a/{i}.png": png_bytes() for i in range(4)})
    d = load_dataset("folder", path=str(path))
    assert d.shape == (1, 28, 28) and d.classes is None  # one folder: no classes


def test_zip_member_outside_the_target_is_refused(tmp_path):
    path = zip_with(tmp_path, {"ok.png": png_bytes(), "../../evil.png": png_bytes()})
    with pytest.raises(DatasetError, match="outside the target"):
        load_dataset("folder", path=str(path))


def test_zip_symlink_is_refused(tmp_path):
    path = zip_with(tmp_path, {"ok.png": png_bytes()}, symlink="link.png")
    with pytest.raises(DatasetError, match="symbolic link"):
        load_dataset("folder", path=str(path))


def test_archive_past_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(folder, "MAX_TOTAL_BYTES", 1000)
    path = zip_with(tmp_path, {"big.bin": b"\0" * 5000, "ok.png": png_bytes()})
    with pytest.raises(DatasetError, match="expands to"):
        load_dataset("folder", path=str(path))


def test_an_image_claiming_too_many_pixels_is_skipped_unread_and_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(folder, "MAX_PIXELS", 100)
    path = zip_with(tmp_path, {"a.png": png_bytes((8, 8)), "b.png": png_bytes((8, 8)), "huge.png": png_bytes((20, 20))})
    d = load_dataset("folder", path=str(path))
    assert len(d.x_train) + len(d.x_test) == 2
    assert d.notes == {"skipped": 1, "too_large": 1, "images": 2, "skipped_files": ["huge.png (too large)"]}


def gif_claiming(width: int, height: int) -> bytes:
    """A GIF header that claims width x height, then garbage: unreadable, but huge on paper."""
    return b"GIF89a" + width.to_bytes(2, "little") + height.to_bytes(2, "little") + b"\x00\x00\x00" + b"junk" * 8


def test_one_unreadable_gif_claiming_a_huge_size_is_skipped_not_a_refusal(tmp_path):
    path = zip_with(tmp_path, {"a.png": png_bytes(), "b.png": png_bytes(), "bomb.gif": gif_claiming(65535, 65535)})
    d = load_dataset("folder", path=str(path))
    assert d.notes["skipped"] == 1 and d.notes["images"] == 2


def test_a_legal_member_name_with_a_colon_is_accepted(tmp_path):
    path = zip_with(tmp_path, {"a:b/x.png": png_bytes(), "a:b/y.png": png_bytes()})
    assert load_dataset("folder", path=str(path)).notes["images"] == 2
    for absolute in ("C:/evil.png", "C:\\evil.png", "/etc/evil.png"):
        with pytest.raises(DatasetError, match="outside the target"):
            load_dataset("folder", path=str(zip_with(tmp_path, {"ok.png": png_bytes(), absolute: png_bytes()})))


def stored_zip(tmp_path, names=("a.png", "b.png")) -> bytes:
    path = tmp_path / "upload.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in names:
            zf.writestr(name, png_bytes())
    return path.read_bytes()


def damaged(raw: bytes, how: str) -> bytes:
    """The zip `raw` with one kind of damage a hostile upload might carry."""
    if how == "bad CRC":  # one byte of the first member's data flipped: its CRC no longer matches
        at = raw.index(b"IHDR") + 6
        return raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1:]
    if how == "names differ":  # the local header names another file than the central directory
        return raw.replace(b"a.png", b"z.png", 1)
    if how == "encrypted":  # the encryption flag set in both headers
        raw = bytearray(raw)
        for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = raw.index(signature) + offset
            raw[at] |= 1
        return bytes(raw)
    if how == "unknown compression":  # method 99 in both headers
        raw = bytearray(raw)
        for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
            at = raw.index(signature) + offset
            raw[at:at + 2] = (99).to_bytes(2, "little")
        return bytes(raw)
    raise ValueError(how)


@pytest.mark.parametrize("how", ["bad CRC", "names differ", "encrypted", "unknown compression"])
def test_a_damaged_zip_is_one_clear_refusal(tmp_path, how):
    path = tmp_path / "bad.zip"
    path.write_bytes(damaged(stored_zip(tmp_path), how))
    with pytest.raises(DatasetError, match="refused|not a readable zip") as refusal:
        load_dataset("folder", path=str(path))
    assert "\n" not in str(refusal.value)


def test_a_fifo_in_a_folder_is_skipped_not_read_forever(tmp_path):
    (tmp_path / "imgs").mkdir()
    for name in ("a.png", "b.png"):
        (tmp_path / "imgs" / name).write_bytes(png_bytes())
    os.mkfifo(tmp_path / "imgs" / "c.png")
    result = {}
    reader = threading.Thread(target=lambda: result.update(d=load_dataset("folder", path=str(tmp_path / "imgs"))),
                              daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert not reader.is_alive(), "the loader blocked on the FIFO"
    assert result["d"].notes["skipped"] == 1 and result["d"].notes["images"] == 2


def test_memory_is_bounded_before_anything_is_decoded(tmp_path):
    # The tester's archive: 20,000 1x1 PNGs at 64 px RGB would make a 938 MiB tensor.
    tiny = png_bytes((1, 1))
    path = zip_with(tmp_path, {f"{i}.png": tiny for i in range(20_000)})
    with pytest.raises(DatasetError, match=r"20,000 images at 64 px with 3 channel\(s\) make a 938 MiB tensor; "
                                           r"the limit is 512 MiB"):
        load_dataset("folder", path=str(path), image_size=64, color="rgb")


def test_total_pixels_to_decode_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(folder, "MAX_TOTAL_PIXELS", 1000)
    path = zip_with(tmp_path, {f"{i}.png": png_bytes((20, 20)) for i in range(3)})
    with pytest.raises(DatasetError, match="megapixels"):
        load_dataset("folder", path=str(path))


def test_symlink_inside_a_folder_is_refused(tmp_path):
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.png").write_bytes(png_bytes())
    os.symlink("/etc/passwd", tmp_path / "imgs" / "b.png")
    with pytest.raises(DatasetError, match="symbolic link"):
        load_dataset("folder", path=str(tmp_path / "imgs"))


def test_folder_without_images_says_what_is_allowed(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "a.txt").write_text("x")
    with pytest.raises(DatasetError, match=r"found 0 readable images .*1 files skipped.*\.png"):
        load_dataset("folder", path=str(tmp_path / "empty"))


def test_unknown_dataset_names_the_allowed_ones():
    with pytest.raises(DatasetError, match="allowed: ring, grid"):
        load_dataset("imagenet")


def test_a_transparent_png_is_seen_over_white_not_black(tmp_path):
    """Icons and logos: convert() dropped the alpha channel, so a transparent background (black
    underneath) became an all-black image."""
    logo = Image.new("RGBA", (16, 16), (0, 0, 0, 0))  # transparent, black underneath
    for x in range(4, 12):
        for y in range(4, 12):
            logo.putpixel((x, y), (200, 20, 20, 255))  # an opaque red square
    paletted = logo.convert("P")  # the same as a palette image with a transparent colour
    paletted.info["transparency"] = paletted.getpixel((0, 0))
    folder = tmp_path / "icons"
    folder.mkdir()
    for i, image in enumerate([logo, logo, paletted, logo.convert("LA")]):
        image.save(folder / f"{i}.png")
    for color, channels in (("rgb", 3), ("grey", 1)):
        d = load_dataset("folder", path=str(folder), image_size=28, color=color)
        x = torch.cat([d.x_train, d.x_test])
        assert x.shape[1] == channels and len(x) == 4
        corners = x[:, :, :3, :3]
        assert corners.min() > 0.95  # the background is white, as a viewer shows it
        centre = x[:, 0, 14, 14]
        assert centre.max() < 0.9  # and the square is still there
