"""#16: the latent prior (normal, uniform) and the truncation trick, by known answers."""

import math

import pytest
import torch

from genlab.config import ConfigError, validate
from genlab.models.priors import seeded_codes, shape_noise, standard_normal_cdf
from genlab.presets import make_config


def test_a_uniform_prior_lies_in_the_cube_with_the_uniform_moments():
    z = seeded_codes(20_000, 4, seed=0, prior="uniform")
    assert z.min() >= -1 and z.max() <= 1
    assert abs(z.mean()) < 0.01 and abs(z.var() - 1 / 3) < 0.01  # U(-1, 1): mean 0, variance 1/3


@pytest.mark.parametrize("t", [0.5, 1.0, 2.0])
def test_truncation_bounds_every_coordinate_with_the_truncated_normal_variance(t):
    z = seeded_codes(40_000, 4, seed=1, truncation=t)
    assert z.abs().max() <= t
    # Var of N(0, 1) restricted to [-t, t] = 1 - 2 t phi(t) / (2 Phi(t) - 1)
    phi = math.exp(-t * t / 2) / math.sqrt(2 * math.pi)
    mass = 2 * float(standard_normal_cdf(torch.tensor(t))) - 1
    assert z.var().item() == pytest.approx(1 - 2 * t * phi / mass, rel=0.02)


def test_one_seed_gives_corresponding_codes_under_every_prior():
    z0 = seeded_codes(1000, 8, seed=7)
    assert torch.equal(z0, torch.randn(1000, 8, generator=torch.Generator().manual_seed(7)))
    assert torch.allclose(seeded_codes(1000, 8, seed=7, truncation=9.0), z0, atol=1e-4)  # far truncation: itself
    order = z0.argsort(0)  # the maps keep each coordinate's order
    assert torch.equal(seeded_codes(1000, 8, seed=7, prior="uniform").argsort(0), order)
    assert torch.equal(shape_noise(z0, truncation=1.0).argsort(0), order)


def test_a_gan_trains_and_samples_from_its_prior():
    from genlab.models import build_model

    config = make_config("gan", "ring", prior="uniform")
    model = build_model(config.model, (2,), 0)
    assert model.codes(500, seed=0).abs().max() <= 1
    normal = build_model(make_config("gan", "ring", truncation=0.5).model, (2,), 0)
    assert normal.codes(500, seed=0).abs().max() <= 0.5
    assert normal.codes(500, seed=0, truncation=2.0).abs().max() > 0.5  # a view's slider overrides the run's


@pytest.mark.parametrize("settings, message", [
    (dict(variant="vae", prior="uniform"), "VAE keeps the normal prior"),
    (dict(variant="gan", prior="cauchy"), "prior must be one of normal, uniform"),
    (dict(variant="gan", truncation=0.0), "truncation must be a number in"),
    (dict(variant="gan", prior="uniform", truncation=1.0), "normal prior only"),
])
def test_priors_that_do_not_fit_are_refused(settings, message):
    variant = settings.pop("variant")
    with pytest.raises(ConfigError, match=message):
        validate(make_config(variant, "ring", **settings))


def test_walks_leave_each_priors_typical_set_in_their_own_way():
    """The priors lesson's table: lerp shrinks a normal code's norm, slerp leaves the uniform cube."""
    from genlab.models.latent import walk_reach

    normal, uniform = walk_reach("normal", 32), walk_reach("uniform", 32)
    # E||(a + b) / 2|| / E||a|| = 1 / sqrt 2 for independent codes
    assert normal["lerp"]["midpoint_norm"] == pytest.approx(2**-0.5, abs=0.02)
    assert normal["slerp"]["midpoint_norm"] == pytest.approx(1.0, abs=0.02)
    assert uniform["lerp"]["outside_cube"] == 0.0 < uniform["slerp"]["outside_cube"]


def test_truncation_findings_say_what_the_numbers_say():
    from genlab.teaching.lessons import truncation_findings

    sweep = [{"truncation": None, "precision": 0.6, "recall": 0.5},
             {"truncation": 1.0, "precision": 0.7, "recall": 0.4},
             {"truncation": 0.5, "precision": 0.8, "recall": 0.3}]
    precision, recall = truncation_findings(sweep)
    assert precision.as_expected and "0.600 with the whole prior, 0.800 truncated at 0.5. It rose" in precision.text
    assert recall.as_expected and "It fell" in recall.text
    sweep[2]["recall"] = 0.9
    assert not truncation_findings(sweep)[1].as_expected and "against" in truncation_findings(sweep)[1].text


def test_a_model_named_by_its_loss_gets_what_the_variant_of_that_name_gets():
    """#16: `gan --loss wgan-gp` gets WGAN-GP's critic steps and optimiser, as `wgan-gp` does."""
    import dataclasses

    for dataset in ("ring", "fashion-mnist"):
        by_variant, by_loss = make_config("wgan-gp", dataset), make_config("gan", dataset, loss="wgan-gp")
        assert dataclasses.replace(by_loss.model, variant="wgan-gp") == by_variant.model
        assert by_loss.optim == by_variant.optim and by_loss.model.n_critic == 5
    sn = make_config("gan", "ring", loss="hinge", spectral_norm=True)
    assert sn.optim == make_config("hinge-sn", "ring").optim
    assert make_config("gan", "ring", loss="wgan-gp", lr=3e-3).optim.lr == 3e-3  # a setting given wins


def test_an_l1_penalty_shrinks_the_weights_it_is_put_on(runs_dir):
    from genlab.store.runs import create_run
    from genlab.store.snapshots import load_model
    from genlab.training.trainer import Trainer
    from tests.support import tiny_config

    def l1_norm(**overrides) -> float:
        run = create_run(runs_dir, tiny_config("gan", "ring", steps=60, lr=1e-2, **overrides))
        assert Trainer(run).train() == "completed"
        return sum(p.abs().sum().item() for p in load_model(run)[0].generator.parameters())

    assert l1_norm(l1_weight=0.01) < 0.8 * l1_norm()


def test_regulariser_findings_say_what_the_numbers_say():
    from genlab.teaching.lessons import late_mean, regulariser_findings

    def log(values):
        return [{"step": 25 * i, "grad_norm_d": v} for i, v in enumerate(values)]

    assert late_mean(log([9, 9, 9, 9, 1]), "grad_norm_d") == 1 and late_mean([], "grad_norm_d") is None
    evals = {"none": {"modes_captured": 20, "modes_total": 25},
             "spectral norm": {"modes_captured": 25, "modes_total": 25},
             "weight decay": {"modes_captured": 12, "modes_total": 25}}
    logs = {"none": log([5] * 10), "spectral norm": log([1] * 10), "weight decay": log([7] * 10)}
    found = regulariser_findings(evals, logs)
    texts = [f.text for f in found]
    assert [f.as_expected for f in found] == [True, True, False]
    assert texts[0].startswith("spectral norm: 25 of 25 modes captured, none: 20")
    assert "Smaller, as expected" in texts[1]
    assert "Fewer" in texts[2] and len(found) == 3  # no slope claim for weight decay
