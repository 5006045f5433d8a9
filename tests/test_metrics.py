"""Known answers for every metric, and the evaluation written into a run."""

import math

import numpy as np
import pytest
import torch
from scipy.linalg import sqrtm

from genlab.cli import main
from genlab.data import load_dataset
from genlab.data.toys import ring_modes
from genlab.metrics.evaluate import SAMPLE_SEED, evaluate_model, generate_many
from genlab.metrics.evaluator import evaluator_path, load_or_train
from genlab.metrics.frechet import fid, frechet_distance, kid
from genlab.metrics.likelihood import elbo_terms, iwae_bound
from genlab.metrics.manifold import prdc
from genlab.metrics.modes import class_histogram, mode_coverage
from genlab.models import build_model
from genlab.presets import make_config
from genlab.store.snapshots import load_model
from genlab.training.trainer import Trainer
from genlab.views.metric_info import shown
from tests.support import tiny_run


def gaussian(n, mean, cov, seed):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.multivariate_normal(mean, cov, size=n))


def test_identical_sets_have_fid_near_zero():
    x = torch.randn(3000, 8, generator=torch.Generator().manual_seed(0))
    assert abs(fid(x, x)) < 1e-6


def test_frechet_distance_matches_the_closed_form():
    f64 = dict(dtype=torch.float64)
    mu1, mu2 = torch.tensor([0.0, 1.0, 2.0], **f64), torch.tensor([1.0, -1.0, 0.5], **f64)
    a = torch.tensor([[2.0, 0.3, 0.0], [0.3, 1.0, 0.2], [0.0, 0.2, 0.5]], **f64)
    b = torch.tensor([[1.0, -0.4, 0.1], [-0.4, 2.0, 0.0], [0.1, 0.0, 0.7]], **f64)
    # ||mu1 - mu2||^2 + tr(A + B - 2 (A B)^(1/2)), with scipy's general matrix square root
    expected = float(((mu1 - mu2) ** 2).sum() + np.trace(a.numpy() + b.numpy() - 2 * sqrtm(a.numpy() @ b.numpy()).real))
    assert frechet_distance(mu1, a, mu2, b) == pytest.approx(expected, rel=1e-9)


def test_fid_of_two_gaussian_samples_approaches_the_closed_form():
    # Diagonal covariances: FID = ||mu1 - mu2||^2 + sum (s1 - s2)^2 over standard deviations.
    x = gaussian(200_000, [0, 0], np.diag([1.0, 4.0]), 1)
    y = gaussian(200_000, [3, 0], np.diag([4.0, 1.0]), 2)
    expected = 9 + (1 - 2) ** 2 + (2 - 1) ** 2
    assert fid(x, y) == pytest.approx(expected, rel=0.01)


def test_kid_is_unbiased_near_zero_for_one_distribution_and_positive_for_two():
    x, y = gaussian(2000, [0, 0], np.eye(2), 1), gaussian(2000, [0, 0], np.eye(2), 2)
    same, _ = kid(x, y)
    far, _ = kid(x, gaussian(2000, [2, 0], np.eye(2), 3))
    assert abs(same) < 0.03 and far > 0.2


