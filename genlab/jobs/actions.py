"""What a user does to runs: launch, cancel, resume and delete. Each checks who asks itself,
as the roster has them now (genlab.classroom.roster.current: a removed student's open tab
launches nothing, a demoted teacher deletes nothing) and what they may do
(genlab.classroom.access), whatever page or command sent the request, and changes a run's
state only by a compare-and-set (genlab.store.lifecycle)."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from genlab import settings
from genlab.classroom import roster
from genlab.classroom.access import OverQuota, User, check_allowed
from genlab.classroom.uploads import content_id, remove_unused, store_upload, upload_path
from genlab.config import ConfigError, RunConfig, check_positive_lr, validate
from genlab.jobs import executors
from genlab.jobs.executors.base import ExecutorUnavailable
from genlab.jobs.fair_queue import queue_lock, schedule
from genlab.store.lifecycle import ACTIVE, RESUMABLE, StateConflict, change, holding
from genlab.store.runs import Run, RunError, create_run, list_runs, open_run


@dataclass(frozen=True)
class Upload:
    """A user's zip of images as the browser sent it: kept on disk only once a run on it is queued."""

    raw: bytes
    filename: str


def launch(config: RunConfig, runs_dir: Path, user: User | None = None, upload: Upload | None = None) -> Run:
    """Queue a new run (launched by `user`, in a class) and start it if a slot is free; see
    `launch_all`."""
    return launch_all([config], runs_dir, user, upload)[0]


def launch_all(configs: list[RunConfig], runs_dir: Path, user: User | None = None,
               upload: Upload | None = None) -> list[Run]:
    """Queue runs together, all of them or none, and start what the free slots allow. Before
    anything is written, whatever sent the request: a config that breaks a rule is refused
    with ConfigError; a student past their number of runs, their steps per run or their
    upload space with OverQuota; a user no longer on the roster with NotAllowed. `upload`,
    the zip the runs train on, is stored (within the quota) only once the runs are accepted,
    and removed again if they cannot be written."""
    if not configs:
        raise ConfigError("there is no run to launch")
    for config in configs:
        validate(config)
    settings.check_all()  # a bad setting is refused before a run is queued
    user = roster.current(runs_dir, user)
    for config in configs:
        check_run_limits(config, user)
    fields = {"user": user.name, **({} if user.teacher else student_limits())} if user else {}
    with queue_lock(runs_dir):  # two launches at once cannot both pass the quota
        check_run_quota(runs_dir, user, len(configs))
        stored = _store(upload, configs, user)
        runs: list[Run] = []
        try:
            for config in configs:
                runs.append(create_run(runs_dir, config, state="queued", **fields))
        except BaseException:  # a full disk, say: nothing of this launch stays behind
            _undo(runs_dir, runs, stored)
            raise
    _schedule_after(runs[0])
    return runs


def _store(upload: Upload | None, configs: list[RunConfig], user: User | None) -> Path | None:
    """Keep the upload where the configs say their data is (ConfigError when they say
    otherwise: a request may not name a path of its own)."""
    if upload is None:
        return None
    path = upload_path(content_id(upload.raw), upload.filename, user)
    if any(c.data.name != "folder" or c.data.path != str(path) for c in configs):
        raise ConfigError(f"a run on an upload trains on {path}, where the upload is kept")
    return store_upload(upload.raw, upload.filename, user)


def _undo(runs_dir: Path, runs: list[Run], stored: Path | None) -> None:
    """Remove the queued runs of a launch that could not be written whole, and its upload
    (under the queue lock: no worker has started them)."""
    for run in runs:
        shutil.rmtree(run.path, ignore_errors=True)
    if stored:
        remove_unused(str(stored), {s.config.data.path for s in list_runs(runs_dir) if s.config})


def student_limits() -> dict[str, float]:
    """What a student's run carries in its status: the training time after which it stops."""
    return {"time_limit_s": settings.student_max_minutes() * 60.0}


def check_run_limits(config: RunConfig, user: User | None) -> None:
    """OverQuota when a student's run asks for more steps than a class allows."""
    limit = settings.student_max_steps()
    if user is not None and not user.teacher and config.schedule.steps > limit:
        raise OverQuota(f"{config.schedule.steps:,} steps is more than the {limit:,} a student's run may have in "
                        f"this class (and a run stops after {settings.student_max_minutes()} min of training); "
                        "ask the teacher for a longer run")


def _schedule_after(run: Run) -> None:
    """Start queued runs now that `run` is queued; when the executor cannot take runs, say so
    (ExecutorUnavailable) with the run still queued, to start once it can."""
    try:
        schedule(run.path.parent)
    except ExecutorUnavailable as exc:
        raise ExecutorUnavailable(f"run {run.id} is queued but not started: {exc}") from exc


