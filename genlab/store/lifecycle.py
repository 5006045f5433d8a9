"""A run's life: its states, the legal changes between them, who owns a running run, and
the one way status.json changes — a compare-and-set under the run's lock.

    queued -> starting -> running -> completed | cancelled | failed | diverged | interrupted
    queued | starting -> cancelled;  starting -> failed | interrupted
    cancelled | interrupted | failed | diverged -> queued (resume in the app)
                                                -> starting (resume in the foreground, CLI)

A worker owns its run from the moment it moves it from starting to running with its own
pid: every later write of that worker (status, metrics line, snapshot, checkpoint) first
checks, under the lock, that the run is still running under its pid, so a run cancelled or
resumed by someone else is never written to by a worker that lost it. Readers need no lock:
status.json is replaced atomically.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

from genlab.store.atomic import write_json_atomic
from genlab.store.faults import fault_point
from genlab.store.locks import exclusive
from genlab.store.runs import Run, RunError

ACTIVE = ("queued", "starting", "running")
LIVE = ("starting", "running")  # a worker process belongs to the run
RESUMABLE = ("cancelled", "interrupted", "failed", "diverged")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "queued": ("starting", "cancelled"),
    "starting": ("running", "cancelled", "failed", "interrupted"),
    "running": ("completed", "cancelled", "failed", "diverged", "interrupted"),
    "completed": (),
    **{state: ("queued", "starting") for state in RESUMABLE},
}
ANYONE = object()  # `owner` value: no check of who owns the run


class StateConflict(RunError):
    """The run is not in a state (or not owned by the process) the change expects."""


def run_lock(run: Run) -> contextlib.AbstractContextManager[None]:
    """The run's exclusive lock (<run>/.lock), for read-check-write of its state."""
    return exclusive(run.lock_path)


def _check(run: Run, status: dict[str, Any], to: str | None, expect: Iterable[str] | None, owner: Any) -> None:
    state = status["state"]
    if expect is not None and state not in expect:
        raise StateConflict(f"run {run.id} is {state}, not {' or '.join(expect)}")
    if owner is not ANYONE and status.get("pid") not in owner:
        raise StateConflict(f"run {run.id} belongs to process {status.get('pid')}, not {owner[-1]}")
    if to is not None and to != state and to not in TRANSITIONS[state]:
        raise StateConflict(f"run {run.id} cannot go from {state} to {to}")


class Held:
    """A run whose lock is held and whose status was checked: `update` writes a change."""

    def __init__(self, run: Run, status: dict[str, Any]):
        self.run, self.status = run, status

    def update(self, to: str | None = None, **fields: Any) -> dict[str, Any]:
        """Move to state `to` (when given; it must be a legal change) and set `fields`."""
        _check(self.run, self.status, to, None, ANYONE)
        if to is not None:
            self.status["state"] = to
        self.status.update(fields, updated=time.time())
        fault_point("status")
        write_json_atomic(self.run.status_path, self.status)
        return self.status


@contextlib.contextmanager
def holding(run: Run, expect: Iterable[str] | None = None, owner: Any = ANYONE) -> Iterator[Held]:
    """The run's lock, held while its state is in `expect` and (unless `owner` is ANYONE)
    status.json's pid is in the tuple `owner`; StateConflict when not, with nothing written."""
    with run_lock(run):
        status = run.status()
        _check(run, status, None, expect, owner)
        yield Held(run, status)


def change(run: Run, to: str | None = None, expect: Iterable[str] | None = None,
           owner: Any = ANYONE, **fields: Any) -> dict[str, Any]:
    """Compare and set: under the run's lock, check its state (and owner, see `holding`),
    then move it to `to` and set `fields`. Returns the new status."""
    with holding(run, expect, owner) as held:
        return held.update(to, **fields)


def owning(run: Run, pid: int) -> contextlib.AbstractContextManager[Held]:
    """Hold the run's lock while it is running under `pid`. A worker writes its run's files
    inside this, so one that lost its run (cancelled, or resumed by another) writes nothing."""
    return holding(run, ("running",), (pid,))


def take_over(run: Run, **fields: Any) -> None:
    """Make the calling process the one that trains `run` in the foreground: a queued or
    stopped run becomes starting under its pid (one already starting under it stays)."""
    me = this_process()
    with holding(run, ("queued", "starting", *RESUMABLE)) as held:
        if held.status["state"] == "starting" and held.status.get("pid") != me["pid"]:
            raise StateConflict(f"run {run.id} is being started by process {held.status.get('pid')}")
        held.update("starting", launched=time.time(), error=None, cancel_requested=None, **me, **fields)


def process_start(pid: int) -> int | None:
    """When process `pid` started (clock ticks since boot, from /proc), or None when it does
    not exist, is a zombie, or the system has no /proc. With the pid it names one process:
    a recycled pid has another start time."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[-1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else int(fields[19])


def this_process() -> dict[str, int | None]:
    """The fields that name the calling process as a run's owner."""
    pid = os.getpid()
    return {"pid": pid, "pgid": os.getpgrp(), "pid_start": process_start(pid)}


def process_alive(pid: int | None, start: int | None) -> bool:
    """Whether the process recorded as (pid, start) still runs: not gone, not a zombie,
    not a recycled pid. Without /proc (macOS), whether the pid exists."""
    if not pid or pid >= 2**31:  # no pid, or not one this system can have
        return False
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our own finished child
    if os.path.isdir("/proc/self"):
        now = process_start(pid)
        return now is not None and (start is None or now == start)
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False
