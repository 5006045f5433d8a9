"""Page state bugs a tester hit, each reproduced by clicking what a user clicks (#12)."""

import pytest

from genlab import jobs
from genlab.config import ConfigError
from genlab.data import load_dataset
from genlab.models import noise
from genlab.presets import make_config
from genlab.store.lifecycle import this_process
from genlab.store.runs import list_runs
from genlab.training.trainer import Trainer
from tests.pages import open_page
from tests.support import force_status, tiny_config, tiny_run


@pytest.fixture
def demo_app(demos_dir, monkeypatch):
    monkeypatch.setenv("GENLAB_RUNS", str(demos_dir))
    return open_page


def test_new_seed_on_the_samples_page_draws_the_next_seed(demo_app):
    at = demo_app("samples", runs="demo-gan-ring")
    at.toggle(key="fresh").set_value(True).run()
    assert not at.exception
    at.button(key="new-seed").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.number_input(key="seed").value == 1
    at.button(key="new-seed").click().run()
    assert not at.exception and at.number_input(key="seed").value == 2


def z_sliders(at) -> dict[str, float]:
    return {s.label: s.value for s in at.slider if s.label.startswith("z[")}


def test_the_z_sliders_follow_endpoint_a(demo_app):
    at = demo_app("latent", run="demo-vae-2d-fashion")
    def code(seed):
        return {f"z[{d}]": float(v) for d, v in enumerate(noise(1, 2, seed)[0])}

    assert z_sliders(at) == pytest.approx(code(0), abs=0.005)  # the sliders move in steps of 0.01
    at.number_input(key="a").set_value(5).run()
    assert not at.exception
    assert z_sliders(at) == pytest.approx(code(5), abs=0.005)
    at.radio(key="src_a").set_value("real image").run()  # a real image's code, from the encoder
    assert not at.exception and z_sliders(at) != pytest.approx(code(5), abs=0.005)


def test_the_z_sliders_are_kept_in_the_link_until_endpoint_a_changes(demo_app):
    at = demo_app("latent", run="demo-vae-2d-fashion", z0="1.5", z1="-0.25")
    assert z_sliders(at) == {"z[0]": 1.5, "z[1]": -0.25}  # a shared link shows what its sender saw
    at.slider(key="z1").set_value(0.75).run()  # (the browser test sees the URL follow)
    assert z_sliders(at) == {"z[0]": 1.5, "z[1]": 0.75}
    at.number_input(key="a").set_value(5).run()  # a new endpoint A: the sliders start at its code
    start = [round(float(v), 2) for v in noise(1, 2, 5)[0]]
    assert z_sliders(at) == {"z[0]": start[0], "z[1]": start[1]}


def field(at, label: str):
    return next(n for n in at.number_input if n.label == label)


def error_text(at) -> str:
    return " ".join(e.value for e in at.error)


@pytest.mark.parametrize("label, bad, says", [
    ("Learning rate", 0.0, "learning rate must be a finite number > 0, not 0.0"),
    ("Steps", 0, "steps must be between 1 and 10,000,000"),
    ("Latent size", 2000, "latent size must be between 1 and 1024"),
    ("Batch size", 0, "batch size must be between 1 and 65536"),
])
def test_launch_is_blocked_while_a_field_is_invalid_and_says_the_real_bounds(label, bad, says):
    at = open_page("train")
    assert not at.button(key="launch").disabled and not at.error
    good = field(at, label).value
    field(at, label).set_value(bad).run()
    assert says in error_text(at) and at.button(key="launch").disabled
    field(at, label).set_value(good).run()
    assert not at.error and not at.button(key="launch").disabled


def test_the_server_refuses_a_learning_rate_of_zero_whatever_the_form_sends(runs_dir):
    with pytest.raises(ConfigError, match="learning rate"):
        jobs.launch(make_config("gan", "ring", lr=0.0), runs_dir)
    assert not list_runs(runs_dir)


def test_a_long_run_is_estimated_and_warned_about_before_launch():
    at = open_page("train")
    assert "Estimated training time: about" in at.caption[1].value and not at.warning
    field(at, "Steps").set_value(10_000_000).run()
    [warning] = [w.value for w in at.warning]
    assert "10,000,000 steps at" in warning and ("h " in warning or "days" in warning)


def test_the_runs_page_shows_time_left_and_the_latest_sample_grid(runs_dir):
    run = tiny_run(runs_dir)
    assert Trainer(run).train() == "completed"
    # Half way, 30 s in, by a live process (this one): 30 s left at the rate so far.
    force_status(run, state="running", step=4, total_steps=8, elapsed_s=30.0, **this_process())
    at = open_page("runs", run=run.id)
    row = at.dataframe[0].value.iloc[0]
    assert row["time"] == "00:00:30, about 30 s left"
    assert "30 s left" in at.get("progress")[0].proto.text
    assert [c for image in at.get("image") for c in image.captions] == ["Samples at step 8 (the latest snapshot)"]