def check_run_quota(runs_dir: Path, user: User | None, adding: int = 1) -> None:
    """OverQuota when `adding` more runs would take a student past their limit of queued or
    training runs."""
    if user is None or user.teacher:
        return
    limit = settings.max_runs_per_student()
    mine = [s.run.id for s in list_runs(runs_dir) if s.state in ACTIVE and s.status.get("user") == user.name]
    if len(mine) + adding > limit:
        has = f"already has {len(mine)} runs queued or training ({', '.join(mine)})" if mine else "has no run yet"
        wants = f"; these {adding} runs would make {len(mine) + adding}" if adding > 1 else ""
        raise OverQuota(f"{user.name} {has}{wants}; the limit is {limit} per student: wait for one to finish, "
                        "or cancel one on the Runs page")


def cancel(runs_dir: Path, run_id: str, user: User | None = None) -> str:
    """Stop a run: a queued or starting one at once (a worker that has not yet taken its run
    never will); a running one by a STOP file and SIGTERM to its process group (it saves a
    checkpoint and ends as cancelled; on a Ray cluster by the STOP file alone), ended by
    `reconcile` (SIGKILL, or ray.kill) if it has not ended after CANCEL_GRACE_S. Returns the
    state the run was cancelled from. In a class, only the run's user or the teacher may
    (NotAllowed otherwise)."""
    run = open_run(runs_dir, run_id)
    check_allowed(roster.current(runs_dir, user), run, "cancel")
    for _ in range(3):  # the state may move on between reading it and changing it
        state = run.status()["state"]
        if state not in ACTIVE:
            raise RunError(f"run {run_id} is {state}; only a queued, starting or running run can be cancelled")
        try:
            if state != "running":
                change(run, "cancelled", expect=(state,), finished=time.time(), pid=None, pgid=None)
                return state
            with holding(run, ("running",)) as held:
                run.request_stop()
                status = held.update(cancel_requested=time.time())
            executors.of(status).stop(status)
            return state
        except StateConflict:
            continue
    raise RunError(f"run {run_id} kept changing state; try again")


def resume(runs_dir: Path, run_id: str, lr: float | None = None, user: User | None = None) -> None:
    """Queue a stopped run again; it continues from its checkpoint, with learning rate `lr`
    when given (the discriminator's keeps its ratio to it). In a class, only the run's user
    (within their limit of runs) or the teacher may."""
    run = open_run(runs_dir, run_id)
    user = roster.current(runs_dir, user)
    check_allowed(user, run, "resume")
    if lr is not None:
        check_positive_lr(lr)
    status = run.status()
    if user is not None and not user.teacher and status.get("time_limit_s") is not None \
            and status.get("elapsed_s", 0) >= status["time_limit_s"]:
        raise OverQuota(f"run {run_id} has trained for the {status['time_limit_s'] / 60:.0f} min a student's run "
                        "may have in this class; only the teacher may let it go on")
    limits = {"time_limit_s": None} if user is not None and user.teacher else {}  # the teacher lets it go on
    with queue_lock(runs_dir):  # two requests at once cannot both pass the quota
        check_run_quota(runs_dir, user)
        try:
            change(run, "queued", expect=RESUMABLE, error=None, cancel_requested=None, queued_at=time.time(),
                   pid=None, pgid=None, pid_start=None, lr_on_resume=lr, **limits)
        except StateConflict as exc:
            raise RunError(f"{exc}; only a {', '.join(RESUMABLE)} run can be resumed") from exc
    run.stop_path.unlink(missing_ok=True)
    _schedule_after(run)


def delete(runs_dir: Path, run_id: str, user: User | None = None) -> None:
    """Remove a run's directory, and its uploaded data when no other run uses it; refused
    while it is queued or training, for a demo run, and in a class for anyone but the run's
    user and the teacher."""
    run = open_run(runs_dir, run_id)
    check_allowed(roster.current(runs_dir, user), run, "delete")
    if run.is_demo:
        raise RunError(f"run {run_id} is a demo that ships with GenLab and is kept; "
                       "`make demo-checkpoints` remakes the demos")
    if run.path.is_symlink() or run.path.resolve().parent != runs_dir.resolve():
        raise RunError(f"run {run_id} is not a folder inside {runs_dir}")
    try:
        data_path = run.config().data.path
    except RunError:  # a broken config: its data cannot be known
        data_path = None
    try:
        with holding(run, expect=(*RESUMABLE, "completed")):
            shutil.rmtree(run.path)
    except StateConflict as exc:
        raise RunError(f"{exc}: cancel it before deleting it") from exc
    except RunError:  # its status is unreadable: a broken run, which nothing trains
        shutil.rmtree(run.path)
    if data_path:
        remove_unused(data_path, {s.config.data.path for s in list_runs(runs_dir) if s.config})
