"""Mini-batches for the hot loop: index slices of tensors already on the training device."""

from __future__ import annotations

import torch

from genlab.config import ConfigError


class BatchSampler:
    """Shuffled mini-batches as index slices of tensors already on the device.

    Draw k comes from epoch k // batches_per_epoch, whose permutation is seeded by
    (seed, epoch): the whole stream is a function of the draw counter, so resuming
    needs only that counter. The last partial batch of an epoch is dropped.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor | None, batch_size: int, seed: int):
        if batch_size > len(x):
            raise ConfigError(f"batch size {batch_size} is larger than the {len(x)} training samples")
        self.x, self.y, self.batch_size, self.seed = x, y, batch_size, seed
        self.per_epoch = len(x) // batch_size
        self.draws = 0
        self._epoch, self._perm = -1, None

    def draw(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The next batch (x, y); y is None for unlabelled data."""
        epoch, i = divmod(self.draws, self.per_epoch)
        if epoch != self._epoch:
            rng = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perm = torch.randperm(len(self.x), generator=rng).to(self.x.device)
            self._epoch = epoch
        idx = self._perm[i * self.batch_size:(i + 1) * self.batch_size]
        self.draws += 1
        return self.x[idx], (self.y[idx] if self.y is not None else None)
