"""CIFAR-10 from its binary release (never the pickled Python one: nothing read from
disk is unpickled). Each record is 1 label byte followed by 3x32x32 pixel bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from genlab.data.dataset import Dataset, DatasetError, DatasetUnavailable

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
FOLDER = "cifar-10-batches-bin"
TRAIN = [f"data_batch_{i}.bin" for i in range(1, 6)]
TEST = ["test_batch.bin"]
CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck"]
RECORD = 1 + 3 * 32 * 32


def find_folder(data_dir: Path) -> Path | None:
    folder = data_dir / FOLDER
    return folder if all((folder / f).is_file() for f in TRAIN + TEST) else None


def _read(paths: list[Path]) -> tuple[torch.Tensor, torch.Tensor]:
    raw = np.concatenate([np.fromfile(p, dtype=np.uint8) for p in paths])
    if raw.size % RECORD:
        raise DatasetError(f"CIFAR-10 files in {paths[0].parent} are truncated")
    records = raw.reshape(-1, RECORD)
    images = torch.from_numpy(records[:, 1:].reshape(-1, 3, 32, 32).copy()).float().div_(255.0)
    return images, torch.from_numpy(records[:, 0].astype(np.int64))


def load_cifar10(data_dir: Path, download: bool = True) -> Dataset:
    folder = find_folder(data_dir)
    if folder is None:
        if not download:
            raise DatasetUnavailable("cifar10 is not on this machine")
        from torchvision.datasets.utils import download_and_extract_archive

        try:
            download_and_extract_archive(URL, download_root=str(data_dir))
        except Exception as exc:
            raise DatasetUnavailable(
                f"cifar10 is not in {data_dir / FOLDER} and could not be downloaded "
                f"({type(exc).__name__}: this machine may be offline). Put the binary release's "
                f"files ({', '.join(TRAIN + TEST)}) in that folder, or run once online."
            ) from exc
        folder = data_dir / FOLDER
    x_train, y_train = _read([folder / f for f in TRAIN])
    x_test, y_test = _read([folder / f for f in TEST])
    return Dataset(name="cifar10", kind="images", x_train=x_train, y_train=y_train,
                   x_test=x_test, y_test=y_test, classes=CLASSES, source=str(folder))
