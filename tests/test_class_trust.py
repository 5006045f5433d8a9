"""A class server a teacher can trust (#23): sessions that end, every action checked against
the roster as it is now, limits that hold when two requests race, no student holding the
only slot for days, and a broken file that is one message while everything else works."""

import json
import os
import stat
import threading
import time
import zipfile

import pytest

from genlab import jobs, settings
from genlab.classroom import roster
from genlab.classroom.access import NotAllowed, OverQuota, User
from genlab.classroom.uploads import content_id, store_upload, upload_path, uploads_dir, used_bytes
from genlab.cli import main
from genlab.config import ConfigError
from genlab.data import DatasetError, load_dataset
from genlab.jobs import actions
from genlab.store.lifecycle import process_start
from genlab.store.locks import exclusive
from genlab.store.runs import RunError, check_run_id, create_run, list_runs
from genlab.teaching.lessons import LESSONS
from genlab.training.trainer import Trainer
from tests.pages import logged_in, open_page
from tests.support import SHIPPED, enrol, force_status, texts, tiny_config, tiny_run

AMY, BEN, TEACHER = User("amy"), User("ben"), User("ms-lee", teacher=True)


@pytest.fixture
def class_mode(monkeypatch):
    monkeypatch.setenv("GENLAB_CLASS", "1")


@pytest.fixture
def no_workers(monkeypatch):
    """Launched runs stay queued: these tests are about what is accepted, not training."""
    monkeypatch.setattr(actions, "schedule", lambda runs_dir: [])


def sessions(runs_dir) -> dict:
    return json.loads((runs_dir / roster.ROSTER).read_text())["sessions"]


def on_login_form(at) -> bool:
    return any(t.key == "login-name" for t in at.text_input)


# ---- sessions and accounts ------------------------------------------------------------------

@pytest.mark.usefixtures("class_mode")
def test_logging_out_ends_the_session_on_the_server_whatever_the_browser_sent(runs_dir):
    """The cookie is set by the browser after the page connected, so a logout in the same tab
    never saw it: the session stayed valid for a school day."""
    password = roster.add(runs_dir, "amy")
    at = logged_in("home", "amy", password)
    assert at.title[0].value == "GenLab" and len(sessions(runs_dir)) == 1
    at.button(key="logout").click().run()
    assert sessions(runs_dir) == {} and on_login_form(at)


@pytest.mark.usefixtures("class_mode", "no_workers")
def test_a_removed_student_can_do_nothing_from_a_tab_left_open(runs_dir):
    roster.add(runs_dir, "ms-lee", teacher=True)
    password = roster.add(runs_dir, "amy")
    at = logged_in("train", "amy", password)
    roster.remove(runs_dir, "amy")
    with pytest.raises(NotAllowed, match="amy is no longer on this class's roster"):
        jobs.launch(tiny_config(), runs_dir, user=AMY)  # what her open tab holds and would send
    at.button(key="launch").click().run()
    assert on_login_form(at) and not list_runs(runs_dir)


def test_a_teacher_made_a_student_again_loses_the_teachers_rights_at_once(runs_dir):
    enrol(runs_dir, TEACHER, BEN)
    bens = create_run(runs_dir, tiny_config(), state="completed", user="ben")
    enrol(runs_dir, User("ms-lee"))  # `class add ms-lee` again, without --teacher
    with pytest.raises(NotAllowed, match="ms-lee may not delete"):
        jobs.delete(runs_dir, bens.id, user=TEACHER)  # the User her open session still holds
    with pytest.raises(NotAllowed, match="ms-lee may not evaluate"):
        jobs.start_evaluation(runs_dir, bens.id, user=TEACHER)
    assert bens.path.exists()


def test_a_new_password_ends_the_sessions_of_the_old_one(runs_dir):
    roster.add(runs_dir, "amy")
    token = roster.open_session(runs_dir, AMY)
    assert roster.session_user(runs_dir, token) == AMY
    roster.add(runs_dir, "amy")  # the teacher resets her password
    assert roster.session_user(runs_dir, token) is None


