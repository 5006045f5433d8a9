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


def test_the_truncation_chart_marks_the_chosen_threshold_at_its_value_and_plots_the_whole_prior():
    """The marker sat at the chosen threshold's index (at "none" on x = 0, which reads as full
    truncation) and the whole prior's point was not drawn."""
    from genlab.views.figures import truncation_figure

    rows = [{"truncation": t, "precision": p, "recall": r, "fid": 1.0}
            for t, p, r in [(None, 0.80, 0.87), (2.0, 0.82, 0.80), (1.0, 0.85, 0.60), (0.25, 0.90, 0.20)]]
    for chosen, x in [(None, 3.0), (0.25, 0.25), (1.0, 1.0), (2.0, 2.0)]:
        fig = truncation_figure(rows, chosen)
        [marker] = fig.layout.shapes
        assert marker.x0 == marker.x1 == x, chosen
    lines = {t.name: t for t in fig.data}
    assert list(lines["precision"].x) == [0.25, 1.0, 2.0] and list(lines["recall"].y) == [0.20, 0.60, 0.80]
    assert list(lines["precision, whole prior"].x) == [3.0] and list(lines["precision, whole prior"].y) == [0.80]
    assert list(lines["recall, whole prior"].y) == [0.87]
    assert fig.layout.xaxis.range[0] == 0 and list(fig.layout.xaxis.ticktext) == ["0.25", "1", "2", "none"]


def test_truncation_findings_say_what_the_numbers_say():
    from genlab.teaching.lessons import truncation_findings

    sweep = [{"truncation": None, "precision": 0.6, "recall": 0.5},
             {"truncation": 1.0, "precision": 0.7, "recall": 0.4},
             {"truncation": 0.5, "precision": 0.8, "recall": 0.3}]
    precision, recall = truncation_findings(sweep)
    assert precision.as_expected and "0.6 with the whole prior, 0.8 truncated at 0.5. It rose" in precision.text
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

    def log(values, weights=3.0):
        return [{"step": 25 * i, "slope_d_fake": v, "slope_d_real": v, "grad_norm_d": weights}
                for i, v in enumerate(values)]

    assert late_mean(log([9, 9, 9, 9, 1]), "slope_d_real") == 1 and late_mean([], "slope_d_real") is None
    evals = {"none": {"modes_captured": 20, "modes_total": 25},
             "spectral norm": {"modes_captured": 25, "modes_total": 25},
             "weight decay": {"modes_captured": 12, "modes_total": 25}}
    # The slope decides, not the gradient by D's weights (#25 item 4): here the weights' is larger.
    logs = {"none": log([5] * 10, weights=1.0), "spectral norm": log([0.9] * 10, weights=50.0),
            "weight decay": log([7] * 10)}
    found = regulariser_findings(evals, logs)
    texts = [f.text for f in found]
    assert [f.as_expected for f in found] == [True, True, False]
    assert texts[0].startswith("spectral norm: 25 of 25 modes captured, none: 20")
    assert texts[1].startswith("D's slope |∇ₓD(x)| at generated points over the last fifth of training: "
                               "spectral norm 0.9, none 5. Smaller, as expected")
    assert "Fewer" in texts[2] and len(found) == 3  # no slope claim for weight decay
    logs["spectral norm"] = log([8] * 10, weights=0.1)
    assert "Not smaller, against the textbook" in regulariser_findings(evals, logs)[1].text
    older = {role: [{k: v for k, v in r.items() if not k.startswith("slope")} for r in log_]
             for role, log_ in logs.items()}  # a run logged before the slope was: no slope claim
    assert len(regulariser_findings(evals, older)) == 2


def test_the_prototype_verdict_is_judged_against_every_run_shown():
    """The GAN-vs-VAE lesson said 'FID is not fooled' by ten prototypes while their FID (41.0)
    beat the VAE's (82.4) shown just above: the verdict compared them with the GAN alone."""
    from genlab.teaching.lessons import prototype_findings

    scores = {"inception_score": 7.9, "inception_score_real": 6.1, "fid": 41.0}
    runs = {"GAN": {"inception_score": 4.1, "fid": 18.1}, "VAE": {"inception_score": 3.2, "fid": 82.4}}
    by_is, by_fid = prototype_findings(scores, runs)
    assert by_is.as_expected and "IS prefers ten images to the GAN and the VAE" in by_is.text
    assert not by_fid.as_expected and "above the VAE" in by_fid.text and "41.0 for the pretend model" in by_fid.text
    runs["VAE"]["fid"] = 30.0
    assert prototype_findings(scores, runs)[1].as_expected  # below every run shown: not fooled, here
    assert prototype_findings(scores, {}) == []


def test_the_class_histogram_marks_what_each_class_needs_to_count_as_covered():
    """Learn said "a missing bar is a dropped mode" beside "9 of 10 classes" and ten bars: the
    dropped class had a short bar, not none. The figure now marks each class's threshold, and
    the bars under their marks are the classes not covered."""
    from genlab.metrics.modes import class_histogram
    from genlab.views.figures import histogram_figure
    from genlab.views.metric_info import covered_line

    real = torch.arange(10).repeat_interleave(100)  # ten balanced classes
    predicted = torch.cat([torch.arange(9).repeat_interleave(110), torch.full((10,), 9)])  # class 9: 10 of 1,000
    entry = class_histogram(predicted, real, 10)
    assert entry["classes_covered"] == 9 and entry["histogram"][9] == 10  # a bar, but not covered
    marks = covered_line(entry)
    assert marks == pytest.approx([25.0] * 10)  # a quarter of a fair share of 1,000 samples
    bars, needed = histogram_figure(entry["histogram"], None, "t", marks).data
    below = [i for i, (count, need) in enumerate(zip(bars.y, needed.y)) if count < need]
    assert below == [9] and len(bars.y) - len(below) == entry["classes_covered"]
    assert covered_line({"histogram": [5, 5]}) == [1.25, 1.25]  # an older evaluation: equal shares


def test_the_kl_widget_says_one_mode_when_p_has_one():
    """At distance 0 it said "forward KL = -0.000: q covers both modes"."""
    from genlab.teaching.figures import kl_fits_figure
    from genlab.teaching.kl import Mixture, fit_forward, fit_reverse

    for separation, words in [(0.0, "p has one mode, and q fits it"), (4.0, "q covers both modes")]:
        p = Mixture.symmetric(separation, 0.5, 0.5)
        titles = [a.text for a in kl_fits_figure(p, fit_forward(p), fit_reverse(p)).layout.annotations]
        assert words in titles[0] and "-0.000" not in " ".join(titles)
    assert Mixture.symmetric(0.9, 0.5).mode_count() == 1 and Mixture.symmetric(1.2, 0.5).mode_count() == 2
