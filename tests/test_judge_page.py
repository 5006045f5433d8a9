"""The Real-or-generated page, clicked: alone anyone starts, plays and closes a round; in a
class only the teacher starts and closes, students play and see the results once it closes."""

import shutil

import pytest

from genlab.classroom import roster
from genlab.classroom.access import User
from genlab.teaching import rounds
from tests.pages import logged_in, open_page
from tests.support import SHIPPED, texts

GAN, VAE = "demo-dcgan-fashion", "demo-vae-fashion"


@pytest.fixture
def demo_runs(runs_dir):
    for run_id in (GAN, VAE):  # copied: the listing does not follow links
        shutil.copytree(SHIPPED / run_id, runs_dir / run_id)
    return runs_dir


def start_button(at):
    return next(b for b in at.button if b.label == "Start the round")


def test_alone_a_person_starts_a_round_plays_it_and_closes_it(demo_runs):
    at = open_page("judge")
    assert sorted(at.multiselect[0].value) == [GAN, VAE]  # the fair pair, by default
    at.slider[0].set_value(10)
    start_button(at).click().run()
    found = rounds.current_round(demo_runs)
    assert found.is_open and len(found.items) == 10 and "Image 1 of 10" in texts(at)
    at.button(key="say-real").click().run()
    truth = "a real test image" if found.items[0].source == "real" else f"made by {found.items[0].source}"
    said = (at.success or at.error)[0].value
    assert truth in said and said.startswith("Right" if found.items[0].source == "real" else "Wrong")
    assert "Image 2 of 10" in texts(at) and "your score: " in texts(at)
    at.button(key="say-generated").click().run()
    answers = rounds.read_answers(demo_runs, found.id)
    assert [(a["item"], a["answer"]) for a in answers] == [(0, "real"), (1, "generated")]
    assert len({a["user"] for a in answers}) == 1  # one anonymous player for the tab
    at.button(key="close-round").click().run()
    assert not rounds.current_round(demo_runs).is_open
    assert "1 people** gave 2 answers" in texts(at)
    assert len(at.get("plotly_chart")) == 1


@pytest.fixture
def class_mode(monkeypatch):
    monkeypatch.setenv("GENLAB_CLASS", "1")


@pytest.mark.usefixtures("class_mode")
def test_in_a_class_students_play_and_only_the_teacher_starts_closes_and_sees_it_live(demo_runs):
    amy, lee = roster.add(demo_runs, "amy"), roster.add(demo_runs, "ms-lee", teacher=True)
    student = logged_in("judge", "amy", amy)
    assert "No round is open" in texts(student) and not [b for b in student.button if b.label == "Start the round"]
    teacher = logged_in("judge", "ms-lee", lee)
    teacher.slider[0].set_value(10)
    start_button(teacher).click().run()
    found = rounds.current_round(demo_runs)
    student.run()
    assert "Image 1 of 10" in texts(student) and not [b for b in student.button if b.key == "close-round"]
    student.button(key="say-generated").click().run()
    assert "Results so far" not in texts(student)  # a student sees the results only once the round closes
    teacher.button(key="say-real").click().run()
    assert "2 people** gave 2 answers" in texts(teacher)
    assert {a["user"] for a in rounds.read_answers(demo_runs, found.id)} == {"amy", "ms-lee"}
    teacher.button(key="close-round").click().run()
    student.run()
    assert "Results of the last round" in texts(student) and "2 people** gave 2 answers" in texts(student)
    assert "ms-lee" not in texts(student)  # no one's answers are shown by name


@pytest.mark.usefixtures("class_mode")
def test_the_class_page_shows_the_teacher_the_open_rounds_results_live_and_a_student_nothing(demo_runs):
    amy, lee = roster.add(demo_runs, "amy"), roster.add(demo_runs, "ms-lee", teacher=True)
    found, _ = rounds.start_round(demo_runs, [GAN, VAE], 10, 0, roster.current(demo_runs, User("ms-lee")), 10_000)
    rounds.answer(demo_runs, found.id, "amy", 0, "real")
    teacher = logged_in("class_view", "ms-lee", lee)
    assert "Real or generated? The open round" in texts(teacher) and "1 people** gave 1 answers" in texts(teacher)
    assert "Real or generated?" not in texts(logged_in("class_view", "amy", amy))


def test_an_image_whose_run_was_deleted_after_the_start_is_skipped_with_a_message(demo_runs):
    found, _ = rounds.start_round(demo_runs, [GAN, VAE], 10, 0, None, 10_000)
    shutil.rmtree(demo_runs / GAN)
    at = open_page("judge")
    gone = [i for i, item in enumerate(found.items) if item.source == GAN]
    first_left = next(i for i in range(10) if i not in gone)
    assert f"Image {first_left + 1} of 10" in texts(at)
    if gone[0] < first_left:
        assert f"Image {gone[0] + 1} is skipped: its run {GAN} cannot make it now" in texts(at)
    at.button(key="say-real").click().run()
    assert rounds.read_answers(demo_runs, found.id)[0]["item"] == first_left