def test_the_teacher_sees_who_is_locked_out_and_lets_them_in(runs_dir, capsys):
    password = roster.add(runs_dir, "amy")
    for i in range(roster.MAX_FAILURES):
        with pytest.raises(roster.LoginRefused):
            roster.log_in(runs_dir, "amy", f"guess {i}", address="10.0.0.9")
    assert roster.locked_out(runs_dir) == [("name amy from 10.0.0.9", 10)]
    assert main(["class", "locks", "--runs-dir", str(runs_dir)]) == 0
    assert capsys.readouterr().out == "name amy from 10.0.0.9\t10 min\n"
    assert main(["class", "unlock", "amy", "--runs-dir", str(runs_dir)]) == 0
    assert roster.log_in(runs_dir, "amy", password, address="10.0.0.9") == AMY and not roster.locked_out(runs_dir)


def test_wrong_passwords_long_expired_are_forgotten_not_kept_for_ever(runs_dir):
    """A count whose every time had expired stayed in .roster.json: a term of typos from
    thirty laptops grew the file that every page run reads."""
    for i in range(3):
        with pytest.raises(roster.LoginRefused):
            roster.log_in(runs_dir, "amy", "typo", address=f"10.0.0.{i}", now=1000.0)
    with pytest.raises(roster.LoginRefused):  # the next lesson, past the lockout window
        roster.log_in(runs_dir, "ben", "typo", address="10.0.0.99", now=1000.0 + roster.LOCKOUT_S + 1)
    kept = json.loads((runs_dir / ".roster.json").read_text())["failures"]
    assert set(kept) == {"name ben from 10.0.0.99", "address 10.0.0.99"}


@pytest.mark.usefixtures("class_mode")
def test_the_class_page_shows_the_teacher_who_is_locked_out_with_an_unlock_button(runs_dir):
    teacher_password = roster.add(runs_dir, "ms-lee", teacher=True)
    roster.add(runs_dir, "amy")
    for i in range(roster.MAX_FAILURES):
        with pytest.raises(roster.LoginRefused):
            roster.log_in(runs_dir, "amy", f"guess {i}", address="10.0.0.9")
    at = logged_in("class_view", "ms-lee", teacher_password)
    assert any("name amy from 10.0.0.9" in w.value for w in at.warning)
    at.button(key="unlock-name amy from 10.0.0.9").click().run()
    assert not roster.locked_out(runs_dir) and not any("amy" in w.value for w in at.warning)


def test_a_right_password_waits_for_no_lock_and_writes_nothing(runs_dir):
    """Logins were serialised behind one exclusive lock held through the argon2 check and a
    rewrite of the roster: a right login waited behind every wrong guess."""
    password = roster.add(runs_dir, "amy")
    before = (runs_dir / roster.ROSTER).stat().st_mtime_ns
    logged_in = threading.Event()
    with exclusive(runs_dir / ".roster.lock"):  # as while a wrong guess is being recorded
        login = threading.Thread(target=lambda: roster.log_in(runs_dir, "amy", password) and logged_in.set())
        login.start()
        login.join(timeout=30)
        assert logged_in.is_set()
    assert (runs_dir / roster.ROSTER).stat().st_mtime_ns == before


def test_a_full_disk_refuses_no_right_password(runs_dir, monkeypatch):
    password = roster.add(runs_dir, "amy")
    monkeypatch.setenv("GENLAB_FAULTS", "write:.roster.json=enospc@1,write:.roster.json=enospc@2")
    with pytest.raises(roster.LoginRefused, match="Wrong name or password"):  # recorded or not: a refusal
        roster.log_in(runs_dir, "amy", "a guess")
    assert roster.log_in(runs_dir, "amy", password) == AMY
    with pytest.raises(OSError):
        roster.open_session(runs_dir, AMY)  # what the app then tells the student: in, for this tab


@pytest.mark.usefixtures("class_mode")
def test_the_app_lets_a_student_in_for_the_tab_when_the_disk_is_full(runs_dir, monkeypatch):
    password = roster.add(runs_dir, "amy")
    monkeypatch.setenv("GENLAB_FAULTS", "write:.roster.json=enospc")
    at = logged_in("home", "amy", password)
    assert at.title[0].value == "GenLab" and not on_login_form(at)
    assert any("for this tab only" in w.value for w in at.sidebar.warning)


