"""2-D toy distributions, generated from a seed.

`ring` and `grid` follow the PacGAN protocol (Lin et al. 2018): 8 Gaussians with
standard deviation 0.01 at angles 2*pi*k/8 on the unit circle, and 25 Gaussians with
standard deviation 0.05 centred on {-4, -2, 0, 2, 4}^2. The label of a point is its mode.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from genlab.data.dataset import Dataset

N_TRAIN = 100_000
N_TEST = 10_000


def ring_modes() -> torch.Tensor:
    angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    return torch.stack([angles.cos(), angles.sin()], dim=1).float()


def grid_modes() -> torch.Tensor:
    ticks = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
    return torch.cartesian_prod(ticks, ticks)


def _mixture(modes: torch.Tensor, std: float, n: int, rng: torch.Generator):
    labels = torch.randint(len(modes), (n,), generator=rng)
    return modes[labels] + std * torch.randn(n, 2, generator=rng), labels


def _spiral(n: int, rng: torch.Generator):
    # Two interleaved arms: radius grows with the angle, r = 2 * theta / (3 pi).
    arm = torch.randint(2, (n,), generator=rng)
    theta = 3 * math.pi * torch.rand(n, generator=rng).sqrt()
    radius = 2 * theta / (3 * math.pi)
    angle = theta + math.pi * arm
    points = torch.stack([radius * angle.cos(), radius * angle.sin()], dim=1)
    return points + 0.02 * torch.randn(n, 2, generator=rng), arm


def _moons(n: int, seed: int):
    from sklearn.datasets import make_moons  # imported here: scikit-learn is slow to import

    x, y = make_moons(n_samples=n, noise=0.05, random_state=seed)
    # Centre the two moons on the origin.
    x = (x - np.array([0.5, 0.25])).astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(y).long()


def load_toy(name: str, seed: int = 0) -> Dataset:
    """Generate a toy dataset; train and test come from different seeds."""
    modes, std, classes = None, None, None

    def draw(n: int, s: int):
        rng = torch.Generator().manual_seed(s)
        if name == "ring":
            return _mixture(ring_modes(), 0.01, n, rng)
        if name == "grid":
            return _mixture(grid_modes(), 0.05, n, rng)
        if name == "spiral":
            return _spiral(n, rng)
        return _moons(n, s)

    x_train, y_train = draw(N_TRAIN, seed)
    x_test, y_test = draw(N_TEST, seed + 1)
    if name in ("ring", "grid"):
        modes = ring_modes() if name == "ring" else grid_modes()
        std = 0.01 if name == "ring" else 0.05
        classes = [f"mode {k}" for k in range(len(modes))]
    else:
        classes = ["arm 0", "arm 1"] if name == "spiral" else ["upper moon", "lower moon"]
    return Dataset(name=name, kind="points", x_train=x_train.float(), y_train=y_train,
                   x_test=x_test.float(), y_test=y_test, classes=classes,
                   source=f"generated from seed {seed}",
                   modes=modes, mode_std=std)
