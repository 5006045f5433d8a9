"""Discriminator rejection sampling on a generator whose distribution is known exactly."""

import math

import pytest
import torch
from torch import nn

from benchmarks.rejection import RejectionError, fit_rejection_sampler
from genlab.data import load_dataset
from genlab.metrics.modes import mode_coverage
from genlab.models import build_model
from genlab.presets import make_config

# One xdist worker fits the module's sampler once (split across two workers, each fitted it).
pytestmark = pytest.mark.xdist_group("rejection")

ON_MODE = 0.7


class KnownGenerator(nn.Module):
    """p_g, a function of a 4-D standard normal z: with probability 0.7 (z1) a ring mode
    chosen uniformly (z0) plus N(0, 0.01^2) noise (z2, z3), otherwise a point uniform on
    [-1.5, 1.5]^2 (z2, z3 pushed through the normal CDF)."""

    def __init__(self, modes: torch.Tensor):
        super().__init__()
        self.register_buffer("modes", modes)

    def forward(self, z: torch.Tensor, cond) -> torch.Tensor:
        u = torch.special.ndtr(z)
        mode = self.modes[(u[:, 0] * len(self.modes)).long().clamp(max=len(self.modes) - 1)]
        on_mode = (u[:, 1] < ON_MODE).unsqueeze(1)
        return torch.where(on_mode, mode + 0.01 * z[:, 2:], 3.0 * u[:, 2:] - 1.5)


def known_gan():
    ring = load_dataset("ring")
    config = make_config("gan", "ring", latent_dim=4, hidden=128, depth=3).model
    model = build_model(config, (2,), 0)
    model.generator = KnownGenerator(ring.modes)
    return model.eval(), ring


@pytest.fixture(scope="module")
def fitted():
    model, ring = known_gan()
    return model, ring, fit_rejection_sampler(model, ring.x_train, steps=1500, batch_size=256, seed=0)


@pytest.mark.slow  # trains a classifier for seconds
def test_rejection_removes_the_off_mode_samples_and_keeps_every_mode(fitted):
    model, ring, sampler = fitted
    raw = mode_coverage(model.sample(2500, seed=1), ring.modes, ring.mode_std)
    # The uniform part's share of the 3-sigma discs is negligible: 8 pi 0.03^2 / 9 = 0.25%.
    assert raw["high_quality"] == pytest.approx(ON_MODE + 0.3 * 8 * math.pi * 0.03 ** 2 / 9, abs=0.03)

    refined, acceptance = sampler.sample(2500, seed=1)
    result = mode_coverage(refined, ring.modes, ring.mode_std)
    assert len(refined) == 2500
    assert result["modes_captured"] == 8
    assert result["high_quality"] > 0.94
    # Rejection keeps the on-mode samples (70% of candidates), so acceptance is near 0.7.
    assert 0.5 < acceptance < 0.9
    # and it keeps the modes balanced: each holds close to its eighth
    assert min(result["per_mode"]) > 0.5 * 2500 / 8


@pytest.mark.slow
def test_the_log_ratio_separates_data_from_the_generators_excess(fitted):
    _, ring, sampler = fitted
    on_mode = ring.modes[:4]
    between = torch.tensor([[0.0, 0.0], [1.2, -1.2], [-0.7, 0.0], [0.0, 1.4]])
    # On a mode p_data / p_g is about 1 / 0.7; between modes p_data is ~0 and p_g uniform.
    assert sampler.log_ratio(on_mode).min() > sampler.log_ratio(between).max() + 3


@pytest.mark.slow
def test_rejection_refuses_a_vae_and_reports_a_sampler_that_accepts_nothing():
    vae = build_model(make_config("vae", "ring").model, (2,), 0)
    with pytest.raises(RejectionError, match="needs a GAN"):
        fit_rejection_sampler(vae, torch.zeros(10, 2))
    model, ring = known_gan()
    sampler = fit_rejection_sampler(model, ring.x_train, steps=10, seed=0)
    sampler.ceiling = 1e3  # no logit comes near it: nothing is accepted
    with pytest.raises(RejectionError, match="candidates were accepted"):
        sampler.sample(10, seed=0, chunk=500)


class Recording(nn.Module):
    """A generator that keeps every code it is given (and returns its first two coordinates)."""

    def __init__(self):
        super().__init__()
        self.seen: list[torch.Tensor] = []

    def forward(self, z: torch.Tensor, cond) -> torch.Tensor:
        self.seen.append(z.detach().cpu())
        return z[:, :2]


def test_rejection_draws_codes_from_the_models_own_prior():
    """A uniform-prior GAN's candidates come from codes in [-1, 1]^d, as its samples do (the
    sampler once drew torch.randn whatever the prior)."""
    config = make_config("gan", "ring", latent_dim=4, hidden=16, depth=1, prior="uniform").model
    model = build_model(config, (2,), 0).eval()
    model.generator = Recording()
    sampler = fit_rejection_sampler(model, load_dataset("ring").x_train, steps=3, batch_size=64, seed=0)
    sampler.ceiling = -1e3  # accept every candidate
    sampler.sample(100, seed=0, chunk=200)
    codes = torch.cat(model.generator.seen)
    assert len(codes) == 3 * 64 + 10_000 + 200
    assert codes.abs().max() <= 1.0
    assert codes.std() == pytest.approx(1 / math.sqrt(3), abs=0.02)  # uniform on [-1, 1], not N(0, 1)