def test_the_roster_is_readable_by_its_owner_only_and_an_old_one_is_made_so(runs_dir):
    roster.add(runs_dir, "amy")
    path = runs_dir / roster.ROSTER
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(path, 0o644)  # as GenLab wrote it before
    roster.members(runs_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("value,serving_a_class", [("1", True), ("true", True), ("Yes", True), (" on ", True),
                                                   (" 1", True), ("0", False), ("false", False), ("", False),
                                                   ("OFF", False)])
def test_the_class_setting_takes_the_usual_spellings(monkeypatch, value, serving_a_class):
    monkeypatch.setenv("GENLAB_CLASS", value)
    assert settings.class_mode() is serving_a_class


@pytest.mark.parametrize("value", ["2", "tru", "y", "1 1"])
def test_a_class_setting_that_is_neither_is_refused_at_start(monkeypatch, value):
    monkeypatch.setenv("GENLAB_CLASS", value)
    with pytest.raises(ConfigError, match="GENLAB_CLASS must be 1 or 0"):
        settings.check_all()
    at = open_page("home")
    assert [e.value for e in at.error] == [f"GenLab cannot start: GENLAB_CLASS must be 1 or 0 (true/false, yes/no, "
                                           f"on/off), not {value.strip().lower()!r}."]


def test_a_trailing_newline_is_neither_a_name_nor_a_run_id():
    for check, value, error in [(roster.check_name, "amy\n", ConfigError),
                                (roster.check_email, "a@b.org\n", ConfigError), (check_run_id, "run-1\n", RunError)]:
        with pytest.raises(error):
            check(value)


def test_whole_number_settings_refuse_other_digits(monkeypatch):
    monkeypatch.setenv("GENLAB_MAX_JOBS", "²")
    with pytest.raises(ConfigError, match="GENLAB_MAX_JOBS must be a whole number of at least 1"):
        settings.check_all()


# ---- checks that hold -----------------------------------------------------------------------

def test_evaluating_another_students_run_is_refused(runs_dir):
    enrol(runs_dir, AMY, BEN)
    bens = create_run(runs_dir, tiny_config(), state="completed", user="ben")
    with pytest.raises(NotAllowed, match=f"amy may not evaluate run {bens.id}: it is ben's"):
        jobs.start_evaluation(runs_dir, bens.id, user=AMY)
    assert not bens.evaluating_path.exists()


def test_evaluations_beyond_the_limit_are_refused_with_what_is_running(runs_dir, monkeypatch):
    monkeypatch.setenv("GENLAB_MAX_EVALS", "1")
    busy, other = tiny_run(runs_dir), tiny_run(runs_dir)
    me = os.getpid()
    busy.evaluating_path.write_text(json.dumps({"pid": me, "pid_start": process_start(me), "started": 0}))
    with pytest.raises(RunError, match=rf"1 evaluation\(s\) are running \({busy.id}\).*GENLAB_MAX_EVALS=1"):
        jobs.start_evaluation(runs_dir, other.id)
    assert not other.evaluating_path.exists()


def zip_bytes() -> bytes:
    import io

    from PIL import Image

    buf, image = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (12, 12), (200, 10, 10)).save(image, format="PNG")
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(4):
            zf.writestr(f"red/{i}.png", image.getvalue())
    return buf.getvalue() + os.urandom(300_000)  # room-taking, and every zip different


def test_two_uploads_at_once_cannot_both_fit_in_room_for_one(isolated_dirs, monkeypatch):
    monkeypatch.setenv("GENLAB_UPLOAD_QUOTA_MB", "1")
    def upload(raw, start, stored):
        start.wait()
        try:
            stored.append(store_upload(raw, "mine.zip", AMY))
        except OverQuota:
            pass

    for _ in range(10):
        payloads = [zip_bytes() + os.urandom(250_000) for _ in range(2)]  # 0.55 MB each: one fits in 1 MB
        stored, start = [], threading.Barrier(2)
        threads = [threading.Thread(target=upload, args=(raw, start, stored)) for raw in payloads]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert len(stored) == 1 and used_bytes(AMY) <= 2**20
        stored[0].unlink()