def test_the_grid_lab_at_step_0_does_not_pass_a_clump_off_as_quality():
    """An untrained generator puts most samples on the grid's centre mode: the page says
    what that share means and that one mode is all it covers (#12: "High quality 94%")."""
    at = open_page("lab", toy="grid", model="gan")
    shown = {m.label: m.value for m in at.metric}
    assert shown["Step"] == "0" and shown["Modes captured"] == "1 of 25" and "High quality" not in shown
    assert int(shown["Samples on a mode"].rstrip("%")) > 50
    assert any("on only 1 of 25 modes" in c.value for c in at.caption)


def test_the_labs_step_limit_is_kept_in_the_link():
    at = open_page("lab", until="1200")
    assert at.number_input(key="until").value == 1200


def test_the_snapshot_slider_moves_in_training_steps_across_runs(demo_app):
    """#12: the slider showed an index (0-4); it now shows steps, and each run its latest
    snapshot up to the chosen step (the ring demo snapshots every 1,250 steps, the DCGAN every 750)."""
    at = demo_app("samples", runs=["demo-gan-ring", "demo-dcgan-fashion"])
    slider = at.select_slider(key="step")
    assert slider.options[:4] == ["0", "750", "1250", "1500"] and slider.value == 5000
    headers = [m.value for m in at.markdown if m.value.startswith("**demo-")]
    assert headers[0].endswith("step 5000") and headers[1].endswith("step 3000")
    slider.set_value(1250).run()
    headers = [m.value for m in at.markdown if m.value.startswith("**demo-")]
    assert headers[0].endswith("step 1250") and headers[1].endswith("step 750")


def test_the_two_gaussian_kl_sliders_are_kept_in_the_link(demo_app):
    from genlab.teaching.kl import Gaussian, gaussian_kl

    at = demo_app("learn", **{"kl-mp": "1.5", "kl-sq": "0.5"})
    assert at.slider(key="kl-mp").value == 1.5 and at.slider(key="kl-sq").value == 0.5
    shown = {m.label: m.value for m in at.metric}
    assert shown["KL(p‖q), closed form"] == f"{gaussian_kl(Gaussian(1.5, 1.0), Gaussian(1.0, 0.5)):.4f}"


def test_the_class_view_sorts_by_a_metric_and_spotlights_a_run(demo_app):
    at = demo_app("class_view", sort="fid", datasets="fashion-mnist")
    at.multiselect(key="datasets").set_value(["fashion-mnist"]).run()
    cards = [c.value for c in at.caption if c.value.startswith("**")]
    fids = [float(c.split("FID ")[1].split(",")[0]) for c in cards]
    assert len(cards) == 8 and fids == sorted(fids)  # best (lowest) FID first
    at.selectbox(key="spotlight").set_value("demo-dcgan-fashion").run()
    assert at.subheader[0].value == "demo: dcgan on fashion-mnist"
    assert len(at.get("plotly_chart")) == 1  # the class experiment


def test_on_a_projector_the_class_page_folds_its_filters_away(demo_app):
    """#25 item 9: in presenter mode the Class page's spotlight picker and filters stood open
    above the pictures."""
    at = demo_app("class_view", present="true")
    [folded] = [e for e in at.expander if e.label == "Spotlight, filters and order"]
    assert {w.key for w in folded.multiselect} == {"models", "datasets"}
    assert {w.key for w in folded.selectbox} == {"spotlight", "sort"}
    assert not demo_app("class_view").expander  # off the projector they stand open


def test_the_train_pages_time_estimate_is_cached_by_the_data_it_timed(monkeypatch):
    """The Train page once cached its step rate by the config alone while timing whatever data
    the page held: the same config on other data answered from the cache."""
    from app_pages.components import shared

    timed = []

    def measure(config, data, device):
        timed.append(len(data.x_train))
        return float(len(data.x_train))

    monkeypatch.setattr(shared, "measure_step_rate", measure)
    shared._step_rate.clear()
    config, data = tiny_config("gan", "digits"), load_dataset("digits")
    assert shared.estimated_step_rate(config, data) == 1500
    assert shared.estimated_step_rate(config, data.first_train(100)) == 100
    assert shared.estimated_step_rate(config, data) == 1500
    assert timed == [1500, 100]  # the third was cached


def test_the_class_gallery_shows_24_runs_a_page_and_follows_a_new_run(runs_dir):
    """#24: a hundred pictures for each of thirty students was most of the server's time; and
    the rows, shared between sessions by the listing's version, still show a run made later."""
    runs = [tiny_run(runs_dir, name=f"r{i:02d}") for i in range(30)]
    at = open_page("class_view")
    cards = lambda: [c.value.rsplit("\n", 1)[-1].strip() for c in at.caption if c.value.startswith("**")]  # noqa: E731
    assert len(cards()) == 24 and at.selectbox(key="gallery-page").options == ["1", "2"]
    at.selectbox(key="gallery-page").set_value(2).run()
    assert len(cards()) == 6
    assert sorted(cards(), reverse=True) == cards()  # newest first, the oldest on the last page
    assert runs[0].id in cards()
    later = tiny_run(runs_dir, name="later")
    at.selectbox(key="gallery-page").set_value(1).run()
    assert later.id in cards()
