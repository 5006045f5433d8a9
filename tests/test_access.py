"""A class on one server (#13): who may change which run, the per-student limit, and a
queue that takes turns between students. The checks are genlab's, so every page and any
crafted request meets them."""

import json
import time

import pytest

from genlab import jobs
from genlab.classroom.access import ACCESS_LOG, NotAllowed, OverQuota, User
from genlab.jobs import actions
from genlab.store.runs import create_run, list_runs
from tests.pages import logged_in
from tests.support import enrol, tiny_config

AMY, BEN, TEACHER = User("amy"), User("ben"), User("ms-lee", teacher=True)


@pytest.fixture
def the_class(runs_dir):
    """Amy, Ben and their teacher on the roster: genlab checks every action against it."""
    enrol(runs_dir, AMY, BEN, TEACHER)


def made(runs_dir, state="completed", user=None, **fields):
    return create_run(runs_dir, tiny_config(), state=state, **({"user": user} if user else {}), **fields)


def refusals(runs_dir) -> list[dict]:
    path = runs_dir / ACCESS_LOG
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.usefixtures("the_class")
def test_a_student_may_change_only_their_own_runs_and_is_logged_trying(runs_dir):
    bens = made(runs_dir, user="ben")
    for action, call in [("delete", lambda: jobs.delete(runs_dir, bens.id, user=AMY)),
                         ("resume", lambda: jobs.resume(runs_dir, bens.id, user=AMY))]:
        with pytest.raises(NotAllowed, match=f"amy may not {action} run {bens.id}: it is ben's"):
            call()
    assert bens.path.exists() and bens.status()["state"] == "completed"  # intact
    assert [(r["user"], r["action"], r["target"]) for r in refusals(runs_dir)] == [
        ("amy", "delete", bens.id), ("amy", "resume", bens.id)]
    jobs.delete(runs_dir, bens.id, user=BEN)
    assert not bens.path.exists()


@pytest.mark.usefixtures("the_class")
def test_the_teacher_may_change_any_run_and_nobodys_runs_are_the_teachers(runs_dir):
    orphan, amys = made(runs_dir), made(runs_dir, user="amy")
    with pytest.raises(NotAllowed, match="nobody's"):
        jobs.delete(runs_dir, orphan.id, user=AMY)
    jobs.delete(runs_dir, amys.id, user=TEACHER)
    jobs.delete(runs_dir, orphan.id, user=TEACHER)
    jobs.delete(runs_dir, made(runs_dir).id)  # no user at all: a laptop, the command line
    assert not list_runs(runs_dir)


@pytest.mark.usefixtures("the_class")
def test_cancelling_another_students_run_is_refused_before_anything_changes(runs_dir):
    bens = made(runs_dir, state="queued", user="ben")
    with pytest.raises(NotAllowed):
        jobs.cancel(runs_dir, bens.id, user=AMY)
    assert bens.status()["state"] == "queued"
    assert jobs.cancel(runs_dir, bens.id, user=BEN) == "queued"


@pytest.mark.usefixtures("the_class")
def test_a_student_at_the_limit_is_told_which_limit_and_how_to_free_room(runs_dir, monkeypatch):
    monkeypatch.setattr(actions, "schedule", lambda runs_dir: [])  # keep them queued: no workers here
    monkeypatch.setenv("GENLAB_MAX_RUNS_PER_USER", "2")
    first = jobs.launch(tiny_config(), runs_dir, user=AMY)
    jobs.launch(tiny_config(), runs_dir, user=AMY)
    assert first.status()["user"] == "amy"
    with pytest.raises(OverQuota, match="amy already has 2 runs queued or training .* the limit is 2 per "
                                        "student: wait for one to finish, or cancel one on the Runs page"):
        jobs.launch(tiny_config(), runs_dir, user=AMY)
    jobs.launch(tiny_config(), runs_dir, user=BEN)  # the limit is per student
    jobs.launch(tiny_config(), runs_dir, user=TEACHER)  # and not the teacher's
    jobs.launch(tiny_config(), runs_dir, user=TEACHER)
    jobs.launch(tiny_config(), runs_dir, user=TEACHER)
    assert len(list_runs(runs_dir)) == 6
    stopped = made(runs_dir, state="cancelled", user="amy")
    with pytest.raises(OverQuota):  # resuming counts too
        jobs.resume(runs_dir, stopped.id, user=AMY)
    assert stopped.status()["state"] == "cancelled"


