"""Every figure tells the truth (#25): links that keep what they show, warnings where a view
would mislead, and what a page quotes checked against the numbers it quotes."""

import pytest

from genlab.training.trainer import Trainer
from tests.pages import open_page
from tests.support import tiny_run


@pytest.fixture
def two_runs(runs_dir):
    """A GAN on the ring (the older) and a VAE on the moons (the newest), trained a few steps."""
    gan = tiny_run(runs_dir, "gan", "ring")
    vae = tiny_run(runs_dir, "vae", "moons")
    for run in (gan, vae):
        assert Trainer(run).train() == "completed"
    return gan, vae


@pytest.mark.parametrize("page,key", [("latent", "run"), ("runs", "run"), ("samples", "runs")])
def test_a_view_keeps_the_run_it_shows_in_its_link_even_the_default(two_runs, page, key):
    """/latent opened on the newest run left `run` out of the URL: a copied link showed another
    run once a newer one was launched."""
    gan, newest = two_runs
    at = open_page(page)
    assert at.query_params[key] in (newest.id, [newest.id])
    if page == "samples":
        at.multiselect(key=key).set_value([gan.id]).run()
    else:
        at.selectbox(key=key).select(gan.id).run()
    assert at.query_params[key] in (gan.id, [gan.id])


def test_compare_warns_when_the_two_runs_trained_on_different_data(two_runs):
    gan, vae = two_runs
    at = open_page("compare", gan=gan.id, vae=vae.id)
    assert any("trained on different data (ring and moons)" in w.value for w in at.warning)
    assert not any(c.value.startswith("Same latent size") for c in at.caption)


def test_a_gifs_frames_say_their_step(tmp_path):
    import io

    from PIL import Image, ImageChops

    from genlab.views.pictures import gif_bytes

    picture = tmp_path / "same.png"
    Image.new("RGB", (64, 64), (200, 200, 200)).save(picture)
    frames_in = [(picture, "step 0"), (picture, "step 3,000"), (tmp_path / "gone.png", "x")]
    gif = Image.open(io.BytesIO(gif_bytes(frames_in)))
    frames = []
    for i in range(gif.n_frames):
        gif.seek(i)
        frames.append(gif.convert("RGB"))
    assert len(frames) == 2  # the missing file is left out
    assert frames[0].size == (64, 80) and ImageChops.difference(frames[0], frames[1]).getbbox() is not None


def test_a_log_axis_is_labelled_at_powers_of_ten():
    """The |grad D| axis read "5, 2, 1, 5, 2, 0.1"."""
    from genlab.views.figures import runs_curve_figure

    logs = {"none": [{"step": s, "grad_norm_d": 10 ** (-s / 50)} for s in range(0, 200, 10)]}
    axis = runs_curve_figure(logs, "grad_norm_d", log=True).layout.yaxis
    assert axis.type == "log" and axis.dtick == 1
    assert runs_curve_figure(logs, "grad_norm_d", log=False).layout.yaxis.type == "linear"


def test_eval_prints_each_number_as_the_views_print_it(two_runs, runs_dir, capsys):
    """`eval` printed "modes_captured 6.0000"."""
    from genlab.cli import main

    gan, _ = two_runs
    assert main(["eval", gan.id, "--n", "500", "--runs-dir", str(runs_dir)]) == 0
    out = capsys.readouterr().out
    [line] = [line for line in out.splitlines() if line.startswith("modes_captured")]
    assert line.split()[1:4][1:] == ["of", "8"] and ".0000" not in line
    assert gan.evaluations()[-1]["n_test"] == 500  # what the views judge the numbers' worth by


def test_interpolate_on_a_toy_draws_the_walk_over_the_data(two_runs, runs_dir, tmp_path):
    """On a toy, ten walk dots alone made an almost blank image."""
    import numpy as np
    from PIL import Image

    from genlab.cli import main
    from genlab.views import palette

    gan, _ = two_runs
    out = tmp_path / "walk.png"
    assert main(["interpolate", gan.id, "--out", str(out), "--runs-dir", str(runs_dir)]) == 0
    pixels = np.asarray(Image.open(out).convert("RGB")).astype(int)
    real = (np.abs(pixels - np.array(palette.REAL_RGB)).sum(axis=2) < 30).sum()
    assert real > 200  # the real data, in its blue, under the walk


