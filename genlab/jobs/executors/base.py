"""What every executor is: the protocol the job system calls, the error for an executor that
cannot be used now, and the one queued -> starting (or failed) transition both use."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Protocol

from genlab.config import ConfigError
from genlab.store.lifecycle import change
from genlab.store.runs import Run


class ExecutorUnavailable(ConfigError):
    """The executor's settings cannot be used now (a Ray cluster that cannot be reached, a runs folder
    its nodes cannot write); the message says why and what to do. Queued runs stay queued."""


class Executor(Protocol):
    name: str

    def describe(self) -> str:
        """Where runs train, in a few words, for the sidebar."""

    def prepare(self, runs_dir: Path) -> None:
        """Be ready to start runs of `runs_dir`; ExecutorUnavailable when it cannot."""

    def capacity(self) -> int:
        """How many runs it trains at once when $GENLAB_MAX_JOBS does not say."""

    def start(self, run: Run, runs_dir: Path, gpu: int | None) -> None:
        """Start the worker of a queued run (it moves to starting); a worker that cannot be
        started leaves the run failed, with the reason."""

    def alive(self, status: dict[str, Any]) -> bool | None:
        """Whether the worker of a starting or running run still exists (None: cannot tell now)."""

    def stop(self, status: dict[str, Any]) -> None:
        """Ask the worker to stop soon (beside the STOP file every worker reads each step)."""

    def kill(self, status: dict[str, Any]) -> None:
        """End the worker at once."""


def mark_starting(run: Run, **fields: Any) -> None:
    """queued -> starting, clearing what an earlier worker left (its pid, an error), with the
    executor's own `fields`."""
    change(run, "starting", expect=("queued",), launched=time.time(), error=None, pid=None, pgid=None,
           pid_start=None, **fields)


def not_started(run: Run, why: str) -> None:
    """starting -> failed: the executor could not start the run's worker."""
    change(run, "failed", expect=("starting",), finished=time.time(), error=why)
