"""The latent prior p(z) a generator draws from, and the truncation trick.

Every code starts as standard normal noise z0 from its seed (on the CPU, so a seed means the
same code on every device). The other priors are z0 mapped coordinate by coordinate through
the normal CDF Phi, so one seed gives corresponding codes under every prior:

    uniform on [-1, 1]:           z = 2 Phi(z0) - 1
    normal truncated at t:        z = Phi^-1( Phi(-t) + Phi(z0) (Phi(t) - Phi(-t)) )

The second is exactly the normal distribution restricted to [-t, t] (inverse-CDF sampling of
the uniform u = Phi(z0)), and tends to z0 as t grows: the truncation trick (Brock et al. 2019)
trades variety for quality by keeping codes near the mode, at sampling time only.
"""

from __future__ import annotations

import math

import torch

from genlab.config import PRIORS


def standard_normal_cdf(z: torch.Tensor) -> torch.Tensor:
    # Phi(z) = (1 + erf(z / sqrt 2)) / 2
    return 0.5 * (1 + torch.erf(z / math.sqrt(2)))


def standard_normal_icdf(u: torch.Tensor) -> torch.Tensor:
    # Phi^-1(u) = sqrt 2 erfinv(2u - 1)
    return math.sqrt(2) * torch.erfinv(2 * u - 1)


def shape_noise(z0: torch.Tensor, prior: str = "normal", truncation: float | None = None) -> torch.Tensor:
    """Standard normal noise `z0` as codes of `prior`, truncated at `truncation` (normal only)."""
    if prior == "uniform":
        return 2 * standard_normal_cdf(z0) - 1
    if prior != "normal":
        raise ValueError(f"unknown prior {prior!r}; allowed: {', '.join(PRIORS)}")
    if truncation is None:
        return z0
    low = standard_normal_cdf(torch.tensor(-float(truncation), dtype=torch.float64))
    u = low + standard_normal_cdf(z0.double()) * (1 - 2 * low)
    # clamp: float rounding must not step outside [-t, t]
    return standard_normal_icdf(u).clamp(-truncation, truncation).to(z0.dtype)


def seeded_codes(n: int, latent_dim: int, seed: int, prior: str = "normal",
                 truncation: float | None = None) -> torch.Tensor:
    """n codes of the prior from a seed, drawn on the CPU."""
    z0 = torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(seed))
    return shape_noise(z0, prior, truncation)


def training_codes(n: int, latent_dim: int, prior: str, generator: torch.Generator,
                   device: torch.device) -> torch.Tensor:
    """A training batch of codes from the run's noise generator (never truncated: the
    generator learns the whole prior)."""
    return shape_noise(torch.randn(n, latent_dim, device=device, generator=generator), prior)
