"""Discriminator rejection sampling (Azadi et al. 2019): a trained GAN's samples,
reweighted towards the data by a classifier's estimate of p_data / p_g.

Used by benchmarks/mode_collapse.py --drs; the app and the command line do not offer it.

A classifier trained with the logistic loss to tell real data (label 1) from the
generator's samples (label 0) tends to D*(x) = p_data(x) / (p_data(x) + p_g(x)), whose
logit is log p_data(x) / p_g(x). Accepting a generated x with probability
exp(logit(x) - M) turns p_g into p_data wherever M bounds the logit: rejection sampling
with p_g as the proposal. Samples the generator puts between modes, where p_data is
nearly 0, are almost always rejected; modes it under-fills are kept whole. It cannot add
a mode the generator never visits.

The classifier here is fresh (the GAN's own critic architecture, trained against the
frozen generator), so any snapshot can be refined, including ones stored without their
discriminator. M is a high quantile of the logits rather than their maximum: a few
samples in barely-visited places would otherwise set M so high that almost nothing is
accepted (the paper shifts its acceptance for the same reason).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch.nn.functional import softplus

from genlab.config import SEED_MAX
from genlab.models.gan import GAN, Discriminator

MAX_DRAWS_PER_SAMPLE = 200  # give up when fewer than 1 in 200 candidates is accepted


def candidates(model: GAN, n: int, rng: torch.Generator) -> torch.Tensor:
    """n samples of the generator from codes of its own prior (model.codes), each batch from
    a seed drawn from `rng`, so the whole stream follows from the caller's seed."""
    seed = int(torch.randint(SEED_MAX, (1,), generator=rng))
    return model.generate(model.codes(n, seed))


class RejectionError(ValueError):
    """The sampler cannot be fitted or accepts (almost) nothing."""


@dataclass
class RejectionSampler:
    """A GAN plus a classifier of real vs generated and the ceiling M of its logits."""

    model: GAN
    critic: Discriminator
    ceiling: float

    @torch.no_grad()
    def log_ratio(self, x: torch.Tensor) -> torch.Tensor:
        """The classifier's estimate of log p_data(x) / p_g(x)."""
        return self.critic(x.to(self.model.device), None)

    @torch.no_grad()
    def sample(self, n: int, seed: int, chunk: int = 4096) -> tuple[torch.Tensor, float]:
        """n accepted samples and the share of candidates accepted."""
        rng = torch.Generator().manual_seed(seed)
        kept: list[torch.Tensor] = []
        accepted = drawn = 0
        while accepted < n:
            if drawn >= MAX_DRAWS_PER_SAMPLE * n:
                raise RejectionError(f"only {accepted} of {drawn} candidates were accepted; "
                                     "the classifier finds almost no generated sample realistic")
            x = candidates(self.model, chunk, rng)
            # accept with probability min(1, exp(log p_data/p_g - M))
            keep_prob = torch.exp(self.log_ratio(x) - self.ceiling).clamp(max=1.0)
            keep = torch.rand(chunk, generator=rng).to(keep_prob.device) < keep_prob
            kept.append(x[keep])
            accepted += int(keep.sum())
            drawn += chunk
        return torch.cat(kept)[:n], accepted / drawn


def fit_rejection_sampler(model: GAN, real: torch.Tensor, steps: int = 2000, batch_size: int = 512,
                          lr: float = 1e-3, quantile: float = 0.95, seed: int = 0) -> RejectionSampler:
    """Train a classifier of `real` (data space, as the model samples) against the frozen
    generator, then set the ceiling M to the `quantile` of its logits on generated samples."""
    if model.family != "gan":
        raise RejectionError("rejection sampling needs a GAN; a VAE's samples have no discriminator")
    if not 0 < quantile <= 1:
        raise RejectionError(f"the quantile must be in (0, 1], not {quantile}")
    if len(real) < 2:
        raise RejectionError("rejection sampling needs real data to compare against")
    device = model.device
    model.eval()
    with torch.random.fork_rng(devices=[]):  # leave the caller's random stream alone
        torch.manual_seed(seed)
        critic = Discriminator(replace(model.config, pack=1, spectral_norm=False, conditional=False),
                              model.data_shape, 0).to(device)
    optimizer = torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.999))
    rng = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = real[torch.randint(len(real), (batch_size,), generator=rng)].to(device)
        with torch.no_grad():
            fake = candidates(model, batch_size, rng)
        # The logistic loss E_data[-log sigma(D(x))] + E_g[-log(1 - sigma(D(x)))]; its
        # minimiser has logit D(x) = log p_data(x) / p_g(x).
        loss = softplus(-critic(x, None)).mean() + softplus(critic(fake, None)).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    critic.eval()
    with torch.no_grad():
        pool = candidates(model, 10_000, rng)
        ceiling = float(torch.quantile(critic(pool, None).float().cpu(), quantile))
    return RejectionSampler(model, critic, ceiling)
