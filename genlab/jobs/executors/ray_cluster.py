"""Runs on a Ray cluster (GENLAB_EXECUTOR=ray, GENLAB_RAY_ADDRESS=host:port or auto).

Each started run becomes a detached, named Ray actor that runs the same worker code as a
local worker (`jobs.work`) in the same run directory, asking Ray for the run's `cpus` and,
when the cluster has GPUs and the run may use one, its `gpu_share` of a GPU (0.25: four runs
share one). An actor rather than a task, because a task belongs to the process that submitted
it and dies with it (the app restarting, or the worker that started the next run ending); a
detached actor lives until its run ends or its node is lost, and any process finds it by name
to ask whether it is alive or to end it.

The runs folder and the data folder (datasets, evaluators, uploads) must each be one folder
every node sees at the same path (a shared filesystem): the first time a process starts runs,
a check task on every node writes a file into each, and this process must read back what
each wrote. Ray is used only to place and watch
workers; GenLab's queue still decides which run starts next (jobs.schedule).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import time
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from genlab import settings
from genlab.config import RunConfig
from genlab.jobs.executors.base import ExecutorUnavailable, mark_starting, not_started
from genlab.store.runs import Run

NAMESPACE = "genlab"
CONNECT_TIMEOUT_S = 5.0  # to open a TCP connection to the cluster's address
CHECK_TIMEOUT_S = 60.0  # for the check tasks of every node
RETRY_AFTER_S = 30.0  # after a failed connection, the same message until then instead of trying again


@ray.remote(max_restarts=0)
class RunWorker:
    """One run's worker on some node: `jobs.work`, its output in the run's worker.log, as
    `python -m genlab worker` does locally; the actor ends with its run."""

    def train(self, run_path: str, threads: int) -> None:
        # Imported here, by the actor's process: the job system imports this module to start
        # actors, so a module-level import would make an import circle.
        from genlab.jobs.worker import work

        path = Path(run_path)
        with open(path / "worker.log", "a", encoding="utf-8") as log, \
                contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            node = ray.get_runtime_context().get_node_id()
            print(f"genlab worker: Ray actor on node {node} ({socket.gethostname()}), pid {os.getpid()}", flush=True)
            work(path, threads)
        ray.actor.exit_actor()  # frees its CPUs and GPU share at once


@ray.remote(num_cpus=0)
class Dispatcher:
    """Creates the run actors: one long-lived actor that asks for no resources. A run actor
    that created the next run's actor itself could not end before that actor was placed (it
    owns the creation), while it kept the CPUs the new one waits for: the queue would stop."""

    def start(self, name: str, run_path: str, cpus: int, gpus: float, env: dict[str, str]) -> None:
        actor = RunWorker.options(name=name, namespace=NAMESPACE, lifetime="detached", num_cpus=cpus,
                                  num_gpus=gpus, runtime_env={"env_vars": env}).remote()
        actor.train.remote(run_path, cpus)


def dispatcher(env: dict[str, str]) -> Any:
    """The cluster's Dispatcher, started by the first process that needs it."""
    return Dispatcher.options(name="dispatcher", namespace=NAMESPACE, lifetime="detached", get_if_exists=True,
                              runtime_env={"env_vars": {"PYTHONPATH": env["PYTHONPATH"]}}).remote()


@ray.remote(num_cpus=0)
def write_probe(path: str, token: str) -> str:
    """On the node this runs on: write `token` to `path`; return the node's host name."""
    Path(path).write_text(token, encoding="utf-8")
    return socket.gethostname()


