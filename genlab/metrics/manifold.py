"""Precision, recall, density and coverage from k-nearest-neighbour balls.

Precision and recall as defined by Kynkaanniemi et al. 2019; density and coverage by
Naeem et al. 2020. With NND_k(x) the distance from x to its k-th nearest neighbour within
its own set, and B(x, r) the ball of radius r around x:

    precision = 1/M sum_j 1[exists i: Y_j in B(X_i, NND_k(X_i))]
    recall    = 1/N sum_i 1[exists j: X_i in B(Y_j, NND_k(Y_j))]
    density   = 1/(k M) sum_j sum_i 1[Y_j in B(X_i, NND_k(X_i))]
    coverage  = 1/N sum_i 1[exists j: Y_j in B(X_i, NND_k(X_i))]

for N real samples X and M generated samples Y.
"""

from __future__ import annotations

import torch


def kth_neighbour_radius(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each point to its k-th nearest other point of the same set."""
    d = torch.cdist(x, x)
    return d.kthvalue(k + 1, dim=1).values  # +1: the point itself is at distance 0


def prdc(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> dict[str, float]:
    real, fake = real.double(), fake.double()
    r_real, r_fake = kth_neighbour_radius(real, k), kth_neighbour_radius(fake, k)
    d = torch.cdist(real, fake)  # [N, M]
    inside_real = d < r_real[:, None]  # fake j inside the ball of real i
    inside_fake = d < r_fake[None, :]  # real i inside the ball of fake j
    return {
        "precision": inside_real.any(dim=0).double().mean().item(),
        "recall": inside_fake.any(dim=1).double().mean().item(),
        "density": (inside_real.sum(dim=0).double() / k).mean().item(),
        "coverage": inside_real.any(dim=1).double().mean().item(),
    }
