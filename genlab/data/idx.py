"""MNIST-style datasets stored as gzip IDX files: Fashion-MNIST and MNIST.

Files are looked for in $GENLAB_DATA, then in the system folder Debian's package uses,
and only then downloaded through torchvision (which needs a network). We read the
IDX files ourselves: torchvision's dataset classes want uncompressed copies.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from genlab.data.dataset import Dataset, DatasetError, DatasetUnavailable

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# name -> (folder names that may hold the files, system folder, torchvision class name)
SOURCES = {
    "fashion-mnist": (("fashion-mnist", "FashionMNIST/raw"), Path("/usr/share/datasets/fashion-mnist"),
                      "FashionMNIST"),
    "mnist": (("mnist", "MNIST/raw"), None, "MNIST"),
}


def read_idx(path: Path) -> np.ndarray:
    """Parse one gzip IDX file: 2 zero bytes, a type byte (0x08 = uint8), the number of
    dimensions, then each dimension as a big-endian int32, then the data."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DatasetError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DatasetError(f"{path} holds {data.size} bytes, its header promises {int(np.prod(dims))}")
    return data.reshape(tuple(int(d) for d in dims))


def candidate_folders(name: str, data_dir: Path) -> list[Path]:
    subfolders, system, _ = SOURCES[name]
    folders = [data_dir] + [data_dir / sub for sub in subfolders]
    return folders + ([system] if system else [])


def find_files(name: str, data_dir: Path) -> Path | None:
    """The first folder that holds all four IDX files, or None."""
    for folder in candidate_folders(name, data_dir):
        if all((folder / f).is_file() for f in FILES.values()):
            return folder
    return None


def _download(name: str, data_dir: Path) -> Path:
    import torchvision.datasets as tvd

    klass = getattr(tvd, SOURCES[name][2])
    try:
        klass(root=str(data_dir), train=True, download=True)
        klass(root=str(data_dir), train=False, download=True)
    except Exception as exc:  # any network or disk failure means: not available here
        looked = ", ".join(str(p) for p in candidate_folders(name, data_dir))
        hint = (" On Debian: apt-get install dataset-fashion-mnist." if name == "fashion-mnist" else "")
        raise DatasetUnavailable(
            f"{name} is not on this machine (looked in {looked}) and could not be downloaded "
            f"({type(exc).__name__}: this machine may be offline). Put the four IDX .gz files "
            f"({', '.join(FILES.values())}) in $GENLAB_DATA/{name}/, or run once online.{hint}"
        ) from exc
    return data_dir / SOURCES[name][0][1]


def load_idx_dataset(name: str, data_dir: Path, download: bool = True) -> Dataset:
    folder = find_files(name, data_dir)
    if folder is None:
        if not download:
            raise DatasetUnavailable(f"{name} is not on this machine")
        folder = _download(name, data_dir)
    arrays = {key: read_idx(folder / fname) for key, fname in FILES.items()}

    def images(key: str) -> torch.Tensor:
        return torch.from_numpy(arrays[key].copy()).float().div_(255.0).unsqueeze(1)

    def labels(key: str) -> torch.Tensor:
        return torch.from_numpy(arrays[key].astype(np.int64))

    classes = FASHION_CLASSES if name == "fashion-mnist" else [str(d) for d in range(10)]
    return Dataset(name=name, kind="images", x_train=images("train_images"),
                   y_train=labels("train_labels"), x_test=images("test_images"),
                   y_test=labels("test_labels"), classes=classes, source=str(folder))