class RayExecutor:
    """Workers as detached Ray actors (see the module's docstring)."""

    name = "ray"

    def __init__(self, address: str):
        self.address = address
        self._checked: set[Path] = set()  # folders every node was seen to share
        self._failed: tuple[float, str] | None = None  # when connecting last failed, and why

    def describe(self) -> str:
        resources = self._resources()
        return (f"Ray cluster at {self.address}: {resources.get('CPU', 0):.0f} CPUs, "
                f"{resources.get('GPU', 0):.0f} GPUs")

    def capacity(self) -> int:
        """Each run asks for at least one CPU, so the cluster trains at most its CPU count."""
        return max(1, int(self._resources().get("CPU", 1)))

    def prepare(self, runs_dir: Path) -> None:
        """Join the cluster, and check once that its nodes share the runs and data folders
        (an actor's own were checked by whoever started it)."""
        self._connect()
        if ray.get_runtime_context().get_actor_id() is not None:
            return
        for folder in (runs_dir.resolve(), settings.data_dir().resolve()):
            if folder not in self._checked:
                folder.mkdir(parents=True, exist_ok=True)
                check_shared(folder)
                self._checked.add(folder)

    def start(self, run: Run, runs_dir: Path, gpu: int | None) -> None:
        """After `prepare`. `gpu` is the local executor's; Ray assigns GPUs (and sets
        CUDA_VISIBLE_DEVICES) itself."""
        cpus, gpus = self.request(run.config())
        name = f"{run.id}-{secrets.token_hex(4)}"  # a resumed run never meets its dead actor's name
        mark_starting(run, gpu=None, executor="ray", ray_actor=name, ray_address=self.address)
        env = settings.cluster_environment(runs_dir)
        try:  # returns once the actor is registered, so `alive` finds it from now on
            ray.get(dispatcher(env).start.remote(name, str(run.path.resolve()), cpus, gpus, env))
        except RayError as exc:
            not_started(run, f"Ray did not take the run: {exc}")

    def request(self, config: RunConfig) -> tuple[int, float]:
        """The CPUs and the share of a GPU a run asks Ray for: its `cpus`, and its `gpu_share`
        when the cluster has GPUs and the run's device may be one (auto or cuda)."""
        has_gpus = self._resources().get("GPU", 0) > 0
        wants_gpu = config.schedule.device in ("auto", "cuda")
        return config.schedule.cpus, config.schedule.gpu_share if has_gpus and wants_gpu else 0.0

    def alive(self, status: dict[str, Any]) -> bool | None:
        """Whether Ray still knows the run's actor (pending for resources counts: it will
        start); None when the cluster cannot be reached, so nothing is concluded."""
        try:
            self._connect()
        except ExecutorUnavailable:
            return None
        return self._actor(status) is not None

    def stop(self, status: dict[str, Any]) -> None:
        """No signal reaches another node: the worker reads the STOP file before each step."""

    def kill(self, status: dict[str, Any]) -> None:
        with contextlib.suppress(ExecutorUnavailable):
            self._connect()
            actor = self._actor(status)
            if actor is not None:
                ray.kill(actor)

    def _actor(self, status: dict[str, Any]) -> Any:
        try:
            return ray.get_actor(status.get("ray_actor") or "", namespace=NAMESPACE)
        except ValueError:  # it ended, was killed, or its node was lost
            return None

    def _resources(self) -> dict[str, float]:
        self._connect()
        return ray.cluster_resources()

    def _connect(self) -> None:
        """Join the cluster once per process; ExecutorUnavailable, with what to do, when it
        cannot be reached (and for RETRY_AFTER_S after that, without trying again)."""
        if ray.is_initialized():
            return
        if self._failed and time.monotonic() - self._failed[0] < RETRY_AFTER_S:
            raise ExecutorUnavailable(self._failed[1])
        try:
            check_reachable(self.address)
            ray.init(address=self.address, namespace=NAMESPACE, log_to_driver=False, logging_level="WARNING")
        except (OSError, RuntimeError, ValueError) as exc:  # ConnectionError is an OSError
            why = (f"the Ray cluster at {self.address} (GENLAB_RAY_ADDRESS) could not be reached: {exc}. "
                   "Queued runs stay queued; start the cluster (ray start --head) or correct the address")
            self._failed = (time.monotonic(), why)
            raise ExecutorUnavailable(why) from exc
        self._failed = None


def check_reachable(address: str) -> None:
    """OSError when nothing answers at host:port within CONNECT_TIMEOUT_S (ray.init itself
    takes 20 s to give up); `auto` and `local` are left to ray.init."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if sep and port.isdigit():
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()


def check_shared(folder: Path) -> None:
    """ExecutorUnavailable unless every alive node of the cluster can write into `folder` and
    this process reads back what each wrote: the runs folder must be shared storage."""
    token = secrets.token_hex(8)
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    probes = {n["NodeID"]: folder / f".ray-check-{n['NodeID'][:12]}-{token}" for n in nodes}
    refs = {node: write_probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False))
            .remote(str(path), token) for node, path in probes.items()}
    problems = []
    for node, ref in refs.items():
        try:
            host = ray.get(ref, timeout=CHECK_TIMEOUT_S)
            seen = probes[node].read_text(encoding="utf-8") if probes[node].exists() else None
            if seen != token:
                problems.append(f"node {host} wrote into {folder}, but this machine does not see it there")
        except (RayError, GetTimeoutError, OSError) as exc:
            problems.append(f"node {node[:12]} could not write into {folder}: {_cause(exc)}")
        finally:
            with contextlib.suppress(OSError):
                probes[node].unlink()
    if problems:
        raise ExecutorUnavailable("with Ray the runs folder must be storage every node writes at the same path "
                                  f"(a shared filesystem): {'; '.join(problems)}")


def _cause(exc: BaseException) -> str:
    """The last line of a remote error (Ray wraps the task's traceback around it)."""
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__

