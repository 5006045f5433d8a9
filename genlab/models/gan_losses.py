"""GAN objectives on raw discriminator outputs (logits or critic scores).

Notation: r = D(x) on real data, f = D(G(z)) on generated data, sigma the logistic
function; each function returns a batch mean that the optimiser minimises.
"""

from __future__ import annotations

import torch
from torch.nn.functional import relu, softplus


def is_logistic(kind: str) -> bool:
    """Whether D is a classifier under this loss, so sigma(D(x)) is its probability that x is real."""
    return kind in ("minimax", "non-saturating")


def d_loss(kind: str, r: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    if is_logistic(kind):
        # Goodfellow et al. 2014: max_D E[log sigma(r)] + E[log(1 - sigma(f))];
        # -log sigma(t) = softplus(-t) and -log(1 - sigma(t)) = softplus(t).
        return softplus(-r).mean() + softplus(f).mean()
    if kind == "least-squares":
        # LSGAN (Mao et al. 2017), a=0, b=c=1: 1/2 E[(r - 1)^2] + 1/2 E[f^2].
        return 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f ** 2).mean()
    if kind == "wgan-gp":
        # WGAN critic (Arjovsky et al. 2017): min E[f] - E[r]; the penalty is added apart.
        return f.mean() - r.mean()
    if kind == "hinge":
        # Lim & Ye 2017, Miyato et al. 2018: E[max(0, 1 - r)] + E[max(0, 1 + f)].
        return relu(1 - r).mean() + relu(1 + f).mean()
    raise ValueError(f"unknown GAN loss {kind!r}")


def g_loss(kind: str, f: torch.Tensor) -> torch.Tensor:
    if kind == "minimax":
        # The saturating original: min_G E[log(1 - sigma(f))] = -E[softplus(f)].
        return -softplus(f).mean()
    if kind == "non-saturating":
        # The practical variant: max_G E[log sigma(f)], i.e. min E[softplus(-f)].
        return softplus(-f).mean()
    if kind == "least-squares":
        # 1/2 E[(f - 1)^2]
        return 0.5 * ((f - 1) ** 2).mean()
    if kind in ("wgan-gp", "hinge"):
        # Both raise the critic's score of generated data: min -E[f].
        return -f.mean()
    raise ValueError(f"unknown GAN loss {kind!r}")


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, labels, noise_rng: torch.Generator):
    """WGAN-GP (Gulrajani et al. 2017): E[(||grad_x D(x_hat)||_2 - 1)^2], with
    x_hat = eps * x + (1 - eps) * G(z) and eps ~ U[0, 1] per sample."""
    eps_shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    eps = torch.rand(eps_shape, device=real.device, generator=noise_rng)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat, labels).sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def r1_penalty(r: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): E[||grad_x D(x)||^2] on real data; `real` must
    require grad and `r` be computed from it. The caller scales it by gamma / 2."""
    (grad,) = torch.autograd.grad(r.sum(), real, create_graph=True)
    return grad.flatten(1).pow(2).sum(dim=1).mean()
