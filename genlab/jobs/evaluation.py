"""Evaluating a run in the background: `python -m genlab eval` in its own process, its
result landing in the run's eval.json, and whether one is running now."""

from __future__ import annotations

import time
from pathlib import Path

from genlab import settings
from genlab.classroom import roster
from genlab.classroom.access import User, check_allowed
from genlab.jobs.executors.local import detached
from genlab.jobs.fair_queue import queue_lock
from genlab.store.atomic import write_json_atomic
from genlab.store.lifecycle import process_alive, process_start
from genlab.store.runs import Run, RunError, open_run, read_json


def start_evaluation(runs_dir: Path, run_id: str, user: User | None = None) -> None:
    """Evaluate a run's latest snapshot in the background (`python -m genlab eval`); the
    result lands in its eval.json. It writes into the run, so in a class only the run's user
    or the teacher may (NotAllowed); refused while the run is being evaluated, and while
    $GENLAB_MAX_EVALS evaluations run (the count and the start hold the queue's lock)."""
    run = open_run(runs_dir, run_id)
    check_allowed(roster.current(runs_dir, user), run, "evaluate")
    if run.is_demo:
        raise RunError(f"run {run_id} is a demo that ships with GenLab, evaluated when it was made")
    with queue_lock(runs_dir):
        if evaluation_running(run):
            raise RunError(f"run {run_id} is being evaluated already")
        running, limit = evaluations_running(runs_dir), settings.max_evaluations()
        if len(running) >= limit:
            raise RunError(f"{len(running)} evaluation(s) are running ({', '.join(running)}), the most this "
                           f"server runs at once (GENLAB_MAX_EVALS={limit}): try again when one has finished")
        pid = detached(["eval", run.id, "--runs-dir", str(runs_dir.resolve())], run.eval_log_path,
                       settings.child_environment(runs_dir))
        write_json_atomic(run.evaluating_path, {"pid": pid, "pid_start": process_start(pid), "started": time.time()})


def evaluations_running(runs_dir: Path) -> list[str]:
    """The runs being evaluated now."""
    return sorted(marker.parent.name for marker in runs_dir.glob("*/evaluating.json")
                  if evaluation_running(Run(marker.parent)))


def evaluation_running(run: Run) -> bool:
    if not run.evaluating_path.exists():
        return False
    try:
        marker = read_json(run.evaluating_path)
    except RunError:
        return False
    return process_alive(marker.get("pid"), marker.get("pid_start"))