@pytest.mark.usefixtures("no_workers")
def test_an_upload_whose_launch_is_refused_is_not_kept(runs_dir, monkeypatch):
    enrol(runs_dir, AMY)
    monkeypatch.setenv("GENLAB_MAX_RUNS_PER_USER", "1")
    jobs.launch(tiny_config(), runs_dir, user=AMY)  # her one run
    raw = zip_bytes()
    path = upload_path(content_id(raw), "shapes.zip", AMY)
    with pytest.raises(OverQuota, match="amy already has 1 runs"):
        jobs.launch(tiny_config("dcgan", "folder", path=str(path)), runs_dir, user=AMY,
                    upload=jobs.Upload(raw, "shapes.zip"))
    assert not path.exists() and not (uploads_dir() / "amy").exists()
    with pytest.raises(ConfigError, match="trains on .*a.zip, where the upload is kept"):
        jobs.launch(tiny_config("dcgan", "folder", path="/etc/elsewhere.zip"), runs_dir,
                    upload=jobs.Upload(raw, "a.zip"))


@pytest.mark.usefixtures("no_workers")
def test_a_lesson_launches_all_of_its_runs_or_none(runs_dir, monkeypatch):
    enrol(runs_dir, AMY)
    monkeypatch.setenv("GENLAB_MAX_RUNS_PER_USER", "2")
    lesson = LESSONS["regularisation"]
    with pytest.raises(OverQuota, match="amy has no run yet; these 4 runs would make 4; the limit is 2 per student"):
        jobs.launch_all(lesson.configs(), runs_dir, user=AMY)
    assert not list_runs(runs_dir)
    assert len(jobs.launch_all(LESSONS["mode-collapse"].configs(), runs_dir, user=AMY)) == 2


@pytest.mark.usefixtures("class_mode", "no_workers")
def test_the_lesson_page_says_each_runs_setting_and_launches_nothing_past_the_limit(runs_dir, monkeypatch):
    monkeypatch.setenv("GENLAB_MAX_RUNS_PER_USER", "2")
    password = roster.add(runs_dir, "amy")
    at = logged_in("lessons", "amy", password, lesson="regularisation")
    caption = next(c.value for c in at.caption if c.value.startswith("Launches these runs"))
    for setting in ("the baseline", "weight decay 0.001", "spectral norm", "R1 weight 0.1"):
        assert f"gan on grid, {setting}, 5,000 steps" in caption
    at.button(key="launch-regularisation").click().run()
    assert any("these 4 runs would make 4" in e.value for e in at.error) and not list_runs(runs_dir)


@pytest.mark.usefixtures("no_workers")
def test_a_students_run_may_not_ask_for_more_steps_than_the_class_allows(runs_dir, monkeypatch):
    enrol(runs_dir, AMY, TEACHER)
    monkeypatch.setenv("GENLAB_STUDENT_MAX_STEPS", "100")
    with pytest.raises(OverQuota, match="1,000 steps is more than the 100 a student's run may have"):
        jobs.launch(tiny_config(steps=1000), runs_dir, user=AMY)
    assert "time_limit_s" not in jobs.launch(tiny_config(steps=1000), runs_dir, user=TEACHER).status()
    assert jobs.launch(tiny_config(steps=100), runs_dir, user=AMY).status()["time_limit_s"] == 30 * 60


@pytest.mark.usefixtures("no_workers")
def test_a_students_run_stops_at_the_time_limit_and_only_the_teacher_lets_it_go_on(runs_dir):
    enrol(runs_dir, AMY, TEACHER)
    run = create_run(runs_dir, tiny_config(steps=10_000_000, log_every=1000), state="queued", user="amy",
                     time_limit_s=1.0)
    force_status(run, state="starting")
    assert Trainer(run, foreground=False).train() == "cancelled"
    status = run.status()
    assert status["error"].startswith("stopped after 1 s of training, the limit of a student's run")
    assert 1.0 <= status["elapsed_s"] < 10 and status["step"] < 10_000_000
    with pytest.raises(OverQuota, match="only the teacher may let it go on"):
        jobs.resume(runs_dir, run.id, user=AMY)
    jobs.resume(runs_dir, run.id, user=TEACHER)
    assert run.status()["state"] == "queued" and run.status()["time_limit_s"] is None