@pytest.mark.usefixtures("the_class")
def test_the_queue_takes_turns_between_students(runs_dir):
    for user, n in [("amy", 4), ("ben", 2), (None, 1), ("cat", 1)]:
        for _ in range(n):
            made(runs_dir, state="queued", user=user)
    queued = [s for s in list_runs(runs_dir) if s.state == "queued"]
    order = [s.status.get("user") for s in jobs.fair_order(queued, [])]
    # amy queued first, but every user gets a turn before she gets a second
    assert order[:4] == ["amy", "ben", None, "cat"] and order[4:] == ["amy", "ben", "amy", "amy"]


@pytest.mark.usefixtures("the_class")
def test_a_student_already_training_waits_behind_one_who_is_not(runs_dir):
    made(runs_dir, state="queued", user="amy")
    made(runs_dir, state="queued", user="ben")
    training = made(runs_dir, state="running", user="amy")
    summaries = {s.run.id: s for s in list_runs(runs_dir)}
    queued = [s for s in summaries.values() if s.state == "queued"]
    order = jobs.fair_order(queued, [summaries[training.id]])
    assert [s.status["user"] for s in order] == ["ben", "amy"]


@pytest.mark.slow  # real workers, one at a time
@pytest.mark.usefixtures("the_class")
def test_real_workers_start_in_turns(runs_dir, monkeypatch):
    """One slot: amy queues three runs, then ben one; ben's starts second, not fourth."""
    from tests.support import wait_for

    monkeypatch.setenv("GENLAB_MAX_JOBS", "1")
    monkeypatch.setenv("GENLAB_MAX_RUNS_PER_USER", "5")
    runs = [jobs.launch(tiny_config(steps=30, seed=i), runs_dir, user=AMY) for i in range(3)]
    runs.append(jobs.launch(tiny_config(steps=30), runs_dir, user=BEN))
    wait_for(lambda: all(r.status()["state"] == "completed" for r in runs), timeout=120)
    started = sorted(runs, key=lambda r: r.status()["started"])
    assert [r.status()["user"] for r in started] == ["amy", "ben", "amy", "amy"]


# ---- the roster -----------------------------------------------------------------------------

def test_an_account_logs_in_with_its_password_which_is_stored_only_as_a_hash(runs_dir):
    from genlab.classroom import roster

    password = roster.add(runs_dir, "amy")
    teacher_password = roster.add(runs_dir, "ms-lee", teacher=True)
    assert password not in (runs_dir / roster.ROSTER).read_text()
    assert roster.log_in(runs_dir, "amy", password) == AMY
    assert roster.log_in(runs_dir, "ms-lee", teacher_password) == TEACHER
    assert roster.members(runs_dir) == [AMY, TEACHER]


def test_a_wrong_name_or_password_says_the_same_and_attempts_are_limited(runs_dir):
    from genlab.classroom import roster

    password = roster.add(runs_dir, "amy")
    for name, guess in [("amy", "guess"), ("nobody", password)]:
        with pytest.raises(roster.LoginRefused) as refused:
            roster.log_in(runs_dir, name, guess, address="10.0.0.9")
        assert str(refused.value) == "Wrong name or password."
    now = time.time() + 3600  # an hour on: the wrong guesses above have expired
    for name in ("amy", "nobody"):  # a real name and an unknown one are limited alike, and say the same
        for i in range(roster.MAX_FAILURES):
            with pytest.raises(roster.LoginRefused, match="Wrong name or password"):
                roster.log_in(runs_dir, name, f"guess {i}", address="10.0.0.9", now=now + i)
        with pytest.raises(roster.LoginRefused) as refused:
            roster.log_in(runs_dir, name, password, address="10.0.0.9", now=now + 10)  # even the right one
        assert str(refused.value) == "Too many wrong passwords from this computer: try again in 10 min."
    # A classmate's guesses from their own computer do not lock amy out at hers.
    assert roster.log_in(runs_dir, "amy", password, address="10.0.0.5", now=now + 11) == AMY
    assert roster.log_in(runs_dir, "amy", password, address="10.0.0.9", now=now + roster.LOCKOUT_S + 5) == AMY


