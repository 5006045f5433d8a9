"""The demo runs that ship in checkpoints/: small enough, loadable, evaluated, and every
page shows them on a fresh checkout before any training."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from genlab.presets import make_config
from genlab.runs import list_runs
from genlab.snapshots import load_model
from genlab.teaching.demos import DEMOS, MAX_TOTAL_BYTES, demo_runs, total_bytes
from genlab.teaching.lessons import LESSONS
from tests.conftest import SHIPPED, needs_fashion
from tests.pages import open_page


def test_every_demo_ships_within_the_size_budget():
    assert set(demo_runs(SHIPPED)) == {d.run_id for d in DEMOS}
    assert total_bytes(SHIPPED) <= MAX_TOTAL_BYTES
    for run in demo_runs(SHIPPED).values():
        files = {p.suffix for p in run.path.rglob("*") if p.is_file()}
        assert files <= {".json", ".jsonl", ".safetensors", ".png"}, files  # nothing to unpickle
        assert not run.checkpoint_path.exists()


def test_the_train_defaults_are_the_image_demos_settings():
    """A user who launches DCGAN or the conv VAE on Fashion-MNIST with the Train page's
    defaults trains what the demos (and the README's figures) trained (#12)."""
    for demo in DEMOS:
        if demo.dataset != "fashion-mnist" or set(demo.overrides) - {"latent_dim", "steps", "n_snapshots", "beta"}:
            continue
        shipped = demo_runs(SHIPPED)[demo.run_id].config()
        default = make_config(demo.variant, demo.dataset, beta=demo.overrides.get("beta"))
        assert default.model == shipped.model, demo.run_id
        assert default.optim == shipped.optim and default.schedule.steps == shipped.schedule.steps


def test_demos_load_sample_and_are_evaluated():
    for demo in DEMOS:
        run = demo_runs(SHIPPED)[demo.run_id]
        assert run.status()["state"] == "completed" and run.is_demo
        config = run.config()
        assert (config.model.variant, config.data.name) == (demo.variant, demo.dataset)
        model, step = load_model(run)
        assert step == config.schedule.steps
        x = model.sample(4, seed=0)
        assert x.isfinite().all() and len(x) == 4
        assert [e["step"] for e in run.evaluations()] == run.snapshot_steps()
    runs = demo_runs(SHIPPED)
    assert runs["demo-dcgan-fashion"].config().model.latent_dim == runs["demo-vae-fashion"].config().model.latent_dim
    assert runs["demo-vae-2d-fashion"].config().model.latent_dim == 2


def test_the_ring_demos_show_collapse_next_to_coverage():
    runs = demo_runs(SHIPPED)
    good = runs["demo-gan-ring"].evaluations()[-1]
    collapsed = runs["demo-gan-ring-collapsed"].evaluations()[-1]
    assert good["modes_captured"] == 8 and good["high_quality"] > 0.8
    assert collapsed["modes_captured"] <= 2


def open_demo_page(runs_folder: Path, monkeypatch, page: str, **params) -> AppTest:
    monkeypatch.setenv("GENLAB_RUNS", str(runs_folder))
    at = open_page(page, **params)
    assert not at.error, [e.value for e in at.error]
    return at


def images(at: AppTest) -> int:
    return len(at.get("image"))


def test_home_samples_and_compare_show_the_demos(demos_dir, monkeypatch):
    at = open_demo_page(demos_dir, monkeypatch, "home")
    assert len(list_runs(demos_dir)) == len(DEMOS)
    compare = next(link for link in at.get("page_link") if link.proto.page.endswith("compare"))
    # A GAN and a VAE on the same data with the same latent size (not the 2-D VAE).
    assert compare.proto.query_string in ("gan=demo-dcgan-fashion&vae=demo-vae-fashion",
                                          "gan=demo-dcgan-fashion&vae=demo-beta4-vae-fashion")
    at = open_demo_page(demos_dir, monkeypatch, "samples", runs="demo-dcgan-fashion")
    assert images(at) >= 1
    at = open_demo_page(demos_dir, monkeypatch, "compare", gan="demo-dcgan-fashion", vae="demo-vae-fashion")
    assert images(at) == 4
    assert "Same latent size" in " ".join(c.value for c in at.caption)


@needs_fashion
def test_latent_page_walks_the_demo_vae(demos_dir, monkeypatch):
    at = open_demo_page(demos_dir, monkeypatch, "latent", run="demo-vae-2d-fashion")
    assert images(at) >= 2


def test_learn_page_shows_evidence_from_the_demos(demos_dir, monkeypatch):
    at = open_demo_page(demos_dir, monkeypatch, "learn")
    assert at.selectbox(key="gan").value == "demo-dcgan-fashion"
    assert at.selectbox(key="vae").value == "demo-vae-fashion"
    assert images(at) == 4  # two grids, two strips
    assert len(at.get("plotly_chart")) >= 4  # two class histograms, the KL fits, two Gaussians


@pytest.mark.parametrize("slug", list(LESSONS))
def test_each_lesson_runs_on_the_demos(demos_dir, monkeypatch, slug):
    at = open_demo_page(demos_dir, monkeypatch, "lessons", lesson=slug)
    assert at.title[0].value == LESSONS[slug].title
    assert images(at) >= 2
    assert not at.warning


def test_runs_page_keeps_a_demo_run(demos_dir, monkeypatch):
    at = open_demo_page(demos_dir, monkeypatch, "runs", run="demo-gan-ring")
    assert not [b for b in at.button if b.key == "delete"]
    assert any("ships with GenLab" in c.value for c in at.caption)
