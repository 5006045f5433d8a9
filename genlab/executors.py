"""Where a started run trains: the executor, chosen by $GENLAB_EXECUTOR.

    local (the default)  a detached process on this machine (`python -m genlab worker RUN_DIR`)
                         in its own session and process group; alive while its (pid, start
                         time) is; stopped by SIGTERM, killed by SIGKILL to its group
    ray                  a detached, named Ray actor on any node of the cluster at
                         $GENLAB_RAY_ADDRESS (genlab.ray_executor); alive while Ray knows it

Both train the same way (`jobs.work`) in the same run directory, and both are only
handed runs that `jobs.schedule` picked: which run starts next is always GenLab's fair queue.
A run records the executor that started it (status `executor`, null or absent for local), so a run
keeps being watched by its own executor whatever the setting is now.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Protocol

import torch

from genlab.config import ConfigError
from genlab.device import describe as describe_device, pick_device
from genlab.lifecycle import StateConflict, change, process_alive, process_start
from genlab.runs import Run

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
EXECUTORS = ("local", "ray")


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


def child_env(runs_dir: Path) -> dict[str, str]:
    """The environment of a GenLab process started for `runs_dir`: this one's, with the runs
    folder and the package on the path."""
    return dict(os.environ, GENLAB_RUNS=str(runs_dir.resolve()),
                PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")])))


def detached(argv: list[str], log_path: Path, env: dict[str, str]) -> int:
    """Start `python -m genlab ARGV…` in its own session and process group; return its pid."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "genlab", *argv], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, env=env, start_new_session=True, close_fds=True)
    return proc.pid


class LocalExecutor:
    """Workers as detached processes of this machine, one per run."""

    name = "local"

    def describe(self) -> str:
        return f"Device: {describe_device(pick_device())}"

    def prepare(self, runs_dir: Path) -> None:
        """Nothing to prepare: this machine is here."""

    def capacity(self) -> int:
        return max(1, torch.cuda.device_count())

    def start(self, run: Run, runs_dir: Path, gpu: int | None) -> None:
        """On GPU `gpu` alone when the machine has several. The worker owns the run once it
        moves it to running; until then the run names the worker's pid so a quick death is
        noticed."""
        mark_starting(run, gpu=gpu, executor=None, ray_actor=None, ray_address=None)
        env = child_env(runs_dir)
        if gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = str(gpu)
        try:
            pid = detached(["worker", str(run.path.resolve())], run.log_path, env)
        except OSError as exc:
            not_started(run, f"the worker could not be started: {exc}")
            return
        with contextlib.suppress(StateConflict):  # the worker may have claimed the run already
            change(run, expect=("starting",), owner=(None,), pid=pid, pgid=pid, pid_start=process_start(pid))

    def alive(self, status: dict[str, Any]) -> bool:
        return process_alive(status.get("pid"), status.get("pid_start"))

    def stop(self, status: dict[str, Any]) -> None:
        self._signal(status, signal.SIGTERM)

    def kill(self, status: dict[str, Any]) -> None:
        self._signal(status, signal.SIGKILL)

    def _signal(self, status: dict[str, Any], sig: int) -> None:
        if process_alive(status.get("pid"), status.get("pid_start")):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(status["pgid"], sig)


def mark_starting(run: Run, **fields: Any) -> None:
    """queued -> starting, clearing what an earlier worker left (its pid, an error), with the
    executor's own `fields`."""
    change(run, "starting", expect=("queued",), launched=time.time(), error=None, pid=None, pgid=None,
           pid_start=None, **fields)


def not_started(run: Run, why: str) -> None:
    """starting -> failed: the executor could not start the run's worker."""
    change(run, "failed", expect=("starting",), finished=time.time(), error=why)


def executor_name() -> str:
    name = os.environ.get("GENLAB_EXECUTOR", "").strip() or "local"
    if name not in EXECUTORS:
        raise ConfigError(f"GENLAB_EXECUTOR must be {' or '.join(EXECUTORS)}, not {name!r}")
    return name


def current() -> Executor:
    """The executor new runs start on: $GENLAB_EXECUTOR (local unless it says ray)."""
    return _ray(ray_address()) if executor_name() == "ray" else LocalExecutor()


def of(status: dict[str, Any]) -> Executor:
    """The executor that started a run, from its status."""
    return _ray(status["ray_address"]) if status.get("executor") == "ray" else LocalExecutor()


def ray_address() -> str:
    address = os.environ.get("GENLAB_RAY_ADDRESS", "").strip()
    if not address:
        raise ConfigError("GENLAB_EXECUTOR=ray needs GENLAB_RAY_ADDRESS: the cluster's address "
                          "(host:6379, as `ray start --head` prints it), or auto for the cluster of this machine")
    return address


@functools.cache
def _ray(address: str) -> Executor:
    try:  # Ray is imported only by those who use it
        from genlab.ray_executor import RayExecutor
    except ModuleNotFoundError as exc:
        raise ConfigError(f"GENLAB_EXECUTOR=ray needs Ray on this machine and every node ({exc}): "
                          "pip install ray (make test installs it into .venv)") from exc
    return RayExecutor(address)