def test_the_class_command_adds_lists_and_removes_accounts(runs_dir, capsys):
    from genlab.classroom import roster
    from genlab.cli import main

    assert main(["class", "add", "amy", "--runs-dir", str(runs_dir)]) == 0
    password = capsys.readouterr().out.split("password ")[1].split()[0]
    assert roster.log_in(runs_dir, "amy", password) == AMY
    main(["class", "add", "ms-lee", "--teacher", "--runs-dir", str(runs_dir)])
    capsys.readouterr()
    main(["class", "list", "--runs-dir", str(runs_dir)])
    assert capsys.readouterr().out == "amy\tstudent\nms-lee\tteacher\n"
    main(["class", "remove", "amy", "--runs-dir", str(runs_dir)])
    with pytest.raises(roster.LoginRefused):
        roster.log_in(runs_dir, "amy", password)
    with pytest.raises(SystemExit):
        main(["class", "add", "Not A Name", "--runs-dir", str(runs_dir)])


# ---- the app in class mode ----------------------------------------------------------------

@pytest.fixture
def class_server(runs_dir, monkeypatch):
    """The app as `make serve` runs it: a roster with a teacher and two students."""
    from genlab.classroom import roster

    monkeypatch.setenv("GENLAB_CLASS", "1")
    return {name: roster.add(runs_dir, name, teacher=name == "ms-lee") for name in ("ms-lee", "amy", "ben")}


def test_a_class_server_shows_nothing_before_login_and_one_message_for_a_bad_one(class_server, runs_dir):
    from tests.pages import open_page

    made(runs_dir, user="ben")
    at = open_page("runs")
    assert [t.value for t in at.title] == ["GenLab"] and not at.dataframe  # only the login form
    at = logged_in("runs", "amy", "not her password")
    assert [e.value for e in at.error] == ["Wrong name or password."] and not at.dataframe
    at = logged_in("runs", "amy", class_server["amy"])
    assert at.title[0].value == "Runs" and not at.dataframe  # her own runs: none yet
    assert "No runs of yours yet" in at.info[0].value
    at.toggle(key="everyone").set_value(True).run()
    assert at.dataframe[0].value.iloc[0]["user"] == "ben"


def test_a_student_sees_another_students_run_without_its_controls(class_server, runs_dir):
    bens = made(runs_dir, user="ben")
    at = logged_in("runs", "amy", class_server["amy"], run=bens.id)
    assert not [b for b in at.button if b.key in ("delete", "resume", "cancel")]
    assert any("This is ben's run" in c.value for c in at.caption)
    at = logged_in("runs", "ms-lee", class_server["ms-lee"], run=bens.id)
    assert [b for b in at.button if b.key == "delete"]


def test_a_session_token_finds_its_user_until_it_expires_or_the_account_goes(runs_dir):
    from genlab.classroom import roster

    roster.add(runs_dir, "amy")
    token = roster.open_session(runs_dir, AMY, now=1000.0)
    assert token not in (runs_dir / roster.ROSTER).read_text()  # only its digest is kept
    assert roster.session_user(runs_dir, token, now=1001.0) == AMY
    assert roster.session_user(runs_dir, token, now=1000.0 + roster.SESSION_S) is None
    assert roster.session_user(runs_dir, "made-up", now=1001.0) is None
    assert roster.session_user(runs_dir, None) is None
    roster.close_session(runs_dir, token)
    assert roster.session_user(runs_dir, token, now=1001.0) is None
    token = roster.open_session(runs_dir, AMY)
    roster.remove(runs_dir, "amy")
    assert roster.session_user(runs_dir, token) is None


# ---- the school's OpenID Connect provider (st.login) --------------------------------------------

PROVIDER = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 32,
                     "client_id": "genlab", "client_secret": "x",
                     "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}}


def through_provider(page: str, user: dict | None, **params):
    """The page as a visitor sees it when the provider says `user` (None: not logged in)."""
    from tests.pages import open_page

    def as_the_provider_says(at) -> None:
        at.secrets.update(PROVIDER)
        at.user = {"is_logged_in": False} if user is None else {"is_logged_in": True, **user}

    return open_page(page, as_the_provider_says, **params)


def test_an_sso_account_has_no_password_and_only_roster_addresses_get_in(runs_dir, capsys):
    from genlab.classroom import roster
    from genlab.cli import main

    assert main(["class", "add", "ana@school.edu", "--sso", "--teacher", "--runs-dir", str(runs_dir)]) == 0
    assert "no password here" in capsys.readouterr().out
    assert roster.sso_user(runs_dir, "Ana@School.edu ") == User("ana@school.edu", teacher=True)
    assert roster.sso_user(runs_dir, "eve@school.edu") is None and roster.sso_user(runs_dir, None) is None
    assert not roster.has_passwords(runs_dir)
    with pytest.raises(roster.LoginRefused, match="Wrong name or password"):  # no password opens it
        roster.log_in(runs_dir, "ana@school.edu", "")
    roster.add(runs_dir, "amy")
    assert roster.sso_user(runs_dir, "amy") is None  # a password account is not the provider's
    with pytest.raises(SystemExit):
        main(["class", "add", "not an address", "--sso", "--runs-dir", str(runs_dir)])


