"""Every page through Streamlit's AppTest, over runs made by tiny real training."""

import time

import pytest

from genlab.data import load_dataset
from genlab.metrics.evaluate import evaluate_model
from genlab.store.evaluations import record_evaluation
from genlab.store.runs import create_run, list_runs, open_run
from genlab.store.snapshots import load_model
from genlab.training.trainer import Trainer
from tests.pages import open_page
from tests.support import texts, tiny_config, tiny_run

# Slow: trains the runs it shows, and launches workers. One xdist worker builds the module's
# trained runs once (split across two workers, each built them: about 20 s more).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("app")]


@pytest.fixture(scope="module")
def shared_runs(tmp_path_factory):
    """A runs folder: a GAN on ring, a GAN on digits, a 2-D VAE on digits, a failed run,
    a run with a corrupt config and a run with a corrupt snapshot."""
    base = tmp_path_factory.mktemp("app")
    root = base / "runs"
    made = {}
    for name, variant, dataset, extra in [
        ("gan-ring", "gan", "ring", {}),
        ("gan-digits", "gan", "digits", {}),
        ("vae-digits", "vae", "digits", {"latent_dim": 2}),
        ("corrupt-snapshot", "vae", "digits", {}),
    ]:
        run = create_run(root, tiny_config(variant, dataset, name=name, **extra))
        assert Trainer(run).train() == "completed"
        made[name] = run.id
    failed = create_run(root, tiny_config(name="failed"), state="failed",
                        error="out of memory on cuda at batch size 512; try a smaller batch")
    made["failed"] = failed.id
    broken = create_run(root, tiny_config(name="broken"))
    broken.config_path.write_text("{half a config")
    made["broken"] = broken.id
    snap = root / made["corrupt-snapshot"] / "snapshots"
    for path in snap.glob("*.safetensors"):
        path.write_bytes(b"not safetensors")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GENLAB_DATA", str(base / "data"))  # the digits evaluator, trained once here
        for name in ("gan-digits", "vae-digits"):
            run = open_run(root, made[name])
            model, step = load_model(run)
            record_evaluation(run, step, evaluate_model(model, load_dataset("digits"), n=200, iwae_k=5))
    return root, made


@pytest.fixture
def app(shared_runs, monkeypatch):
    root, made = shared_runs
    monkeypatch.setenv("GENLAB_RUNS", str(root))
    monkeypatch.setenv("GENLAB_DATA", str(root.parent / "data"))

    return open_page, made


def captions(at) -> str:
    return "\n".join(c for image in at.get("image") for c in image.captions)


def test_home_shows_the_runs_at_a_glance(app):
    open_page, made = app
    at = open_page("home")
    assert at.title[0].value == "GenLab"
    assert {m.label: m.value for m in at.metric}["Runs"] == "6"
    assert made["vae-digits"] in texts(at)


def test_train_page_launches_a_real_background_run(app, shared_runs):
    open_page, _ = app
    root, _ = shared_runs
    at = open_page("train")
    before = {s.run.id for s in list_runs(root)}
    steps = next(n for n in at.number_input if n.label == "Steps")
    steps.set_value(40).run()
    at.button(key="launch").click().run()
    assert not at.exception
    [new] = [s for s in list_runs(root) if s.run.id not in before]
    assert new.config.schedule.steps == 40 and new.config.model.variant == "gan"
    assert at.title[0].value == "Runs" and at.selectbox(key="run").value == new.run.id  # opens on it
    deadline = time.time() + 90
    while new.run.status().get("state") != "completed" and time.time() < deadline:
        time.sleep(0.5)
    assert new.run.status()["state"] == "completed"


def test_train_page_refuses_a_batch_larger_than_the_data(app, shared_runs):
    open_page, _ = app
    root, _ = shared_runs
    at = open_page("train")
    at.selectbox(key="dataset").select("digits").run()
    batch = next(n for n in at.number_input if n.label == "Batch size")
    batch.set_value(4096).run()
    assert "larger than the 1500 training samples" in texts(at)  # said before Launch
    assert at.button(key="launch").disabled


def test_train_page_explains_an_unavailable_dataset(app):
    open_page, _ = app
    at = open_page("train")
    at.selectbox(key="dataset").select("mnist").run()
    assert "cannot be used now" in texts(at) and "when online" in texts(at)
    assert not [b for b in at.button if b.key == "launch"]


def test_runs_page_lists_every_run_and_charts_one(app):
    open_page, made = app
    at = open_page("runs", run=made["gan-ring"])
    table = at.dataframe[0].value
    assert len(table) >= 6
    flagged = set(table[table["problem"] == "⚠"]["run"])
    assert flagged == {made["failed"], made["broken"]}  # each said whole under the table
    said = {r: c.value for c in at.caption for r in flagged if f"**{r}**" in c.value}
    assert "corrupt" in said[made["broken"]] and "out of memory on cuda" in said[made["failed"]]
    assert "user" not in table.columns  # one person: every run is theirs
    assert len(at.get("plotly_chart")) == 3  # losses, D outputs, gradient norms
    at.toggle(key="logy").set_value(True).run()
    assert not at.exception


