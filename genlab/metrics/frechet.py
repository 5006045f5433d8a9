"""Distances between two sets of feature vectors: FID and KID.

Both are computed in the feature space of GenLab's own evaluator classifier (see
evaluator.py), not Inception's: no weights need downloading, and the numbers are
comparable between runs on the same dataset but not with published Inception FIDs.
"""

from __future__ import annotations

import torch


def mean_cov(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    f = features.double()
    return f.mean(0), torch.cov(f.T)


def frechet_distance(mu1: torch.Tensor, cov1: torch.Tensor, mu2: torch.Tensor, cov2: torch.Tensor) -> float:
    """Frechet distance between N(mu1, cov1) and N(mu2, cov2) (Dowson & Landau 1982):
    ||mu1 - mu2||^2 + tr(cov1) + tr(cov2) - 2 tr((cov1 cov2)^(1/2)).
    tr((cov1 cov2)^(1/2)) = sum of sqrt of the eigenvalues of cov1^(1/2) cov2 cov1^(1/2),
    a symmetric PSD matrix, so a symmetric eigensolver gives it stably."""
    w, v = torch.linalg.eigh(cov1.double())
    root1 = (v * w.clamp(min=0).sqrt()) @ v.T
    middle = root1 @ cov2.double() @ root1
    trace_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    diff = mu1.double() - mu2.double()
    return float(diff @ diff + torch.trace(cov1.double()) + torch.trace(cov2.double()) - 2 * trace_sqrt)


def fid(real: torch.Tensor, fake: torch.Tensor) -> float:
    """FID between two feature sets [N, D]."""
    return frechet_distance(*mean_cov(real), *mean_cov(fake))


KID_SUBSET = 1000  # images per KID subset


def kid(real: torch.Tensor, fake: torch.Tensor, subsets: int = 10, subset_size: int = KID_SUBSET,
        seed: int = 0) -> tuple[float, float | None]:
    """Kernel Inception Distance (Binkowski et al. 2018): the unbiased estimate of MMD^2 with
    the kernel k(x, y) = (x . y / d + 1)^3, averaged over random subsets; returns the mean and
    the population standard deviation over the subsets (as the Inception Score's spread, and
    as torchmetrics and torch-fidelity report it), all in float64. When both sets fit in one
    subset, every subset is the whole of both and the spread is None: there is none to show.

    MMD^2_u = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (m (m - 1))
              - 2 sum_{i, j} k(x_i, y_j) / m^2
    """
    rng = torch.Generator().manual_seed(seed)
    m = min(subset_size, len(real), len(fake))
    whole = len(real) <= m and len(fake) <= m
    values = []
    for _ in range(1 if whole else subsets):
        x = real[torch.randperm(len(real), generator=rng)[:m]].double()
        y = fake[torch.randperm(len(fake), generator=rng)[:m]].double()
        values.append(_mmd2_unbiased(x, y))
    t = torch.stack(values)
    return t.mean().item(), (None if whole else t.std(unbiased=False).item())


def _mmd2_unbiased(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """MMD^2_u above, for two float64 sets of m features each."""
    m, d = x.shape
    kxx, kyy, kxy = ((a @ b.T / d + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
    off = m * (m - 1)
    return (kxx.sum() - kxx.diag().sum()) / off + (kyy.sum() - kyy.diag().sum()) / off - 2 * kxy.mean()
