"""Background training jobs: launch, queue, cancel, resume, delete, reconcile.

A launched run trains in its own OS process and process group
(`python -m genlab worker RUN_DIR`), so nothing that happens to the app — a rerun, a closed
tab, a restart — touches it. The queue is the runs folder itself: runs in state `queued`
start, oldest first, whenever fewer than `max_jobs()` runs are active. Every worker starts
the next queued run when it ends, so the queue moves with no browser open. Queue changes
take a file lock, so two processes never start the same run twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import torch

from genlab.atomic import write_json_atomic
from genlab.config import RunConfig
from genlab.runs import Run, RunError, create_run, list_runs, open_run, read_json

ACTIVE = ("queued", "starting", "running")
RESUMABLE = ("cancelled", "interrupted", "failed", "diverged")
CANCEL_GRACE_S = 10.0  # after SIGTERM, how long a worker has to save and exit before SIGKILL
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def max_jobs() -> int:
    """How many runs train at once: $GENLAB_MAX_JOBS, else one per GPU, else one."""
    configured = os.environ.get("GENLAB_MAX_JOBS")
    if configured:
        return max(1, int(configured))
    return max(1, torch.cuda.device_count())


@contextlib.contextmanager
def queue_lock(runs_dir: Path) -> Iterator[None]:
    runs_dir.mkdir(parents=True, exist_ok=True)
    with open(runs_dir / ".queue.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run_process_alive(run: Run, pid: int | None) -> bool:
    """Whether `pid` is still a genlab process of this run, training or evaluating
    (not a zombie, not a recycled pid)."""
    if not pid:
        return False
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our own finished child
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            if f.read().rsplit(")", 1)[-1].split()[0] == "Z":
                return False
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().decode(errors="replace")
        return "genlab" in cmdline and run.id in cmdline
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (macOS): fall back to "the pid exists"
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False


def _child_env(runs_dir: Path) -> dict[str, str]:
    return dict(os.environ, GENLAB_RUNS=str(runs_dir.resolve()),
                PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")])))


def _detached(argv: list[str], log_path: Path, env: dict[str, str]) -> int:
    """Start `python -m genlab ARGV…` in its own session and process group; return its pid."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "genlab", *argv], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, env=env, start_new_session=True, close_fds=True)
    return proc.pid


def _start(run: Run, runs_dir: Path, gpu: int | None) -> None:
    """Start the worker of a queued run, detached in its own session and process group,
    on GPU `gpu` alone when the machine has several."""
    run.set_status(state="starting", error=None, launched=time.time(), gpu=gpu)
    env = _child_env(runs_dir)
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = str(gpu)
    pid = _detached(["worker", str(run.path.resolve())], run.log_path, env)
    run.set_status(pid=pid, pgid=pid)


def schedule(runs_dir: Path) -> list[str]:
    """Start queued runs, oldest first, while there are free slots; return their ids."""
    started = []
    with queue_lock(runs_dir):
        summaries = [s for s in list_runs(runs_dir) if not s.error]
        active = [s for s in summaries if s.state in ("starting", "running")]
        queued = sorted((s for s in summaries if s.state == "queued"),
                        key=lambda s: s.status.get("queued_at") or s.status.get("created", 0))
        n_gpus = torch.cuda.device_count()
        busy = {s.status.get("gpu") for s in active}
        for s in queued[: max(0, max_jobs() - len(active))]:
            gpu = next((g for g in range(n_gpus) if g not in busy), None) if n_gpus > 1 else None
            busy.add(gpu)
            _start(s.run, runs_dir, gpu)
            started.append(s.run.id)
    return started


def launch(config: RunConfig, runs_dir: Path) -> Run:
    """Queue a new run and start it if a slot is free."""
    run = create_run(runs_dir, config, state="queued")
    schedule(runs_dir)
    return run