def smeared_ring(n: int = 2000):
    """Samples spread evenly around the ring's circle: near every mode, on almost none."""
    import torch

    angle = torch.rand(n, generator=torch.Generator().manual_seed(0)) * 2 * torch.pi
    return torch.stack([angle.cos(), angle.sin()], dim=1)


def test_on_toy_data_the_mode_numbers_lead_and_fid_carries_its_caveat():
    """A smeared ring (2% of samples on a mode) scored FID 0.002, below the real-vs-real floor."""
    from genlab.data import load_dataset
    from genlab.metrics.frechet import fid
    from genlab.metrics.modes import mode_coverage
    from genlab.views.metric_info import ON_POINTS, metric_rows

    ring = load_dataset("ring")
    fake = smeared_ring()
    entry = {**mode_coverage(fake, ring.modes, ring.mode_std), "fid": fid(ring.x_test[:2000], fake),
             "fid_floor": fid(ring.x_train[:2000], ring.x_test[:2000])}
    assert entry["high_quality"] < 0.1 and entry["fid"] < 0.05  # FID alone would praise it
    rows = metric_rows(entry)
    assert [r["metric"] for r in rows][:2] == ["Modes captured", "Share of samples on a mode"]
    assert next(r for r in rows if r["metric"] == "FID")["meaning"] == ON_POINTS
    assert next(r for r in metric_rows({"fid": 18.0}) if r["metric"] == "FID")["meaning"] != ON_POINTS


def test_the_lab_says_when_modes_captured_reads_better_than_the_samples_are():
    from genlab.teaching.lab import mode_reading

    smeared = mode_reading({"modes_captured": 21, "modes_total": 25, "high_quality": 0.02})
    assert "21 of 25 modes" in smeared and "only 2% of samples sit on a mode" in smeared
    collapsed = mode_reading({"modes_captured": 2, "modes_total": 25, "high_quality": 0.9})
    assert "on only 2 of 25 modes" in collapsed
    assert mode_reading({"modes_captured": 24, "modes_total": 25, "high_quality": 0.9}) is None


def test_the_class_experiment_starts_on_a_setting_the_runs_differ_in(runs_dir):
    """It started on beta for GANs, which put every point at x = 1."""
    from genlab.store.runs import create_run, list_runs
    from genlab.views.overview import class_row, experiment_defaults
    from tests.support import tiny_config

    for lr in (1e-3, 2e-4):
        create_run(runs_dir, tiny_config("gan", "ring", lr=lr), state="completed")
    rows = [class_row(s) for s in list_runs(runs_dir)]
    for row, captured in zip(rows, (7, 3)):
        row["modes_captured"] = captured  # as their evaluations would say
    assert experiment_defaults(rows, "gan", "ring") == ("learning rate", "modes_captured")


def test_numbers_from_too_few_test_images_are_not_shown_and_say_why():
    """A 150-image upload (15 held out) reported an Inception Score above its 'ceiling', a
    negative KID floor and precision = coverage = 1."""
    from genlab.views.metric_info import METRICS, metric_rows, number

    entry = {"n_test": 15, "fid": 31.0, "fid_floor": 12.0, "kid": 0.01, "kid_floor": -0.004, "precision": 1.0,
             "coverage": 1.0, "inception_score": 2.9, "inception_score_std": 0.3, "inception_score_real": 2.4}
    rows = {r["metric"]: r for r in metric_rows(entry)}
    for name in ("FID", "KID floor", "Precision", "Coverage", "Inception Score of the real data"):
        assert rows[name]["value"] == "not shown" and "this data set holds 15" in rows[name]["meaning"], name
    assert rows["Inception Score (evaluator's)"]["value"] == "2.9 ± 0.3"  # its samples are the model's own
    assert number(entry, "precision") is None and number({**entry, "n_test": 2000}, "precision") == 1.0
    assert "ceiling" not in METRICS["inception_score_real"].meaning.replace("not a ceiling", "")
