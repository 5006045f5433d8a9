"""The in-memory dataset every loader returns, and the errors loaders raise."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch


class DatasetError(ValueError):
    """The data given is unusable (a bad file, a refused archive); the message says why."""


class DatasetUnavailable(RuntimeError):
    """The dataset is not on this machine and cannot be fetched; the message says how to get it."""


@dataclass
class Dataset:
    """A dataset held in memory as tensors, split into train and test.

    Images are float32 [N, C, H, W] in [0, 1]; 2-D points are float32 [N, 2].
    Labels are int64 [N], or None for unlabelled data.
    """

    name: str
    kind: str  # "images" or "points"
    x_train: torch.Tensor
    y_train: torch.Tensor | None
    x_test: torch.Tensor
    y_test: torch.Tensor | None
    classes: list[str] | None
    source: str
    # Mixture-of-Gaussians toys know their true modes; the mode-coverage metric needs them.
    modes: torch.Tensor | None = None
    mode_std: float | None = None
    notes: dict[str, int] = field(default_factory=dict)
    # A dataset cut to its first n training samples (first_train) keeps the whole one here:
    # the evaluator and the real-vs-real floors use the whole training split.
    whole: Dataset | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one sample: (C, H, W) for images, (2,) for points."""
        return tuple(self.x_train.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.classes) if self.classes else 0

    def first_train(self, n: int) -> Dataset:
        """This dataset with only its first n training samples (the test split is kept)."""
        if not 1 <= n <= len(self.x_train):
            raise DatasetError(f"a training subset must be between 1 and the {len(self.x_train):,} training "
                               f"samples of {self.name}, not {n:,}")
        y = self.y_train[:n] if self.y_train is not None else None
        return replace(self, x_train=self.x_train[:n], y_train=y, whole=self.whole or self)

    def info(self) -> dict:
        """What a run records of its data (dataset.json): no tensors, only their description."""
        return {"name": self.name, "kind": self.kind, "shape": list(self.shape), "classes": self.classes,
                "source": self.source, "n_train": len(self.x_train), "n_test": len(self.x_test),
                "notes": self.notes}