def test_a_launch_that_cannot_be_written_leaves_nothing_behind(runs_dir, monkeypatch):
    runs_dir.mkdir()
    monkeypatch.setenv("GENLAB_FAULTS", "write:status.json=enospc")
    with pytest.raises(OSError):
        jobs.launch(tiny_config(), runs_dir)
    assert not list_runs(runs_dir) and not [p for p in runs_dir.iterdir() if p.is_dir()]


def test_the_train_page_says_so_in_one_line_when_the_disk_is_full(runs_dir, monkeypatch):
    monkeypatch.setenv("GENLAB_FAULTS", "write:status.json=enospc")
    at = open_page("train")
    at.selectbox(key="dataset").select("ring").run()
    at.button(key="launch").click().run()
    assert [e.value for e in at.error] == ["The run could not be written (No space left on device (injected)); "
                                           "nothing was kept. Free some space and launch again."]
    assert not list_runs(runs_dir)


# ---- broken files ---------------------------------------------------------------------------

@pytest.mark.parametrize("section,field,value,message", [
    ("model", "hidden", -4, "hidden width must be between 8 and 4096, not -4"),
    ("model", "family", "flow", "family must be one of gan, vae, not 'flow'")])
def test_a_config_broken_by_hand_is_a_broken_run_and_one_line_from_the_cli(runs_dir, capsys, section, field, value,
                                                                          message, tmp_path):
    run = tiny_run(runs_dir)
    assert Trainer(run).train() == "completed"
    raw = json.loads(run.config_path.read_text())
    raw[section][field] = value
    run.config_path.write_text(json.dumps(raw))
    [summary] = list_runs(runs_dir)
    assert summary.state == "broken" and message in summary.error
    for argv in (["sample", run.id, "--out", str(tmp_path / "x.png")], ["eval", run.id]):
        with pytest.raises(SystemExit):
            main([*argv, "--runs-dir", str(runs_dir)])
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err
    for page in ("runs", "latent", "compare"):
        at = open_page(page, run=run.id)
        assert not at.exception


def test_a_truncated_snapshot_picture_is_a_message_on_the_runs_page(runs_dir):
    run = tiny_run(runs_dir)
    assert Trainer(run).train() == "completed"
    picture = run.latest_picture()[1]
    picture.write_bytes(picture.read_bytes()[:60])
    for page, params in (("runs", {"run": run.id}), ("class_view", {}), ("samples", {"runs": run.id})):
        at = open_page(page, **params)
        assert any("cannot be read (a damaged file)" in w.value for w in at.warning), page


@pytest.mark.parametrize("roster_file,what", [
    ({"accounts": ["amy"]}, "'accounts' must be an object"),
    ({"accounts": {"amy": "hash"}}, "the account 'amy' is not an account"),
    ({"accounts": {}, "failures": {"address 1.2.3.4": ["yesterday"]}}, "are not a list of times")])
def test_a_broken_roster_is_one_message_in_the_cli_and_the_app(runs_dir, capsys, monkeypatch, roster_file, what):
    runs_dir.mkdir()
    (runs_dir / roster.ROSTER).write_text(json.dumps(roster_file))
    with pytest.raises(SystemExit):
        main(["class", "list", "--runs-dir", str(runs_dir)])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the class roster" in err and what in err
    with pytest.raises(ConfigError, match=what):
        roster.log_in(runs_dir, "amy", "password")
    monkeypatch.setenv("GENLAB_CLASS", "1")
    at = open_page("home")
    assert len(at.error) == 1 and at.error[0].value.startswith("GenLab cannot let anyone in: the class roster")


