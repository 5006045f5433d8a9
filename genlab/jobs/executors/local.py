"""Workers as detached processes of this machine (`python -m genlab worker RUN_DIR`), one per
run, each in its own session and process group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

from genlab import settings
from genlab.jobs.executors.base import mark_starting, not_started
from genlab.store.lifecycle import StateConflict, change, process_alive, process_start
from genlab.store.runs import Run
from genlab.training.device import describe as describe_device
from genlab.training.device import pick_device, usable_cores


def detached(argv: list[str], log_path: Path, env: dict[str, str]) -> int:
    """Start `python -m genlab ARGV…` in its own session and process group; return its pid."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "genlab", *argv], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, env=env, start_new_session=True, close_fds=True)
    return proc.pid


def default_runs_per_gpu() -> int:
    """Runs trained at once on one GPU unless $GENLAB_RUNS_PER_GPU says: 8, and no more than
    one per two cores. On an H200 with 16 cores, 8 DCGAN runs at once finished 5.0x the runs
    of one, each 1.5x slower; 16 finished 6.8x, each 2.9x slower (docs/benchmarks.md, "Several
    runs on one GPU"). A small run is bound by its worker's Python, that is by a core."""
    return max(1, min(8, usable_cores() // 2))


class LocalExecutor:
    """Workers as detached processes of this machine, one per run."""

    name = "local"

    def describe(self) -> str:
        return f"Device: {describe_device(pick_device())}"

    def prepare(self, runs_dir: Path) -> None:
        """Nothing to prepare: this machine is here."""

    def capacity(self) -> int:
        """$GENLAB_RUNS_PER_GPU on each GPU (default: see default_runs_per_gpu); one run on a
        machine without one."""
        return torch.cuda.device_count() * settings.runs_per_gpu(default_runs_per_gpu()) or 1

    def start(self, run: Run, runs_dir: Path, gpu: int | None) -> None:
        """On GPU `gpu` alone when the machine has several (the queue picks the least busy).
        The worker owns the run once it moves it to running; until then the run names the
        worker's pid so a quick death is noticed."""
        mark_starting(run, gpu=gpu, executor=None, ray_actor=None, ray_address=None)
        env = settings.child_environment(runs_dir)
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
