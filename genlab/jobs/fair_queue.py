"""The fair queue: which queued run starts next, and how many train at once.

The queue is the runs folder itself: queued runs start in fair order (round-robin across
users) whenever fewer than `max_jobs()` runs are live. Queue changes hold `<runs>/.queue.lock`,
so two processes (the app, an ending worker, the command line) never count the same free
slot twice.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from pathlib import Path

import torch

from genlab import settings
from genlab.jobs import executors
from genlab.jobs.executors.base import ExecutorUnavailable
from genlab.store.lifecycle import LIVE, StateConflict
from genlab.store.locks import exclusive
from genlab.store.runs import RunSummary, list_runs
from genlab.training.device import usable_cores


def max_jobs() -> int:
    """How many runs train at once: $GENLAB_MAX_JOBS, else what the executor holds (on this
    machine $GENLAB_RUNS_PER_GPU on each GPU, else one; on a Ray cluster its CPU count)."""
    return settings.max_jobs_setting() or executors.current().capacity()


def where_runs_train() -> str:
    """Where runs train and how many at once, in a line; or why none can start now."""
    try:
        return f"{executors.current().describe()} · up to {max_jobs()} run(s) at once"
    except ExecutorUnavailable as exc:
        return f"Runs cannot start now: {exc}"


def worker_threads() -> int:
    """torch's intra-op threads for one worker: the cores this process may use, less one left
    to the app and the system, shared among the runs allowed at once; at least 1.
    $GENLAB_WORKER_THREADS sets it outright. On 2 cores, with one more torch process beside
    the app, two threads per worker trained 3-11x slower than one (docs/benchmarks.md,
    worker threads)."""
    return settings.worker_threads_setting(max(1, (usable_cores() - 1) // max_jobs()))


def queue_lock(runs_dir: Path) -> contextlib.AbstractContextManager[None]:
    """The queue's lock (<runs>/.queue.lock), held while runs are counted and started."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    return exclusive(runs_dir / ".queue.lock")


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
        busy = Counter(s.status.get("gpu") for s in active)
        for s in queued[: max(0, limit - len(active))]:
            gpu = min(range(n_gpus), key=lambda g: busy[g]) if n_gpus > 1 else None  # the least busy GPU
            try:
                executor.start(s.run, runs_dir, gpu)
            except StateConflict:  # cancelled since the listing
                continue
            busy[gpu] += 1
            started.append(s.run.id)
    return started