def test_a_zip_with_two_members_of_one_name_is_refused_by_name(tmp_path):
    path = tmp_path / "twice.zip"
    with zipfile.ZipFile(path, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("a.png", b"one")
        zf.writestr("a.png", b"two")
    with pytest.raises(DatasetError, match="twice.zip holds two members called 'a.png'"):
        load_dataset("folder", path=str(path))


def test_session_tokens_outlive_nothing_that_ended_them(runs_dir):
    """Logging out, removal and expiry each end a session; an unknown token finds nobody."""
    roster.add(runs_dir, "amy")
    tokens = [roster.open_session(runs_dir, AMY, now=time.time()) for _ in range(2)]
    roster.close_session(runs_dir, tokens[0])
    assert roster.session_user(runs_dir, tokens[0]) is None and roster.session_user(runs_dir, tokens[1]) == AMY
    roster.remove(runs_dir, "amy")
    assert roster.session_user(runs_dir, tokens[1]) is None and sessions(runs_dir) == {}


def test_the_command_line_cancels_and_deletes_runs_as_the_teacher(runs_dir, capsys):
    run = create_run(runs_dir, tiny_config(), state="queued", user="amy")
    assert main(["cancel", run.id, "--runs-dir", str(runs_dir)]) == 0
    assert capsys.readouterr().out == f"{run.id}: cancelled (it was queued)\n" and run.status()["state"] == "cancelled"
    assert main(["delete", run.id, "--runs-dir", str(runs_dir)]) == 0
    assert not run.path.exists()
    with pytest.raises(SystemExit):
        main(["delete", "no-such-run", "--runs-dir", str(runs_dir)])
    assert capsys.readouterr().err.count("\n") == 1


def queued_summary(runs_dir, user: str, at: float):
    return create_run(runs_dir, tiny_config(), state="queued", user=user, queued_at=at)


def test_each_queued_run_shows_its_place_and_when_a_slot_frees(runs_dir):
    from genlab.views.overview import queue_notes

    running = create_run(runs_dir, tiny_config(steps=1000), state="running", user="ben", step=250, elapsed_s=60.0)
    first, second = queued_summary(runs_dir, "amy", 1.0), queued_summary(runs_dir, "cat", 2.0)
    summaries = {s.run.id: s for s in list_runs(runs_dir)}
    order, live = [summaries[first.id], summaries[second.id]], [summaries[running.id]]
    assert queue_notes(order, live, slots=2) == {first.id: "#1 in the queue; starts now",
                                                 second.id: "#2 in the queue; a slot frees in about 3 min"}
    assert queue_notes(order, live, slots=1)[second.id] == "#2 in the queue; starts when a slot frees"


def test_the_runs_page_shows_the_queue(runs_dir, monkeypatch):
    from genlab.jobs import reconciler

    monkeypatch.setattr(reconciler, "schedule", lambda runs_dir: [])  # the runs stay queued while the page looks
    monkeypatch.setenv("GENLAB_MAX_JOBS", "1")
    first, second = queued_summary(runs_dir, "amy", 1.0), queued_summary(runs_dir, "cat", 2.0)
    table = open_page("runs").dataframe[0].value.set_index("run")
    assert table.loc[first.id, "time"] == "#1 in the queue; starts now"
    assert table.loc[second.id, "time"] == "#2 in the queue; starts when a slot frees"


@pytest.mark.usefixtures("class_mode")
def test_a_student_cannot_launch_a_run_estimated_longer_than_the_class_allows(runs_dir, monkeypatch):
    from app_pages.components import shared

    monkeypatch.setattr(shared, "measure_step_rate", lambda config, data, device: 10.0)  # 10 steps/s
    shared._step_rate.clear()
    monkeypatch.setenv("GENLAB_STUDENT_MAX_MINUTES", "1")
    password = roster.add(runs_dir, "amy")
    at = logged_in("train", "amy", password)
    at.selectbox(key="dataset").select("ring").run()  # 5,000 steps: about 8 min here
    assert any("about 8 min is longer than the 1 min a student's run may train in this class; try fewer steps "
               "(about 600 fit)" in e.value for e in at.error)
    assert at.button(key="launch").disabled


def test_the_shipped_demos_show_wherever_the_runs_folder_is_and_stay_read_only(runs_dir, monkeypatch):
    from genlab.teaching.demos import DEMOS

    monkeypatch.delenv("GENLAB_DEMOS")  # the default: the demos of this checkout
    assert {s.run.id for s in list_runs(runs_dir)} == {d.run_id for d in DEMOS}  # a fresh, empty runs folder
    at = open_page("lessons", lesson="mode-collapse")
    assert not at.warning and "needs the demo runs" not in texts(at)
    with pytest.raises(RunError, match="is a demo that ships with GenLab"):
        jobs.delete(runs_dir, "demo-gan-ring")
    with pytest.raises(RunError, match="is a demo that ships with GenLab"):
        jobs.start_evaluation(runs_dir, "demo-gan-ring")
    assert (SHIPPED / "demo-gan-ring" / "config.json").exists()
