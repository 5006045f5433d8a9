"""The dataset registry: every dataset GenLab knows, whether it is here, and its loader."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from genlab.data import cifar, idx
from genlab.data.dataset import Dataset, DatasetError, DatasetUnavailable
from genlab.data.digits import load_digits_dataset
from genlab.data.folder import load_folder
from genlab.data.toys import load_toy
from genlab.settings import data_dir

__all__ = ["DATASETS", "draws_images", "Dataset", "DatasetError", "DatasetSpec", "DatasetUnavailable",
           "availability", "data_dir", "load_dataset"]


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    kind: str  # "images" or "points"
    description: str
    shape: tuple[int, ...] | None  # None when it depends on the user's choice
    size: int | None  # train + test samples


DATASETS: dict[str, DatasetSpec] = {s.name: s for s in [
    DatasetSpec("ring", "points", "8 Gaussians on the unit circle, sigma 0.01 (PacGAN)", (2,), 110_000),
    DatasetSpec("grid", "points", "25 Gaussians on a 5x5 grid, sigma 0.05 (PacGAN)", (2,), 110_000),
    DatasetSpec("spiral", "points", "two interleaved spiral arms", (2,), 110_000),
    DatasetSpec("moons", "points", "scikit-learn's two moons", (2,), 110_000),
    DatasetSpec("digits", "images", "scikit-learn's 8x8 handwritten digits", (1, 8, 8), 1_797),
    DatasetSpec("fashion-mnist", "images", "Zalando's 28x28 clothing images", (1, 28, 28), 70_000),
    DatasetSpec("mnist", "images", "28x28 handwritten digits", (1, 28, 28), 70_000),
    DatasetSpec("cifar10", "images", "32x32 colour photos in 10 classes", (3, 32, 32), 60_000),
    DatasetSpec("folder", "images", "your own images: a folder or a .zip, resized to 28/32/64 px",
                None, None),
]}


def draws_images(name: str) -> bool:
    """Whether data of this name is images (a user's folder is; the 2-D toys are not)."""
    return name not in DATASETS or DATASETS[name].kind == "images"


def availability(name: str) -> tuple[bool, str]:
    """Whether a dataset can be loaded now without a download, and why (not)."""
    if name not in DATASETS:
        return False, f"unknown dataset; allowed: {', '.join(DATASETS)}"
    if name in ("ring", "grid", "spiral", "moons"):
        return True, "generated on the fly"
    if name == "digits":
        return True, "bundled with scikit-learn"
    if name == "folder":
        return True, "needs a path to your images"
    folder = cifar.find_folder(data_dir()) if name == "cifar10" else idx.find_files(name, data_dir())
    if folder is not None:
        return True, f"found in {folder}"
    hint = " (apt-get install dataset-fashion-mnist)" if name == "fashion-mnist" else ""
    return False, f"not on this machine; downloads into {data_dir()} when online{hint}"


@functools.lru_cache(maxsize=4)
def _load_builtin(name: str, directory: Path, download: bool) -> Dataset:
    if name in ("ring", "grid", "spiral", "moons"):
        return load_toy(name)
    if name == "digits":
        return load_digits_dataset()
    if name == "cifar10":
        return cifar.load_cifar10(directory, download)
    return idx.load_idx_dataset(name, directory, download)


def load_dataset(name: str, path: str | None = None, image_size: int = 28, color: str = "grey",
                 download: bool = True) -> Dataset:
    """Load a dataset into memory. Built-in datasets are cached per process and shared:
    treat their tensors as read-only."""
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; allowed: {', '.join(DATASETS)}")
    if name == "folder":
        if not path:
            raise DatasetError("the folder dataset needs a path to a folder or a .zip of images")
        return load_folder(path, image_size=image_size, color=color)
    return _load_builtin(name, data_dir(), download)
