"""Reconcile: make the runs folder true again after crashes, reboots and ignored cancels,
then fill the free slots. Run when the app starts, every few seconds by the app's one watcher
(genlab.jobs.watcher), and by the command line's `list` and `resume`."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from genlab.config import ConfigError
from genlab.jobs import executors
from genlab.jobs.executors.base import ExecutorUnavailable
from genlab.jobs.fair_queue import schedule
from genlab.store.atomic import remove_stale_temps
from genlab.store.lifecycle import LIVE, StateConflict, change, process_alive
from genlab.store.runs import Run, RunError, RunSummary, list_runs

CANCEL_GRACE_S = 10.0  # after SIGTERM, how long a worker has to save and exit before SIGKILL
# A run left starting with no worker pid (its launcher died before writing it) is given up after this.
START_GRACE_S = 60.0


def reconcile(runs_dir: Path, summaries: Sequence[RunSummary] | None = None) -> list[str]:
    """Make the runs folder true again, then fill free slots; return the runs it ended.
    `summaries`: a listing just made (the app's watcher has one); the queue is then moved only
    when it holds a queued run.

    A run marked starting or running whose worker is gone (a crash, a reboot, SIGKILL)
    becomes `interrupted` and can be resumed from its checkpoint. A worker that ignored a
    cancel for CANCEL_GRACE_S is killed and its run marked cancelled. Temporary files that
    dead processes left behind are removed. A run that cannot be read or written (a broken
    run, a full disk) is left as it is: reconcile itself never fails on a run.
    """
    ended = []
    listed = list_runs(runs_dir) if summaries is None else summaries
    for s in listed:
        try:
            _remove_stale_temps(s)
            if s.status and s.state in LIVE and _settle(s.run, s.status):
                ended.append(s.run.id)
        except (RunError, OSError, ConfigError) as exc:  # ConfigError: its executor cannot be used here
            print(f"genlab: reconcile left run {s.run.id} as it is: {exc}", file=sys.stderr)
    if summaries is not None and not any(s.state == "queued" for s in listed):
        return ended
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