def test_runs_page_shows_the_error_of_a_failed_run_and_offers_resume(app):
    open_page, made = app
    at = open_page("runs", run=made["failed"])
    assert "try a smaller batch" in texts(at)
    assert [b for b in at.button if b.key == "resume"]


def test_resume_with_a_lower_learning_rate_from_the_runs_page(app, shared_runs):
    open_page, _ = app
    root, _ = shared_runs
    run = tiny_run(root, steps=40, log_every=5, lr=1e-3, name="to-resume")
    trainer = Trainer(run, on_progress=lambda step, total: step == 10 and trainer.request_stop())
    assert trainer.train() == "cancelled"
    at = open_page("runs", run=run.id)
    at.number_input(key="resume-lr").set_value(2e-4).run()
    at.button(key="resume").click().run()
    assert not at.exception and not at.error
    deadline = time.time() + 90
    while run.status()["state"] != "completed" and time.time() < deadline:
        time.sleep(0.5)
    status = run.status()
    assert status["state"] == "completed" and status["lr_history"] == [{"step": 10, "lr": 2e-4}]


def test_delete_needs_confirmation(app, shared_runs):
    open_page, made = app
    root, _ = shared_runs
    victim = create_run(root, tiny_config(name="victim"), state="cancelled")
    at = open_page("runs", run=victim.id)
    assert at.button(key="delete").disabled
    at.checkbox(key="sure").check().run()
    at.button(key="delete").click().run()
    assert not victim.path.exists()
    assert (root / made["gan-ring"]).exists()


def test_samples_page_grids_real_data_fresh_samples_and_gif(app):
    open_page, made = app
    at = open_page("samples", runs=[made["gan-digits"], made["vae-digits"]])
    assert len(at.get("image")) >= 3  # two runs and the real data
    at.select_slider(key="step").set_value(0).run()
    assert "step 0" in texts(at)
    at.toggle(key="fresh").set_value(True).run()
    assert not at.exception
    at.button(key=f"gif-{made['vae-digits']}").click().run()
    assert not at.exception and "snapshots in order" in captions(at)


def test_latent_page_for_a_2d_vae(app):
    open_page, made = app
    at = open_page("latent", run=made["vae-digits"])
    headers = [s.value for s in at.subheader]
    assert "The decoded manifold" in headers and "Where real data lands" in headers
    at.slider(key="t").set_value(0.9).run()
    assert "t = 0.90" in captions(at)
    at.radio(key="src_a").set_value("real image").run()
    assert not at.exception


def test_latent_page_inverts_a_real_image_for_a_gan(app):
    open_page, made = app
    at = open_page("latent", run=made["gan-digits"], src_a="real image")
    assert "Inverted by optimising z" in texts(at)
    assert "no encoder" in texts(at)


def test_latent_page_for_points(app):
    open_page, made = app
    at = open_page("latent", run=made["gan-ring"])
    assert len(at.get("image")) >= 3


def test_compare_page_shows_both_families(app):
    open_page, made = app
    at = open_page("compare", gan=made["gan-digits"], vae=made["vae-digits"])
    page = texts(at)
    assert "parameters: generator" in page and "encoder" in page
    assert len(at.get("plotly_chart")) == 4  # curves and class histogram of each


def test_a_corrupt_snapshot_shows_a_message_not_a_traceback(app):
    open_page, made = app
    at = open_page("latent", run=made["corrupt-snapshot"])
    assert "cannot be shown" in texts(at)


def test_runs_page_shows_an_evaluation_with_meanings(app):
    open_page, made = app
    at = open_page("runs", run=made["vae-digits"])
    table = at.dataframe[1].value
    assert {"FID", "FID floor", "Precision", "Coverage", "ELBO", "IWAE bound (k=5)"} <= set(table["metric"])
    assert "real-vs-real floor" in " ".join(table["meaning"])
    assert len(at.get("plotly_chart")) == 4  # two curves, KL per dimension, class histogram


def test_runs_page_evaluates_in_the_background(app, shared_runs):
    open_page, made = app
    root, _ = shared_runs
    run = open_run(root, made["gan-ring"])
    at = open_page("runs", run=run.id)
    at.button(key="evaluate").click().run()
    assert not at.exception
    deadline = time.time() + 90
    while not run.evaluations() and time.time() < deadline:
        time.sleep(0.5)
    [entry] = run.evaluations()
    assert entry["modes_total"] == 8
    at.run()
    assert "no likelihood" in texts(at)


def test_compare_page_shows_both_evaluations(app):
    open_page, made = app
    at = open_page("compare", gan=made["gan-digits"], vae=made["vae-digits"])
    assert len(at.dataframe) == 2 and "no likelihood" in texts(at)


def test_samples_page_with_a_run_that_has_only_its_first_snapshot(app, shared_runs):
    open_page, _ = app
    root, _ = shared_runs
    young = create_run(root, tiny_config(name="young", steps=8))
    Trainer(young).train()
    for step in young.snapshot_steps()[1:]:
        young.snapshot_path(step).unlink()  # as if training had only just started
    at = open_page("samples", runs=young.id)
    assert "Only the first snapshot exists yet" in texts(at)
