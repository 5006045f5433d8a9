"""scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download)."""

from __future__ import annotations

import torch

from genlab.data.dataset import Dataset

N_TEST = 297


def load_digits_dataset() -> Dataset:
    from sklearn.datasets import load_digits  # imported here: scikit-learn is slow to import

    bunch = load_digits()
    # Pixel values are counts 0..16; scale to [0, 1].
    images = torch.from_numpy(bunch.images).float().div(16.0).unsqueeze(1)
    labels = torch.from_numpy(bunch.target).long()
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    test, train = order[:N_TEST], order[N_TEST:]
    return Dataset(name="digits", kind="images", x_train=images[train], y_train=labels[train],
                   x_test=images[test], y_test=labels[test],
                   classes=[str(d) for d in range(10)], source="scikit-learn's bundled copy")
