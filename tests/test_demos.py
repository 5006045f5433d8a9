"""The demo runs that ship in checkpoints/: small enough, loadable, evaluated, and every
page shows them on a fresh checkout before any training."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from genlab.metrics.memorisation import LEANING_BELOW
from genlab.presets import make_config
from genlab.store.runs import list_runs
from genlab.store.snapshots import load_model
from genlab.teaching.demos import DEMOS, MAX_TOTAL_BYTES, demo_runs, total_bytes
from genlab.teaching.lessons import LESSONS, late_mean
from genlab.views import metric_info
from tests.pages import open_page
from tests.support import SHIPPED, needs_fashion


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
    plain = [demo for demo in DEMOS if demo.dataset == "fashion-mnist"
             and not set(demo.overrides) - {"latent_dim", "steps", "n_snapshots", "beta"}]
    assert {d.run_id for d in plain} == {"demo-dcgan-fashion", "demo-vae-fashion", "demo-beta4-vae-fashion",
                                         "demo-cdcgan-fashion"}
    for demo in plain:
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
    """The page on the demo runs, with a data folder kept for the module, so the evaluator
    the lessons' measurements need is trained once."""
    monkeypatch.setenv("GENLAB_RUNS", str(runs_folder))
    monkeypatch.setenv("GENLAB_DATA", str(runs_folder.parent / "data"))
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


# The two lessons of #26 are opened by tests/test_lessons_uses.py, which checks their findings too.
@pytest.mark.parametrize("slug", [s for s in LESSONS if s not in ("repair", "training-data")])
def test_each_lesson_runs_on_the_demos(demos_dir, monkeypatch, slug):
    at = open_demo_page(demos_dir, monkeypatch, "lessons", lesson=slug)
    assert at.title[0].value == LESSONS[slug].title
    assert images(at) >= 2
    assert not at.warning


@pytest.mark.parametrize("slug", [s for s, lesson in LESSONS.items() if lesson.claims])
def test_every_claim_a_lesson_shows_quotes_the_numbers_beside_it(demos_dir, monkeypatch, slug):
    """#12: a lesson's text said the GAN is more precise while the table beside it said the
    VAE is. Each finding shown now quotes the latest numbers of the runs shown, and says
    'as the textbook expects' only when those numbers go the textbook's way."""
    lesson = LESSONS[slug]
    at = open_demo_page(demos_dir, monkeypatch, "lessons", lesson=slug)
    shown = [m.value for m in at.markdown if m.value.startswith((":material/check_circle:", ":material/error:"))]
    shown = shown[:len(lesson.claims)]  # the claims come first; a lesson's extras may add findings of their own
    assert len(shown) == len(lesson.claims)
    evaluations = {role: demo_runs(demos_dir)[run_id].evaluations()[-1] for role, run_id in lesson.runs.items()}
    for claim, text in zip(lesson.claims, shown):
        a, b = (evaluations[role] for role in lesson.compared)
        assert f"{lesson.compared[0]} {metric_info.shown(a, claim.metric)}" in text
        assert f"{lesson.compared[1]} {metric_info.shown(b, claim.metric)}" in text
        top = lesson.compared[0] if metric_info.number(a, claim.metric) > metric_info.number(b, claim.metric) \
            else lesson.compared[1]
        agrees = top == claim.higher
        assert (f"Higher for {top}, as the textbook expects" in text) == agrees
        assert (f"Higher for {top}, against the textbook" in text) == (not agrees)


def test_runs_page_keeps_a_demo_run(demos_dir, monkeypatch):
    at = open_demo_page(demos_dir, monkeypatch, "runs", run="demo-gan-ring")
    assert not [b for b in at.button if b.key == "delete"]
    assert any("ships with GenLab" in c.value for c in at.caption)


def test_the_walks_on_learn_go_somewhere_visibly_different():
    """#12: the seed 0 -> 1 walks barely changed. The walk's end is now the seed, of the next
    32, that the VAE decodes most differently: on the demo VAE, several times further than seed 1."""
    import torch

    from genlab.models import noise
    from genlab.models.latent import farthest_seed

    model, _ = load_model(demo_runs(SHIPPED)["demo-vae-fashion"])
    end = farthest_seed(model, 0)
    with torch.no_grad():
        out = model.generate(torch.cat([noise(1, 32, s) for s in range(0, 34)]))
    change = ((out - out[0]) ** 2).flatten(1).mean(1)
    assert change[end] == change[1:33].max() and change[end] > 3 * change[1]


def test_learn_walks_between_the_seed_and_its_farthest_neighbour(demos_dir, monkeypatch):
    from genlab.models.latent import farthest_seed

    end = farthest_seed(load_model(demo_runs(SHIPPED)["demo-vae-fashion"])[0], 0)
    at = open_demo_page(demos_dir, monkeypatch, "learn")
    walks = [c for image in at.get("image") for c in image.captions if "→" in c]
    assert len(walks) == 2 and all(c.endswith(f"seed 0 → seed {end}") for c in walks), walks


