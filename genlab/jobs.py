"""Background training jobs: launch, queue, cancel, resume, delete, reconcile.

A launched run trains in a worker of the executor (genlab.executors): by default its own OS
process and process group (`python -m genlab worker RUN_DIR`), on a Ray cluster an actor, so
nothing that happens to the app — a rerun, a closed tab, a restart — touches it. The queue is
the runs folder itself: queued runs start in fair order (round-robin across users) whenever
fewer than `max_jobs()` runs are active. Every worker starts the next queued run when it
ends, so the queue moves with no browser open. Queue changes take a file lock, so two
processes never start the same run twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import torch

from genlab import executors
from genlab.access import OverQuota, User, check_allowed, max_runs_per_student
from genlab.atomic import remove_stale_temps, write_json_atomic
from genlab.config import ConfigError, RunConfig, check_positive_lr, env_count, validate
from genlab.executors import ExecutorUnavailable
from genlab.lifecycle import ACTIVE, LIVE, RESUMABLE, StateConflict, change, holding, process_alive, process_start
from genlab.runs import Run, RunError, RunSummary, create_run, list_runs, open_run, read_json
from genlab.train import Trainer
from genlab.uploads import remove_unused

__all__ = ["ACTIVE", "RESUMABLE", "ExecutorUnavailable", "cancel", "check_run_quota", "check_settings", "delete",
           "evaluation_running", "fair_order", "launch", "max_jobs", "reconcile", "resume", "schedule",
           "start_evaluation", "where_runs_train", "work", "worker_threads"]

CANCEL_GRACE_S = 10.0  # after SIGTERM, how long a worker has to save and exit before SIGKILL
# A run left starting with no worker pid (its launcher died before writing it) is given up after this.
START_GRACE_S = 60.0


def max_jobs() -> int:
    """How many runs train at once: $GENLAB_MAX_JOBS, else what the executor holds (on this
    machine one per GPU, else one; on a Ray cluster its CPU count)."""
    return env_count("GENLAB_MAX_JOBS", 0, "runs trained at once") or executors.current().capacity()


def where_runs_train() -> str:
    """Where runs train and how many at once, in a line; or why none can start now."""
    try:
        return f"{executors.current().describe()} · up to {max_jobs()} run(s) at once"
    except ExecutorUnavailable as exc:
        return f"Runs cannot start now: {exc}"


def check_settings() -> None:
    """ConfigError for a bad GENLAB_MAX_JOBS, GENLAB_WORKER_THREADS, GENLAB_EXECUTOR or
    GENLAB_RAY_ADDRESS, without connecting to anything."""
    env_count("GENLAB_MAX_JOBS", 1, "runs trained at once")
    env_count("GENLAB_WORKER_THREADS", 1)
    executors.current()


def worker_threads() -> int:
    """torch's intra-op threads for one worker: the cores this process may use, less one left
    to the app and the system, shared among the runs allowed at once; at least 1.
    $GENLAB_WORKER_THREADS sets it outright. On 2 cores, with one more torch process beside
    the app, two threads per worker trained 3-11x slower than one (docs/benchmarks.md,
    worker threads)."""
    # The cores this process may run on (Linux); elsewhere, all of them.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return env_count("GENLAB_WORKER_THREADS", max(1, (cores - 1) // max_jobs()))


@contextlib.contextmanager
def queue_lock(runs_dir: Path) -> Iterator[None]:
    runs_dir.mkdir(parents=True, exist_ok=True)
    with open(runs_dir / ".queue.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def queued_at(s: RunSummary) -> float:
    return s.status.get("queued_at") or s.status.get("created", 0)


def fair_order(queued: list[RunSummary], others: list[RunSummary]) -> list[RunSummary]:
    """The order queued runs should start in: round-robin across the users who launched them,
    oldest first within a user. Each next run goes to the user with the fewest runs training
    (`others` holds every run that is not queued), then to the one whose last run started
    longest ago, then to the longest waiting; so ten runs from one student do not keep the
    others waiting. Runs with no user count as one user."""
    waiting: dict[str | None, list[RunSummary]] = {}
    for s in sorted(queued, key=queued_at):
        waiting.setdefault(s.status.get("user"), []).append(s)
    training = {user: sum(o.state in LIVE and o.status.get("user") == user for o in others) for user in waiting}
    last_start = {user: max((o.status.get("launched") or 0 for o in others if o.status.get("user") == user),
                            default=0) for user in waiting}
    turn = max([0, *last_start.values()])  # each pick below counts as later than every start so far
    order = []
    while waiting:
        user = min(waiting, key=lambda u: (training[u], last_start[u], queued_at(waiting[u][0])))
        order.append(waiting[user].pop(0))
        training[user] += 1
        turn += 1
        last_start[user] = turn
        if not waiting[user]:
            del waiting[user]
    return order


def schedule(runs_dir: Path) -> list[str]:
    """Start queued runs in fair order (see fair_order) while there are free slots; return their ids."""
    started = []
    executor = executors.current()
    executor.prepare(runs_dir)  # before the lock: joining a cluster can take seconds
    with queue_lock(runs_dir):
        limit = max_jobs()
        worker_threads()  # a bad GENLAB_WORKER_THREADS is refused here, not in each worker
        summaries = [s for s in list_runs(runs_dir) if s.status]
        active = [s for s in summaries if s.state in LIVE]
        queued = fair_order([s for s in summaries if s.state == "queued"],
                            [s for s in summaries if s.state != "queued"])
        n_gpus = torch.cuda.device_count() if executor.name == "local" else 0
        busy = {s.status.get("gpu") for s in active}
        for s in queued[: max(0, limit - len(active))]:
            gpu = next((g for g in range(n_gpus) if g not in busy), None) if n_gpus > 1 else None
            try:
                executor.start(s.run, runs_dir, gpu)
            except StateConflict:  # cancelled since the listing
                continue
            busy.add(gpu)
            started.append(s.run.id)
    return started


def launch(config: RunConfig, runs_dir: Path, user: User | None = None) -> Run:
    """Queue a new run (launched by `user`, in a class) and start it if a slot is free. A
    config that breaks a rule (a learning rate <= 0, say) is refused with ConfigError, and a
    student at their limit of runs with OverQuota, whatever sent the request."""
    validate(config)
    check_settings()  # a bad setting is refused before a run is queued
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
    limit = max_runs_per_student()
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


def reconcile(runs_dir: Path) -> list[str]:
    """Make the runs folder true again, then fill free slots; return the runs it ended.

    A run marked starting or running whose worker is gone (a crash, a reboot, SIGKILL)
    becomes `interrupted` and can be resumed from its checkpoint. A worker that ignored a
    cancel for CANCEL_GRACE_S is killed and its run marked cancelled. Temporary files that
    dead processes left behind are removed. A run that cannot be read or written (a broken
    run, a full disk) is left as it is: reconcile itself never fails on a run.
    """
    ended = []
    for s in list_runs(runs_dir):
        try:
            _remove_stale_temps(s)
            if s.status and s.state in LIVE and _settle(s.run, s.status):
                ended.append(s.run.id)
        except (RunError, OSError, ConfigError) as exc:  # ConfigError: its executor cannot be used here
            print(f"genlab: reconcile left run {s.run.id} as it is: {exc}", file=sys.stderr)
    try:
        schedule(runs_dir)
    except (OSError, ExecutorUnavailable) as exc:
        print(f"genlab: queued runs were not started: {exc}", file=sys.stderr)
    return ended


def _remove_stale_temps(s: RunSummary) -> None:
    """Remove the temporary files of writers that died, told by their pid on this machine;
    not while a worker on another machine (a Ray node) may be writing the run's files."""
    if s.status and s.state in LIVE and s.status.get("executor"):
        return
    for folder in (s.run.path, s.run.snapshots_dir):
        remove_stale_temps(folder, alive=lambda pid: process_alive(pid, None))


