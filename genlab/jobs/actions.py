"""What a user does to runs: launch, cancel, resume and delete. Each checks who asks
(genlab.classroom.access) itself, whatever page or command sent the request, and changes a
run's state only by a compare-and-set (genlab.store.lifecycle)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from genlab import settings
from genlab.classroom.access import OverQuota, User, check_allowed
from genlab.classroom.uploads import remove_unused
from genlab.config import RunConfig, check_positive_lr, validate
from genlab.jobs import executors
from genlab.jobs.executors.base import ExecutorUnavailable
from genlab.jobs.fair_queue import queue_lock, schedule
from genlab.store.lifecycle import ACTIVE, RESUMABLE, StateConflict, change, holding
from genlab.store.runs import Run, RunError, create_run, list_runs, open_run


def launch(config: RunConfig, runs_dir: Path, user: User | None = None) -> Run:
    """Queue a new run (launched by `user`, in a class) and start it if a slot is free. A
    config that breaks a rule (a learning rate <= 0, say) is refused with ConfigError, and a
    student at their limit of runs with OverQuota, whatever sent the request."""
    validate(config)
    settings.check_all()  # a bad setting is refused before a run is queued
    with queue_lock(runs_dir):  # two launches at once cannot both pass the quota
        check_run_quota(runs_dir, user)
        run = create_run(runs_dir, config, state="queued", **({"user": user.name} if user else {}))
    _schedule_after(run)
    return run


def _schedule_after(run: Run) -> None:
    """Start queued runs now that `run` is queued; when the executor cannot take runs, say so
    (ExecutorUnavailable) with the run still queued, to start once it can."""
    try:
        schedule(run.path.parent)
    except ExecutorUnavailable as exc:
        raise ExecutorUnavailable(f"run {run.id} is queued but not started: {exc}") from exc


def check_run_quota(runs_dir: Path, user: User | None) -> None:
    """OverQuota when a student already has their limit of queued or training runs."""
    if user is None or user.teacher:
        return
    limit = settings.max_runs_per_student()
    mine = [s.run.id for s in list_runs(runs_dir) if s.state in ACTIVE and s.status.get("user") == user.name]
    if len(mine) >= limit:
        raise OverQuota(f"{user.name} already has {len(mine)} runs queued or training ({', '.join(mine)}); "
                        f"the limit is {limit} per student: wait for one to finish, or cancel one on the Runs page")


def cancel(runs_dir: Path, run_id: str, user: User | None = None) -> str:
    """Stop a run: a queued or starting one at once (a worker that has not yet taken its run
    never will); a running one by a STOP file and SIGTERM to its process group (it saves a
    checkpoint and ends as cancelled; on a Ray cluster by the STOP file alone), ended by
    `reconcile` (SIGKILL, or ray.kill) if it has not ended after CANCEL_GRACE_S. Returns the
    state the run was cancelled from. In a class, only the run's user or the teacher may
    (NotAllowed otherwise)."""
    run = open_run(runs_dir, run_id)
    check_allowed(user, run, "cancel")
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
    check_allowed(user, run, "resume")
    if lr is not None:
        check_positive_lr(lr)
    with queue_lock(runs_dir):  # two requests at once cannot both pass the quota
        check_run_quota(runs_dir, user)
        try:
            change(run, "queued", expect=RESUMABLE, error=None, cancel_requested=None, queued_at=time.time(),
                   pid=None, pgid=None, pid_start=None, lr_on_resume=lr)
        except StateConflict as exc:
            raise RunError(f"{exc}; only a {', '.join(RESUMABLE)} run can be resumed") from exc
    run.stop_path.unlink(missing_ok=True)
    _schedule_after(run)


def delete(runs_dir: Path, run_id: str, user: User | None = None) -> None:
    """Remove a run's directory, and its uploaded data when no other run uses it; refused
    while it is queued or training, for a demo run, and in a class for anyone but the run's
    user and the teacher."""
    run = open_run(runs_dir, run_id)
    check_allowed(user, run, "delete")
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
