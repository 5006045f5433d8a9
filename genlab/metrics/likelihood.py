"""How well a VAE explains held-out data: the ELBO and the importance-weighted bound.

For a test point x, with q(z|x) the encoder's Gaussian and z_1..z_k drawn from it:

    ELBO(x)   = E_q[log p(x|z)] - KL(q(z|x) || p(z))                        <= log p(x)
    IWAE_k(x) = E[log 1/k sum_i p(x|z_i) p(z_i) / q(z_i|x)]   (Burda et al. 2016)

IWAE_1 is the ELBO, and IWAE_k grows towards log p(x) as k grows. A Bernoulli decoder on
grey levels in [0, 1] gives a bound on a "likelihood" that is not a normalised density of
continuous pixels, so compare such numbers only between runs of the same data and decoder.
"""

from __future__ import annotations

import math

import torch

from genlab.models.vae import VAE


def _log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    # log N(z; mu, diag(exp(logvar))), summed over dimensions
    return (-0.5 * (math.log(2 * math.pi) + logvar + (z - mu) ** 2 / logvar.exp())).sum(-1)


@torch.no_grad()
def elbo_terms(model: VAE, x: torch.Tensor, labels: torch.Tensor | None = None, seed: int = 0) -> dict[str, float]:
    """Mean test ELBO with its reconstruction and KL parts (one z per point), in nats,
    and the mean squared error of reconstructions from the posterior mean."""
    model.eval()
    terms = model.loss_function(x, labels, torch.Generator(x.device).manual_seed(seed))
    mse = ((model.reconstruct(x, labels) - x) ** 2).flatten(1).mean(1)
    return {"elbo": -terms["loss"].item(), "recon": terms["recon"].item(), "kl": terms["kl"].item(),
            "recon_mse": mse.mean().item()}


@torch.no_grad()
def iwae_bound(model: VAE, x: torch.Tensor, k: int, labels: torch.Tensor | None = None, seed: int = 0) -> float:
    """The mean IWAE_k lower bound on log p(x) of the points in x, in nats."""
    model.eval()
    noise_rng = torch.Generator(x.device).manual_seed(seed)
    mu, logvar = model.encode(x, labels)
    cond = model.one_hot(labels, len(x))
    log_w = []
    for _ in range(k):
        z = model.reparameterize(mu, logvar, noise_rng)
        log_px_z = -model.neg_log_likelihood(model.decoder(z, cond), x)
        log_pz = _log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
        # log w = log p(x|z) + log p(z) - log q(z|x)
        log_w.append(log_px_z + log_pz - _log_normal(z, mu, logvar))
    return (torch.logsumexp(torch.stack(log_w), dim=0) - math.log(k)).mean().item()
