"""The teaching pages through Streamlit's AppTest: the 2-D lab, the Learn page's KL widget,
the lessons without their demo runs, and presenter mode. (With the shipped demo runs:
tests/test_demos.py.)"""

import json
import math

import pytest
from streamlit.testing.v1 import AppTest

from genlab import jobs
from genlab.store.runs import list_runs
from genlab.teaching.kl import Gaussian, Mixture, fit_reverse, gaussian_kl, reverse_kl
from genlab.teaching.lessons import LESSONS
from tests.pages import open_page
from tests.support import texts


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_lab_steps_plays_to_its_limit_and_resets():
    at = open_page("lab")
    assert metric(at, "Step") == "0" and metric(at, "Modes captured").endswith("of 8")
    at.button[0].click().run()  # Step
    assert metric(at, "Step") == "1"
    at.select_slider(key="hidden").set_value(64).run()  # new settings: a fresh model
    assert metric(at, "Step") == "0"
    at.slider(key="per-update-gan").set_value(5).run()  # playback settings: the same model
    at.number_input(key="until").set_value(12).run()
    assert metric(at, "Step") == "0"
    at.toggle(key="lab-play").set_value(True).run()  # a window of two updates of 5 steps
    assert metric(at, "Step") == "10"
    at.run()  # the browser asks for the next window: the last 2 steps of the limit, then it stops
    assert metric(at, "Step") == "12"
    assert "Stopped at the limit of 12 steps" in texts(at)
    assert metric(at.run(), "Step") == "12"  # at the limit, playing trains no more
    at.toggle(key="lab-play").set_value(False).run()
    assert metric(at, "Step") == "12"
    at.button[1].click().run()  # Reset
    assert metric(at, "Step") == "0"
    assert not at.exception
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [t["type"] for t in chart["data"]] == ["heatmap", "scatter", "scatter", "scatter"]
    at.toggle(key="surface").set_value(False).run()
    at.toggle(key="mesh").set_value(False).run()
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [t["name"] for t in chart["data"]] == ["real", "generated"]


def test_lab_vae_shows_the_latent_space_and_toy_without_modes():
    at = open_page("lab", toy="moons", model="vae")
    assert "Modes captured" not in [m.label for m in at.metric]
    at.button[0].click().run()
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "latent space" in json.dumps(chart["layout"]["annotations"])
    assert len(chart["data"]) == 6


def test_learn_page_kl_numbers_match_the_closed_forms():
    at = open_page("learn")
    assert len(at.get("latex")) >= 5  # the objectives are written out
    assert "needs a GAN run and a VAE run" in [i.value for i in at.info][-1]  # no runs in this test's folder
    at.slider(key="kl-sep").set_value(6.0).run()
    at.slider(key="kl-std").set_value(0.5).run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    titles = " ".join(a["text"] for a in spec["layout"]["annotations"])
    p = Mixture.symmetric(6.0, 0.5)
    assert f"{reverse_kl(fit_reverse(p), p):.3f}" in titles and f"{math.log(2):.3f}" in titles
    at.slider(key="kl-mq").set_value(2.0).run()
    at.slider(key="kl-sq").set_value(0.5).run()
    closed = gaussian_kl(Gaussian(0.0, 1.0), Gaussian(2.0, 0.5))
    assert metric(at, "KL(p‖q), closed form") == f"{closed:.4f}"
    assert metric(at, "KL(p‖q), numerical") == f"{closed:.4f}"
    assert metric(at, "KL(q‖p), closed form") == f"{gaussian_kl(Gaussian(2.0, 0.5), Gaussian(0.0, 1.0)):.4f}"


def test_lessons_index_and_missing_demos():
    at = open_page("lessons")
    assert {b.label for b in at.button} >= {lesson.title for lesson in LESSONS.values()}
    at = open_page("lessons", lesson="mode-collapse")
    assert at.title[0].value == LESSONS["mode-collapse"].title
    assert "make demo-checkpoints" in texts(at)
    at = open_page("lessons", lesson="no-such-lesson")
    assert "There is no lesson 'no-such-lesson'" in texts(at)


def test_moving_between_lessons_keeps_the_url_on_the_lesson_shown():
    """#12: the in-page links left ?lesson= on the first lesson, so a reload opened the wrong one."""
    at = open_page("lessons", lesson="beta")
    at.button(key="all-lessons").click().run()
    assert at.title[0].value == "Lessons" and "lesson" not in at.query_params
    at.button(key="open-gan-vs-vae").click().run()
    assert at.title[0].value == LESSONS["gan-vs-vae"].title
    assert at.query_params["lesson"] in ("gan-vs-vae", ["gan-vs-vae"])


@pytest.mark.parametrize("page", ["lab", "learn", "lessons", "home"])
def test_presenter_mode_enlarges_type_and_hides_controls(page):
    at = open_page(page, present="true")
    assert at.toggle(key="present").value
    assert any("font-size: 22px" in h.proto.body for h in at.get("html"))
    if page == "lab":
        assert not [s for s in at.select_slider if s.label == "Learning rate"]
        at.button[0].click().run()
        assert metric(at, "Step") == "1"


def test_a_lesson_launches_its_runs_for_the_class(runs_dir):
    at = open_page("lessons", lesson="mode-collapse")
    at.button(key="launch-mode-collapse").click().run()
    assert not at.exception and "Launched" in at.success[0].value
    launched = {s.config.name: s for s in list_runs(runs_dir)}
    assert set(launched) == {"lesson-ring-balanced", "lesson-ring-collapsed"}
    assert launched["lesson-ring-collapsed"].config.optim.lr_d == 1e-4
    assert launched["lesson-ring-balanced"].config.optim.lr_d is None
    for s in launched.values():
        jobs.cancel(runs_dir, s.run.id)


def test_a_lab_link_opens_exactly_that_view():
    at = open_page("lab", toy="grid", model="wgan-gp", **{"lr-wgan-gp": "0.0005", "hidden": "64",
                                                          "per-update-wgan-gp": "3", "lab-seed": "3"})
    lab = at.session_state["lab"]
    assert (lab.settings.dataset, lab.settings.variant, lab.settings.lr, lab.settings.hidden, lab.settings.seed) == \
        ("grid", "wgan-gp", 5e-4, 64, 3)
    assert at.slider(key="per-update-wgan-gp").value == 3