def test_the_new_image_demos_show_what_their_lessons_say(demos_dir):
    """#16: the uniform-prior DCGAN draws from the cube; the DCGAN trained on 64 images leans
    towards them (a memorisation ratio below what held-out images ever score, most samples
    nearer a training image), where the full-data DCGAN's ratio is about 1."""
    runs = demo_runs(demos_dir)
    uniform = runs["demo-dcgan-fashion-uniform"]
    assert uniform.config().model.prior == "uniform"
    assert load_model(uniform)[0].codes(100, seed=0).abs().max() <= 1
    full = runs["demo-dcgan-fashion"].evaluations()[-1]["memorisation"]
    small = runs["demo-dcgan-fashion-64"].evaluations()[-1]["memorisation"]
    assert small["n_reference"] == 64 and full["n_reference"] == 2000
    assert 0.9 < full["ratio"] < 1.1 and abs(full["closer_to_train"] - 0.5) < 0.05
    assert small["ratio"] < LEANING_BELOW and small["closer_to_train"] > 0.6
    on_images = [run.evaluations()[-1] for run in runs.values() if run.config().data.name == "fashion-mnist"]
    assert len(on_images) == 8
    for e in on_images:  # IS lies between 1 and the number of classes
        assert 1 <= e["inception_score"] <= 10 and 1 <= e["inception_score_real"] <= 10


@needs_fashion
@pytest.mark.parametrize("slug", ["priors", "memorisation", "gan-vs-vae"])
def test_the_lessons_extras_quote_their_measurements(demos_dir, monkeypatch, slug):
    at = open_demo_page(demos_dir, monkeypatch, "lessons", lesson=slug)
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    if slug == "priors":
        assert len(at.dataframe) >= 1 + 2  # the walk table beside the two runs' numbers
        assert "with the whole prior" in text and at.select_slider(key="truncation").value is None
        at.select_slider(key="truncation").set_value(0.5).run()
        assert not at.exception and at.select_slider(key="truncation").value == 0.5
    elif slug == "memorisation":
        assert text.count("Memorisation: the samples' median distance") == 2
        assert "it has begun to memorise them" in text and "no sign of copying" in text
    else:
        assert "for the pretend model" in text and "FID ranks the ten images" in text


@needs_fashion
@pytest.mark.parametrize("slug", ["priors", "memorisation", "regularisation"])
def test_the_new_lessons_open_in_presenter_mode(demos_dir, monkeypatch, slug):
    at = open_demo_page(demos_dir, monkeypatch, "lessons", lesson=slug, present="true")
    assert at.title[0].value == LESSONS[slug].title and images(at) >= 2


def test_the_regularisation_lesson_judges_each_regulariser_on_its_numbers(demos_dir, monkeypatch):
    """#16: four GANs on the grid; each finding quotes the runs' modes captured and is marked
    as expected exactly when the numbers agree with the textbook."""
    at = open_demo_page(demos_dir, monkeypatch, "lessons", lesson="regularisation")
    assert images(at) == 4 and len(at.get("plotly_chart")) >= 8  # four mode histograms, two slopes, both losses
    shown = [m.value for m in at.markdown if m.value.startswith((":material/check_circle:", ":material/error:"))]
    evaluations = {role: demo_runs(demos_dir)[run_id].evaluations()[-1]
                   for role, run_id in LESSONS["regularisation"].runs.items()}
    base = evaluations["none"]["modes_captured"]
    for role in ("weight decay", "spectral norm", "R1 penalty"):
        [line] = [t for t in shown if f"{role}: {evaluations[role]['modes_captured']} of 25 modes" in t]
        assert line.startswith(":material/check_circle:") == (evaluations[role]["modes_captured"] >= base)
    assert sum("D's slope |∇ₓD(x)|" in t for t in shown) == 2  # spectral norm and R1 bound it; weight decay need not
    slopes = {role: late_mean(demo_runs(demos_dir)[run_id].metrics(), "slope_d_real")
              for role, run_id in LESSONS["regularisation"].runs.items()}
    assert all(v is not None for v in slopes.values())  # the demos log what the claims are about


@needs_fashion
@pytest.mark.slow  # 2,000 samples through the evaluator
def test_the_priors_lessons_sweep_quotes_the_numbers_of_the_runs_evaluation():
    """The findings quoted precision/recall 0.809/0.873 for the whole prior while the table
    above showed 0.814/0.8645: the sweep now draws what the evaluation drew."""
    from genlab.metrics.evaluate import truncation_sweep
    from genlab.training.trainer import dataset_for

    run = demo_runs(SHIPPED)["demo-dcgan-fashion"]
    model, _ = load_model(run)
    [whole] = truncation_sweep(model, dataset_for(run.config()), [None])
    evaluation = run.evaluations()[-1]
    assert (whole["precision"], whole["recall"]) == (evaluation["precision"], evaluation["recall"])
    assert whole["fid"] == pytest.approx(evaluation["fid"], rel=1e-6)
