"""The queue under stress: 30 runs, two slots, two extra processes calling schedule and
reconcile in a loop, and cancels of queued, starting and running runs. Never more than two
runs train at once, every run ends in the state its history implies, and no metrics line is
missing or written twice."""

import subprocess
import sys
import time
from collections import Counter

import pytest

from genlab import jobs
from genlab.presets import make_config
from genlab.store.runs import RunError, list_runs
from tests.support import ROOT

pytestmark = pytest.mark.slow  # about two minutes of real workers

SLOTS = 2
SHORT = dict(steps=60, log_every=5, n_snapshots=2, hidden=16, depth=1, batch_size=32)
LONG = dict(SHORT, steps=1_000_000)  # trains until it is cancelled
HELPER = """
import sys, time
from pathlib import Path
from genlab import jobs
runs, end = Path(sys.argv[1]), time.time() + 600
while time.time() < end and not (runs / "stop-helpers").exists():
    jobs.schedule(runs)
    jobs.reconcile(runs)
    time.sleep(0.02)
"""


def statuses(runs_dir) -> dict[str, dict]:
    return {s.run.id: s.status for s in list_runs(runs_dir)}


def most_at_once(trace_path, runs_dir) -> int:
    """The most runs training at once, from the workers' trace (a worker killed before it
    could write its stop counts until the time its run was marked finished)."""
    events, open_runs = [], {}
    for line in trace_path.read_text().splitlines():
        t, _pid, event, run_id = line.split()
        events.append((float(t), 1 if event == "train" else -1))
        open_runs[run_id] = open_runs.get(run_id, 0) + (1 if event == "train" else -1)
    final = statuses(runs_dir)
    events += [(final[r]["finished"], -1) for r, n in open_runs.items() for _ in range(n)]
    level = peak = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        level += delta
        peak = max(peak, level)
    return peak


def test_thirty_runs_two_slots_racing_schedulers_and_cancels(runs_dir, tmp_path, monkeypatch):
    trace = tmp_path / "trace"
    monkeypatch.setenv("GENLAB_MAX_JOBS", str(SLOTS))
    monkeypatch.setenv("GENLAB_TRACE", str(trace))
    runs_dir.mkdir()
    helpers = [subprocess.Popen([sys.executable, "-c", HELPER, str(runs_dir)], cwd=ROOT) for _ in range(2)]
    try:
        long_ids = [jobs.launch(make_config("gan", "ring", **LONG, name=f"long{i}"), runs_dir).id for i in range(5)]
        short_ids = [jobs.launch(make_config("gan", "ring", **SHORT, name=f"short{i}"), runs_dir).id
                     for i in range(25)]
        cancelled_from = {run_id: jobs.cancel(runs_dir, run_id) for run_id in short_ids[-4:]}  # still queued
        cancelled_from.update(cancel_as_they_go(runs_dir, long_ids, short_ids[:-4]))
        final = wait_until_settled(runs_dir, timeout=480)
    finally:
        (runs_dir / "stop-helpers").touch()
        for helper in helpers:
            helper.wait(timeout=60)

    assert most_at_once(trace, runs_dir) <= SLOTS
    trained = Counter(line.split()[3] for line in trace.read_text().splitlines() if line.split()[2] == "train")
    assert all(n == 1 for n in trained.values()), trained  # no run was trained twice
    for run_id, status in final.items():
        check_history(runs_dir / run_id, status, cancelled_from.get(run_id), trained[run_id])
    found = Counter(cancelled_from.values())
    assert found["queued"] >= 4 and found["running"] >= 5, found


def cancel_as_they_go(runs_dir, long_ids, short_ids, timeout=300.0) -> dict[str, str]:
    """Cancel every long run once it trains, and the first three short runs seen starting."""
    done: dict[str, str] = {}
    deadline = time.time() + timeout
    while time.time() < deadline and not set(long_ids) <= set(done):
        for run_id, status in statuses(runs_dir).items():
            if run_id in done:
                continue
            starting_short = run_id in short_ids and status["state"] == "starting"
            if starting_short and sum(s == "starting" for s in done.values()) < 3:
                done[run_id] = try_cancel(runs_dir, run_id)
            elif run_id in long_ids and status["state"] == "running" and status["step"] > 0:
                done[run_id] = try_cancel(runs_dir, run_id)
        time.sleep(0.01)
    return {k: v for k, v in done.items() if v}


def try_cancel(runs_dir, run_id) -> str | None:
    try:
        return jobs.cancel(runs_dir, run_id)
    except RunError:  # it finished in between
        return None


def wait_until_settled(runs_dir, timeout: float) -> dict[str, dict]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        final = statuses(runs_dir)
        if all(s["state"] in ("completed", "cancelled") for s in final.values()):
            return final
        time.sleep(0.5)
    raise AssertionError({k: v["state"] for k, v in statuses(runs_dir).items()})


def check_history(path, status, cancelled_from, times_trained) -> None:
    """The final state and the metrics a run's history implies."""
    from genlab.store.runs import Run

    run = Run(path)
    steps = [r["step"] for r in run.metrics()]
    assert steps == sorted(set(steps)), (run.id, steps)  # none twice, in order
    assert all(s % 5 == 0 or s == status["total_steps"] for s in steps), (run.id, steps)
    if cancelled_from in ("queued", "starting"):
        assert status["state"] == "cancelled" and times_trained == 0 and steps == [], run.id
    elif cancelled_from == "running":
        assert status["state"] in ("cancelled", "completed"), run.id
        assert steps == list(range(5, status["step"] - status["step"] % 5 + 1, 5)), (run.id, steps)
    else:
        assert status["state"] == "completed" and times_trained == 1, (run.id, status)
        assert steps == list(range(5, 61, 5)) and status["step"] == 60, (run.id, steps)