def _settle(run: Run, status: dict) -> bool:
    """End a live run whose worker is gone or ignored a cancel; whether it was ended."""
    pid, asked, now = status.get("pid"), status.get("cancel_requested"), time.time()
    executor = executors.of(status)
    alive = executor.alive(status)
    if alive is None:  # its executor cannot tell now (a cluster out of reach): nothing is concluded
        return False
    try:
        if alive and asked and now - asked > CANCEL_GRACE_S:
            executor.kill(status)
            change(run, "cancelled", expect=(status["state"],), owner=(pid,), finished=now, pid=None,
                   pgid=None, error=f"killed after not stopping within {CANCEL_GRACE_S:.0f} s")
            return True
        if not alive and (pid or now - (status.get("launched") or 0) > START_GRACE_S):
            change(run, "cancelled" if asked else "interrupted", expect=(status["state"],), owner=(pid,),
                   finished=now, pid=None, pgid=None,
                   error=None if asked else "its worker stopped without finishing (see worker.log); resume it")
            return True
    except StateConflict:  # it moved on (finished, or was cancelled) since it was read
        pass
    return False


def start_evaluation(runs_dir: Path, run_id: str) -> None:
    """Evaluate a run's latest snapshot in the background (`python -m genlab eval`); the
    result lands in its eval.json. Refused while an evaluation of the run is running."""
    run = open_run(runs_dir, run_id)
    if evaluation_running(run):
        raise RunError(f"run {run_id} is being evaluated already")
    pid = executors.detached(["eval", run.id, "--runs-dir", str(runs_dir.resolve())], run.eval_log_path,
                             executors.child_env(runs_dir))
    write_json_atomic(run.evaluating_path, {"pid": pid, "pid_start": process_start(pid), "started": time.time()})


def evaluation_running(run: Run) -> bool:
    if not run.evaluating_path.exists():
        return False
    try:
        marker = read_json(run.evaluating_path)
    except RunError:
        return False
    return process_alive(marker.get("pid"), marker.get("pid_start"))


def work(run_path: Path, threads: int, device: str | None = None, stop_on_sigterm: bool = False) -> str:
    """What every worker does, wherever it runs: train the run it was started for with
    `threads` torch threads (on `device`, else the run's), then start the next queued run (a
    slot is free). Returns the run's final state. A local worker stops on SIGTERM (`cancel`
    sends it); a Ray actor leaves SIGTERM to Ray, and reads the STOP file like every worker."""
    torch.set_num_threads(threads)
    print(f"genlab worker: {threads} torch thread(s)", file=sys.stderr, flush=True)
    trainer = Trainer(Run(run_path), device, foreground=False)
    if stop_on_sigterm:
        signal.signal(signal.SIGTERM, lambda *_: trainer.request_stop())
    state = trainer.train()
    try:
        schedule(run_path.parent)
    except (OSError, ConfigError, RunError) as exc:
        print(f"genlab: the next queued run was not started: {exc}", file=sys.stderr)
    return state
