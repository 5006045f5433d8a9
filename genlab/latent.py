"""Walks through latent space: linear and spherical interpolation between two codes."""

from __future__ import annotations

import torch


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(1 - t) a + t b for each t (a column [K, 1] of weights in [0, 1])."""
    return (1 - t) * a + t * b


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation (Shoemake 1985; White 2016 for GANs): with omega the angle
    between a and b, sin((1 - t) omega) / sin(omega) a + sin(t omega) / sin(omega) b.
    Under a Gaussian prior it keeps the norm of intermediate codes typical, unlike lerp.
    Nearly parallel codes fall back to lerp."""
    cos = torch.nn.functional.cosine_similarity(a, b, dim=-1).clamp(-1, 1)
    omega = torch.arccos(cos)
    if float(omega.abs().max()) < 1e-4:
        return lerp(a, b, t)
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b


def interpolate(a: torch.Tensor, b: torch.Tensor, steps: int, spherical: bool = False) -> torch.Tensor:
    """`steps` codes from a to b inclusive, as rows [steps, D]."""
    t = torch.linspace(0, 1, steps, dtype=a.dtype, device=a.device).unsqueeze(1)
    a, b = a.reshape(1, -1), b.reshape(1, -1)
    return slerp(a, b, t) if spherical else lerp(a, b, t)
