"""Evaluating a run in the background: `python -m genlab eval` in its own process, its
result landing in the run's eval.json, and whether one is running now."""

from __future__ import annotations

import time
from pathlib import Path

from genlab import settings
from genlab.jobs.executors.local import detached
from genlab.store.atomic import write_json_atomic
from genlab.store.lifecycle import process_alive, process_start
from genlab.store.runs import Run, RunError, open_run, read_json


def start_evaluation(runs_dir: Path, run_id: str) -> None:
    """Evaluate a run's latest snapshot in the background (`python -m genlab eval`); the
    result lands in its eval.json. Refused while an evaluation of the run is running."""
    run = open_run(runs_dir, run_id)
    if evaluation_running(run):
        raise RunError(f"run {run_id} is being evaluated already")
    pid = detached(["eval", run.id, "--runs-dir", str(runs_dir.resolve())], run.eval_log_path,
                             settings.child_environment(runs_dir))
    write_json_atomic(run.evaluating_path, {"pid": pid, "pid_start": process_start(pid), "started": time.time()})


def evaluation_running(run: Run) -> bool:
    if not run.evaluating_path.exists():
        return False
    try:
        marker = read_json(run.evaluating_path)
    except RunError:
        return False
    return process_alive(marker.get("pid"), marker.get("pid_start"))
