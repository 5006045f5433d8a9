"""Real worker processes: launch, watch, cancel, resume, kill, queue."""

import os
import signal

import pytest

from genlab import jobs
from genlab.config import ConfigError
from genlab.store.runs import RunError, list_runs, open_run
from genlab.store.statefile import load_state
from tests.support import force_status, state, tiny_config, wait_for

pytestmark = pytest.mark.slow  # starts worker processes


def slow_config(steps=20_000):
    # Long enough to still be training when the test acts on it.
    return tiny_config(steps=steps, log_every=5, n_snapshots=4)


def test_launch_progress_cancel_resume(runs_dir):
    run = jobs.launch(slow_config(steps=4000), runs_dir)
    wait_for(lambda: state(run) == "running" and run.status()["step"] > 0)
    status = run.status()
    assert status["pid"] != os.getpid() and os.getpgid(status["pid"]) == status["pgid"]
    assert os.getpgid(status["pid"]) != os.getpgrp()  # its own process group
    jobs.cancel(runs_dir, run.id)
    wait_for(lambda: state(run) == "cancelled")
    step = run.status()["step"]
    assert 0 < step < 4000 and load_state(run.checkpoint_path)["step"] == step
    jobs.resume(runs_dir, run.id)
    wait_for(lambda: state(run) == "running" and run.status()["step"] > step)
    jobs.cancel(runs_dir, run.id)
    wait_for(lambda: state(run) == "cancelled")
    steps = [r["step"] for r in run.metrics()]
    assert steps == sorted(set(steps))  # one line per logged step across the resume


def test_a_killed_worker_becomes_interrupted_and_resumes(runs_dir):
    run = jobs.launch(slow_config(steps=3000), runs_dir)
    wait_for(lambda: state(run) == "running" and run.status()["step"] > 0)
    os.killpg(run.status()["pgid"], signal.SIGKILL)
    wait_for(lambda: run.id in jobs.reconcile(runs_dir) or state(run) == "interrupted")
    assert state(run) == "interrupted"
    jobs.resume(runs_dir, run.id)
    wait_for(lambda: state(run) == "completed")
    assert run.status()["step"] == 3000 and run.snapshot_steps()[-1] == 3000


def test_the_queue_respects_the_limit_and_moves_without_a_browser(runs_dir, monkeypatch):
    monkeypatch.setenv("GENLAB_MAX_JOBS", "1")
    runs = [jobs.launch(tiny_config(steps=30, seed=i), runs_dir) for i in range(3)]
    assert [state(r) for r in runs] == ["starting", "queued", "queued"]
    most_active = 0

    def all_done():
        nonlocal most_active
        states = [s.state for s in list_runs(runs_dir)]
        most_active = max(most_active, sum(s in ("starting", "running") for s in states))
        return all(s == "completed" for s in states)

    wait_for(all_done, timeout=120, interval=0.05)
    assert most_active == 1
    finished = [r.status()["finished"] for r in runs]
    assert finished == sorted(finished)  # first in, first out
    # Each worker trained with the threads its share of the machine allows (#13).
    assert all(f"genlab worker: {jobs.worker_threads()} torch thread(s)" in r.log_path.read_text() for r in runs)


@pytest.mark.parametrize("cores, max_jobs, threads", [(2, 1, 1), (1, 1, 1), (16, 1, 15), (16, 4, 3), (4, 8, 1)])
def test_a_worker_leaves_a_core_to_the_app_and_shares_the_rest(monkeypatch, cores, max_jobs, threads):
    """#13: on 2 cores a worker with torch's default two threads beside the app trained 20-50x
    slower than with one."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
    monkeypatch.setenv("GENLAB_MAX_JOBS", str(max_jobs))
    assert jobs.worker_threads() == threads
    monkeypatch.setenv("GENLAB_WORKER_THREADS", "3")
    assert jobs.worker_threads() == 3
    monkeypatch.setenv("GENLAB_WORKER_THREADS", "0")
    with pytest.raises(ConfigError, match="GENLAB_WORKER_THREADS must be a whole number of at least 1"):
        jobs.worker_threads()


def test_cancel_a_queued_run_and_delete_rules(runs_dir, monkeypatch):
    monkeypatch.setenv("GENLAB_MAX_JOBS", "1")
    first = jobs.launch(slow_config(), runs_dir)
    second = jobs.launch(slow_config(), runs_dir)
    assert state(second) == "queued"
    with pytest.raises(RunError, match="cancel it before deleting"):
        jobs.delete(runs_dir, second.id)
    jobs.cancel(runs_dir, second.id)
    assert state(second) == "cancelled"
    jobs.delete(runs_dir, second.id)
    assert not second.path.exists()
    with pytest.raises(RunError, match="no run"):
        open_run(runs_dir, second.id)
    jobs.cancel(runs_dir, first.id)
    wait_for(lambda: state(first) == "cancelled")
    with pytest.raises(RunError, match="only a queued, starting or running run"):
        jobs.cancel(runs_dir, first.id)


def test_reconcile_marks_a_run_whose_process_is_gone(runs_dir):
    run = jobs.launch(slow_config(), runs_dir)
    jobs.cancel(runs_dir, run.id)
    wait_for(lambda: state(run) == "cancelled")
    # As after a reboot: the status says running, the pid is long gone.
    force_status(run, state="running", pid=2 ** 22 - 1, pgid=2 ** 22 - 1, cancel_requested=None)
    assert jobs.reconcile(runs_dir) == [run.id]
    assert state(run) == "interrupted"