def test_kid_reports_the_float64_mean_and_population_spread_of_its_subsets():
    x, y = gaussian(1500, [0, 0], np.eye(2), 1), gaussian(1500, [0.3, 0], np.eye(2), 2)
    mean, spread = kid(x, y, subsets=4, subset_size=500, seed=3)
    rng, values = torch.Generator().manual_seed(3), []
    for _ in range(4):  # the same subsets, the statistic written out in numpy
        a = x[torch.randperm(1500, generator=rng)[:500]].numpy()
        b = y[torch.randperm(1500, generator=rng)[:500]].numpy()
        kxx, kyy, kxy = ((p @ q.T / 2 + 1) ** 3 for p, q in ((a, a), (b, b), (a, b)))
        values.append((kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (500 * 499) - 2 * kxy.mean())
    assert mean == pytest.approx(np.mean(values), rel=1e-12)
    assert spread == pytest.approx(np.std(values), rel=1e-9)  # ddof=0: the population's


def test_kid_has_no_spread_when_every_subset_is_the_whole_of_both_sets():
    x, y = gaussian(800, [0, 0], np.eye(2), 1), gaussian(800, [0, 0], np.eye(2), 2)
    assert kid(x, y)[1] is None
    assert kid(gaussian(2000, [0, 0], np.eye(2), 3), y)[1] > 0  # one side drawn from: a real spread


def test_samples_on_the_modes_capture_all_with_full_quality():
    samples = ring_modes().repeat(300, 1)[:2500]
    result = mode_coverage(samples, ring_modes(), std=0.01)
    assert result["modes_captured"] == 8 and result["high_quality"] == 1.0


def test_modes_are_counted_on_the_protocols_2500_samples_whatever_n_is():
    data = load_dataset("grid")
    torch.manual_seed(0)
    model = build_model(make_config("gan", "grid").model, tuple(data.x_train.shape[1:]), 0)
    entry = evaluate_model(model, data, n=1000)  # what the Trainer evaluates with
    expected = mode_coverage(generate_many(model, 2500, SAMPLE_SEED), data.modes, data.mode_std)
    assert entry["mode_samples"] == 2500 and entry["per_mode"] == expected["per_mode"]
    assert sum(entry["per_mode"]) > 1000  # an untrained generator's points sit on the middle mode


def test_a_single_mode_sample_set_captures_one_mode():
    samples = ring_modes()[3].repeat(2500, 1) + 0.005 * torch.randn(2500, 2)
    result = mode_coverage(samples, ring_modes(), std=0.01)
    assert result["modes_captured"] == 1 and result["per_mode"][3] == 2500


def test_far_samples_are_low_quality():
    result = mode_coverage(torch.zeros(100, 2), ring_modes(), std=0.01)
    assert result["modes_captured"] == 0 and result["high_quality"] == 0.0


def test_prdc_of_matching_and_disjoint_sets():
    x = torch.randn(1000, 4, generator=torch.Generator().manual_seed(0))
    same = prdc(x, x.clone(), k=5)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    y = torch.randn(1000, 4, generator=torch.Generator().manual_seed(1))
    matched = prdc(x, y, k=5)
    assert matched["density"] == pytest.approx(1.0, abs=0.2) and matched["coverage"] > 0.9
    apart = prdc(x, y + 100, k=5)
    assert apart["precision"] == apart["recall"] == apart["density"] == apart["coverage"] == 0.0


def test_class_histogram_of_a_collapsed_generator():
    real = torch.arange(1000) % 10
    result = class_histogram(torch.full((500,), 7), real, 10)
    assert result["classes_covered"] == 1 and result["kl_to_real"] == pytest.approx(math.log(10))
    balanced = class_histogram(real, real, 10)
    assert balanced["classes_covered"] == 10 and balanced["kl_to_real"] == pytest.approx(0.0)


@pytest.fixture(scope="module")
def trained_vae(tmp_path_factory):
    run = tiny_run(tmp_path_factory.mktemp("vae") / "runs", "vae", "digits", steps=300, log_every=50,
                   hidden=64, depth=1, lr=1e-3, batch_size=64, latent_dim=4)
    assert Trainer(run).train() == "completed"
    model, _ = load_model(run)
    return model, load_dataset("digits").x_test[:200]


def test_iwae_bound_is_above_the_elbo_and_tightens_with_k(trained_vae):
    model, x = trained_vae
    elbo = elbo_terms(model, x)
    assert elbo["elbo"] == pytest.approx(-elbo["recon"] - elbo["kl"])
    bounds = [iwae_bound(model, x, k, seed=1) for k in (1, 5, 50)]
    assert bounds[0] == pytest.approx(elbo["elbo"], rel=0.02)  # IWAE_1 is the ELBO (other noise)
    assert bounds[0] < bounds[1] < bounds[2]


@pytest.mark.slow
def test_the_evaluator_is_trained_once_stored_and_reloaded(isolated_dirs):
    data = load_dataset("digits")
    model, accuracy = load_or_train(data, torch.device("cpu"))
    assert accuracy > 0.85 and evaluator_path(data).exists()
    again, same_accuracy = load_or_train(data, torch.device("cpu"))
    assert same_accuracy == accuracy
    x = data.x_test[:10]
    assert torch.equal(model.embed(x)[0], again.embed(x)[0])


def test_eval_command_writes_eval_json_for_a_gan_on_the_ring(runs_dir, capsys):
    run = tiny_run(runs_dir, "gan", "ring", steps=20)
    Trainer(run).train()
    assert main(["eval", run.id, "--n", "500", "--runs-dir", str(runs_dir)]) == 0
    out = capsys.readouterr().out
    assert "modes_captured" in out and "no likelihood" in out
    [entry] = run.evaluations()
    assert entry["step"] == 20 and entry["modes_total"] == 8 and entry["fid_floor"] < entry["fid"]


@pytest.mark.slow
def test_the_trainer_evaluates_at_every_snapshot_without_changing_training(runs_dir):
    plain = tiny_run(runs_dir, "vae", "digits", steps=20, n_snapshots=2, seed=3)
    evaluated = tiny_run(runs_dir, "vae", "digits", steps=20, n_snapshots=2, seed=3,
                         evaluate=True, eval_samples=200)
    Trainer(plain).train()
    Trainer(evaluated).train()
    entries = evaluated.evaluations()
    assert [e["step"] for e in entries] == [0, 10, 20]
    assert {"fid", "kid", "precision", "coverage", "elbo", "iwae", "classes_covered"} <= set(entries[-1])
    strip = [{k: v for k, v in r.items() if k != "time"} for r in plain.metrics()]
    assert strip == [{k: v for k, v in r.items() if k != "time"} for r in evaluated.metrics()]


NO_SPREAD = "0.0123 (no spread: one subset held every image)"


@pytest.mark.parametrize("entry, printed", [
    ({"kid": 0.0123, "kid_std": 0.0021, "n_samples": 2000, "n_test": 2000}, "0.0123 ± 0.0021"),
    ({"kid": 0.0123, "kid_std": None, "n_samples": 1000, "n_test": 1000}, NO_SPREAD),
    # before #26 a whole-set spread was recorded: float noise, not shown
    ({"kid": 0.0123, "kid_std": 1.3e-9, "n_samples": 1000, "n_test": 1000}, NO_SPREAD),
])
def test_kid_is_printed_with_its_spread_only_when_it_has_one(entry, printed):
    assert shown(entry, "kid") == printed
