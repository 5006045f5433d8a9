"""Real or generated? rounds: what a round holds, answers kept under a lock (30 people at once,
a second click, a restart), who may start and close one, and the numbers of its results."""

import json
import multiprocessing
import threading

import pytest

from genlab.classroom import roster
from genlab.classroom.access import NotAllowed, User
from genlab.teaching import rounds
from genlab.teaching.rounds import Item, Round, RoundError, Share
from tests.support import SHIPPED, enrol

GAN, VAE = "demo-dcgan-fashion", "demo-vae-fashion"


def started(runs_dir, images=20, seed=3, run_ids=(GAN, VAE), user=None):
    return rounds.start_round(runs_dir, list(run_ids), images, seed, user, test_size=10_000)[0]


@pytest.fixture
def demo_runs(runs_dir):
    """A runs folder with two image demos and a 2-D one (linked: a round writes only in .rounds/)."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    for run_id in (GAN, VAE, "demo-gan-ring"):
        (runs_dir / run_id).symlink_to(SHIPPED / run_id)
    return runs_dir


def test_a_round_is_half_real_half_shared_over_its_runs_in_one_order_for_everyone(demo_runs):
    found = started(demo_runs)
    sources = [i.source for i in found.items]
    assert len(sources) == 20 and sources.count("real") == 10 and sources.count(GAN) == sources.count(VAE) == 5
    real = [i.index for i in found.items if i.source == "real"]
    assert len(set(real)) == 10 and all(0 <= i < 10_000 for i in real)
    assert found.runs == {GAN: 3000, VAE: 3000} and found.dataset == "fashion-mnist" and found.is_open
    assert rounds.draw_items([GAN, VAE], 20, 3, 10_000) == found.items  # the seed decides the order
    assert rounds.draw_items([GAN, VAE], 20, 4, 10_000) != found.items
    assert rounds.current_round(demo_runs) == found


def test_a_missing_or_broken_run_is_left_out_with_a_message_and_a_round_needs_one(demo_runs):
    _, skipped = rounds.start_round(demo_runs, [GAN, "no-such-run", "demo-gan-ring"], 10, 0, None, 10_000)
    assert any("no-such-run is left out" in s for s in skipped)
    assert any("demo-gan-ring is left out: it draws 2-D points" in s for s in skipped)
    with pytest.raises(RoundError, match="already open"):
        started(demo_runs)
    with pytest.raises(RoundError, match="at least one run of images"):
        rounds.start_round(demo_runs / "elsewhere", ["no-such-run"], 10, 0, None, 10_000)
    with pytest.raises(RoundError, match="even number of images between 4 and 200, not 7"):
        rounds.start_round(demo_runs, [GAN], 7, 0, None, 10_000)


def test_a_student_can_neither_start_nor_close_a_round_and_the_teacher_can(demo_runs):
    enrol(demo_runs, User("ada"), User("mr-t", teacher=True))
    with pytest.raises(NotAllowed, match="only the teacher can start a round"):
        started(demo_runs, user=User("ada"))
    found = started(demo_runs, user=User("mr-t"))
    assert found.started_by == "mr-t"
    with pytest.raises(NotAllowed, match="only the teacher can close a round"):
        rounds.close_round(demo_runs, found.id, User("ada"))
    roster.add(demo_runs, "ada", teacher=True)  # promoted: the roster as it is now decides
    assert not rounds.close_round(demo_runs, found.id, User("ada")).is_open


def test_one_answer_per_person_per_image_and_none_after_the_round_closes(demo_runs):
    found = started(demo_runs)
    assert rounds.answer(demo_runs, found.id, "ada", 0, "real")
    assert not rounds.answer(demo_runs, found.id, "ada", 0, "generated")  # a second click is ignored
    assert rounds.answer(demo_runs, found.id, "bo", 0, "generated")
    assert rounds.next_item(found, rounds.read_answers(demo_runs, found.id), "ada") == 1
    with pytest.raises(RoundError, match="has no image 20"):
        rounds.answer(demo_runs, found.id, "ada", 20, "real")
    with pytest.raises(RoundError, match="an answer is one of real, generated"):
        rounds.answer(demo_runs, found.id, "ada", 1, "fake")
    rounds.close_round(demo_runs, found.id, None)
    with pytest.raises(RoundError, match="closed"):
        rounds.answer(demo_runs, found.id, "ada", 1, "real")
    assert [(a["user"], a["item"], a["answer"]) for a in rounds.read_answers(demo_runs, found.id)] == [
        ("ada", 0, "real"), ("bo", 0, "generated")]


def answer_all(runs_dir, round_id, users, items):
    for user in users:
        for item in items:
            rounds.answer(runs_dir, round_id, user, item, "real" if item % 3 else "generated")
            rounds.answer(runs_dir, round_id, user, item, "real")  # a double click: ignored


def test_thirty_people_answering_at_once_lose_no_answer_and_duplicate_none(demo_runs):
    found = started(demo_runs, images=20)
    people = [f"student-{k}" for k in range(30)]
    # 27 in threads of this process (as the app's sessions are), 3 in another process (as a
    # second app process behind nginx is): the lock holds across both
    threads = [threading.Thread(target=answer_all, args=(demo_runs, found.id, [p], range(20))) for p in people[:27]]
    # forked before any thread starts (a fork beside running threads may copy a held lock)
    procs = [multiprocessing.get_context("fork").Process(target=answer_all,
                                                         args=(demo_runs, found.id, people[27:], range(20)))]
    for worker in procs + threads:
        worker.start()
    for worker in threads + procs:
        worker.join(120)
    answers = rounds.read_answers(demo_runs, found.id)
    pairs = [(a["user"], a["item"]) for a in answers]
    assert len(pairs) == len(set(pairs)) == 30 * 20
    assert all(a["answer"] == ("real" if a["item"] % 3 else "generated") for a in answers)  # each first click


def test_a_round_and_its_answers_survive_a_restart_and_a_torn_last_line(demo_runs):
    found = started(demo_runs)
    rounds.answer(demo_runs, found.id, "ada", 0, "real")
    answers_file = rounds.folder(demo_runs) / f"{found.id}.answers.jsonl"
    with answers_file.open("a") as f:
        f.write('{"user": "bo", "item": 1, "ans')  # the machine stopped mid-line
    again = rounds.current_round(demo_runs)  # what a restarted app reads: the files alone
    assert again == found and again.is_open
    assert [a["user"] for a in rounds.read_answers(demo_runs, found.id)] == ["ada"]
    assert json.loads(answers_file.read_text().splitlines()[0])["item"] == 0


def test_the_fooling_rate_and_its_interval_on_known_answers():
    found = Round("r", 0, "fashion-mnist", {GAN: 1, VAE: 1},
                  [Item("real", 5), Item(GAN, 1), Item(VAE, 2), Item(GAN, 3)], "", 0.0)
    answers = ([{"user": f"u{k}", "item": 1, "answer": "real" if k < 6 else "generated"} for k in range(10)]
               + [{"user": f"u{k}", "item": 3, "answer": "real" if k < 2 else "generated"} for k in range(10)]
               + [{"user": f"u{k}", "item": 2, "answer": "generated"} for k in range(4)]
               + [{"user": f"u{k}", "item": 0, "answer": "real" if k < 7 else "generated"} for k in range(10)])
    out = rounds.results(found, answers)
    assert out.runs[GAN] == Share(8, 20) and out.runs[GAN].rate == 0.4
    assert out.runs[VAE] == Share(0, 4) and out.real == Share(7, 10)
    # right: GAN judged generated 12, VAE 4, real judged real 7 -> 23 of 34
    assert (out.correct, out.answers, out.players) == (23, 34, 10)
    low, high = out.runs[GAN].interval  # Wilson's interval for 8 of 20, as statsmodels gives it
    assert (low, high) == pytest.approx((0.2188, 0.6134), abs=1e-4)
    assert out.runs[VAE].interval == pytest.approx((0.0, 0.4899), abs=1e-4)  # none of 4: not the empty [0, 0]
    assert Share(0, 0).interval is None and Share(0, 0).rate is None


def test_people_and_fid_agree_or_not_as_the_rank_correlation_says():
    shares = {"a": Share(9, 10), "b": Share(5, 10), "c": Share(1, 10)}
    out = rounds.Results(shares, Share(5, 10), 0, 30, 3)
    agree = rounds.fid_agreement(out, {"a": 10.0, "b": 20.0, "c": 80.0})
    assert agree.as_expected and "rank correlation -1.00" in agree.text
    disagree = rounds.fid_agreement(out, {"a": 80.0, "b": 20.0, "c": 10.0})
    assert not disagree.as_expected and "+1.00" in disagree.text and "disagree" in disagree.text
    assert rounds.fid_agreement(out, {"a": 10.0}) is None  # one run with an FID: nothing to rank


def test_a_removed_student_answers_nothing(demo_runs):
    enrol(demo_runs, User("ada"))
    found = started(demo_runs)
    assert rounds.answer(demo_runs, found.id, "ada", 0, "real", User("ada"))
    roster.remove(demo_runs, "ada")
    with pytest.raises(NotAllowed, match="no longer on this class's roster"):
        rounds.answer(demo_runs, found.id, "ada", 1, "real", User("ada"))
    assert [a["item"] for a in rounds.read_answers(demo_runs, found.id)] == [0]