def cancel(runs_dir: Path, run_id: str) -> None:
    """Stop a run: a queued one at once; a running one by SIGTERM to its process group
    (it saves a checkpoint and ends as cancelled), escalated to SIGKILL by `reconcile`
    if it has not ended after CANCEL_GRACE_S."""
    run = open_run(runs_dir, run_id)
    with queue_lock(runs_dir):
        status = run.status()
        if status.get("state") == "queued":
            run.set_status(state="cancelled", finished=time.time())
            return
        if status.get("state") not in ("starting", "running"):
            raise RunError(f"run {run_id} is {status.get('state')}; only a queued or running run can be cancelled")
        run.request_stop()
        run.set_status(cancel_requested=time.time())
        if status.get("pgid") and run_process_alive(run, status.get("pid")):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(status["pgid"], signal.SIGTERM)
        if status.get("state") == "starting":
            # A worker still starting up has no state worth saving and may die of the
            # signal before its handler is installed: the run ends here.
            run.set_status(state="cancelled", finished=time.time(), pid=None, pgid=None)


def resume(runs_dir: Path, run_id: str) -> None:
    """Queue a stopped run again; it continues from its checkpoint."""
    run = open_run(runs_dir, run_id)
    with queue_lock(runs_dir):
        state = run.status().get("state")
        if state not in RESUMABLE:
            raise RunError(f"run {run_id} is {state}; only a {', '.join(RESUMABLE)} run can be resumed")
        run.stop_path.unlink(missing_ok=True)
        run.set_status(state="queued", error=None, cancel_requested=None, queued_at=time.time())
    schedule(runs_dir)


def delete(runs_dir: Path, run_id: str) -> None:
    """Remove a run's directory; refused while it is queued or training, and for a demo run."""
    run = open_run(runs_dir, run_id)
    with queue_lock(runs_dir):
        state = run.status().get("state") if run.status_path.exists() else None
        if state in ACTIVE:
            raise RunError(f"run {run_id} is {state}; cancel it before deleting it")
        if run.is_demo:
            raise RunError(f"run {run_id} is a demo that ships with GenLab and is kept; "
                           "`make demo-checkpoints` remakes the demos")
        if run.path.is_symlink() or run.path.resolve().parent != runs_dir.resolve():
            raise RunError(f"run {run_id} is not a folder inside {runs_dir}")
        shutil.rmtree(run.path)


def reconcile(runs_dir: Path) -> list[str]:
    """Make the runs folder true again, then fill free slots; return runs marked interrupted.

    A run marked starting or running whose worker is gone (a crash, a reboot, SIGKILL)
    becomes `interrupted` and can be resumed from its checkpoint. A worker that ignored a
    cancel for CANCEL_GRACE_S is killed and its run marked cancelled.
    """
    interrupted = []
    with queue_lock(runs_dir):
        for s in list_runs(runs_dir):
            if s.error or s.state not in ("starting", "running"):
                continue
            pid, pgid = s.status.get("pid"), s.status.get("pgid")
            asked = s.status.get("cancel_requested")
            alive = run_process_alive(s.run, pid)
            if alive and asked and time.time() - asked > CANCEL_GRACE_S:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
                s.run.set_status(state="cancelled", finished=time.time(), pid=None, pgid=None,
                                 error=f"killed after not stopping within {CANCEL_GRACE_S:.0f} s")
            elif not alive and (pid or time.time() - s.status.get("launched", 0) > 60):
                # Re-read: the worker may have finished between the listing and now.
                if s.run.status().get("state") in ("starting", "running"):
                    s.run.set_status(state="cancelled" if asked else "interrupted",
                                     finished=time.time(), pid=None, pgid=None)
                    interrupted.append(s.run.id)
    schedule(runs_dir)
    return interrupted


def start_evaluation(runs_dir: Path, run_id: str) -> None:
    """Evaluate a run's latest snapshot in the background (`python -m genlab eval`); the
    result lands in its eval.json. Refused while an evaluation of the run is running."""
    run = open_run(runs_dir, run_id)
    if evaluation_running(run):
        raise RunError(f"run {run_id} is being evaluated already")
    pid = _detached(["eval", run.id, "--runs-dir", str(runs_dir.resolve())], run.eval_log_path,
                    _child_env(runs_dir))
    write_json_atomic(run.evaluating_path, {"pid": pid, "started": time.time()})


def evaluation_running(run: Run) -> bool:
    marker = run.evaluating_path
    return marker.exists() and run_process_alive(run, read_json(marker).get("pid"))