def test_the_provider_login_lets_in_only_verified_addresses_on_the_roster(runs_dir, monkeypatch):
    from genlab.classroom import roster

    monkeypatch.setenv("GENLAB_CLASS", "1")
    roster.add_sso(runs_dir, "ana@school.edu")
    bens = made(runs_dir, user="ben")
    at = through_provider("runs", None)
    assert [b.label for b in at.button] == ["Log in with the school account"]  # no password form
    assert not at.text_input and not at.dataframe
    at = through_provider("runs", {"email": "eve@school.edu"})
    assert "eve@school.edu is not on this class's roster" in at.error[0].value and not at.dataframe
    assert [b.label for b in at.button] == ["Log out"]
    at = through_provider("runs", {"email": "ana@school.edu", "email_verified": False})
    assert not at.dataframe
    at = through_provider("runs", {"email": "ana@school.edu", "email_verified": True}, run=bens.id)
    assert at.title[0].value == "Runs" and any("Logged in as **ana@school.edu**" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key in ("delete", "resume", "cancel")]  # ben's run


# ---- uploads: stored on Launch, within a quota, gone with their last run -----------------------

def zip_of_images(n: int = 12) -> bytes:
    import io
    import zipfile

    from PIL import Image

    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        for i in range(n):
            png = io.BytesIO()
            Image.new("L", (8, 8), 20 * i).save(png, format="PNG")
            zf.writestr(f"{'dark' if i < n // 2 else 'light'}/{i}.png", png.getvalue())
    return raw.getvalue()


def test_an_upload_read_from_memory_is_the_dataset_its_stored_file_gives(isolated_dirs):
    import torch

    from genlab.classroom.uploads import store_upload
    from genlab.data.folder import load_folder, load_zip_bytes

    raw = zip_of_images()
    in_memory = load_zip_bytes(raw, "shapes.zip")
    on_disk = load_folder(store_upload(raw, "shapes.zip"))
    assert torch.equal(in_memory.x_train, on_disk.x_train) and in_memory.classes == on_disk.classes


def test_a_students_uploads_stay_within_their_quota(isolated_dirs, monkeypatch):
    from genlab.classroom.uploads import content_id, store_upload, upload_path, uploads_dir

    monkeypatch.setenv("GENLAB_UPLOAD_QUOTA_MB", "1")
    first = store_upload(b"x" * 700_000, "a.zip", AMY)
    assert first.parent.parent == uploads_dir() / "amy"
    with pytest.raises(OverQuota, match=r"amy's uploads would take 1 MB of the 1 MB allowed per student: "
                                        r"delete runs on uploads you no longer need"):
        store_upload(b"y" * 700_000, "b.zip", AMY)
    assert not upload_path(content_id(b"y" * 700_000), "b.zip", AMY).exists()  # nothing written
    assert store_upload(b"x" * 700_000, "a.zip", AMY) == first  # the same file again costs nothing
    store_upload(b"y" * 700_000, "b.zip", BEN)  # a quota per student
    store_upload(b"z" * 2_000_000, "c.zip", TEACHER)  # and none for the teacher


@pytest.mark.usefixtures("the_class")
def test_an_upload_goes_with_the_last_run_that_used_it(runs_dir, isolated_dirs):
    from genlab.classroom.uploads import store_upload, uploads_dir

    path = store_upload(zip_of_images(), "shapes.zip", AMY)
    runs = [create_run(runs_dir, tiny_config("dcgan", "folder", path=str(path)), state="completed", user="amy")
            for _ in range(2)]
    elsewhere = isolated_dirs / "mine.zip"
    elsewhere.write_bytes(b"PK")
    by_hand = create_run(runs_dir, tiny_config("dcgan", "folder", path=str(elsewhere)), state="completed")
    jobs.delete(runs_dir, runs[0].id, user=AMY)
    assert path.exists()  # the other run still uses it
    jobs.delete(runs_dir, runs[1].id, user=AMY)
    assert not path.exists() and not (uploads_dir() / "amy").exists()
    jobs.delete(runs_dir, by_hand.id)
    assert elsewhere.exists()  # a folder of the user's own, not an upload: never removed
