"""Every setting GenLab takes from the environment, read here and nowhere else.

    GENLAB_RUNS               the runs folder (default ./checkpoints)
    GENLAB_DATA               datasets, evaluators and uploads (default ./data)
    GENLAB_CLASS              1: a class server, everyone logs in (make serve); unset or 0: one person
    GENLAB_MAX_JOBS           runs trained at once (default: what the executor holds)
    GENLAB_WORKER_THREADS     torch threads per worker (default: the cores, less one, shared)
    GENLAB_EXECUTOR           local (default) or ray
    GENLAB_RAY_ADDRESS        the Ray cluster's host:port, or auto (with GENLAB_EXECUTOR=ray)
    GENLAB_MAX_RUNS_PER_USER  queued or training runs a student may have at once (default 2)
    GENLAB_UPLOAD_QUOTA_MB    a student's upload space in MB (default 500)
    GENLAB_FAULTS, GENLAB_TRACE  tests only: fault injection and the workers' trace (genlab.store.faults)

`check_all()` refuses a bad value with one message naming the variable; the app and the
command line call it when they start, so a typo is found before anything is queued.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from genlab.config import ConfigError

EXECUTORS = ("local", "ray")
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MAX_RUNS_PER_USER = 2
DEFAULT_UPLOAD_QUOTA_MB = 500


def _get(name: str) -> str:
    return os.environ.get(name, "").strip()


def env_count(name: str, default: int, meaning: str = "") -> int:
    """A whole-number setting of at least 1 from the environment variable `name`, else
    `default`; ConfigError naming the variable for anything else."""
    configured = _get(name)
    if not configured:
        return default
    if not configured.isdigit() or int(configured) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1{f' ({meaning})' if meaning else ''}, "
                          f"not {configured!r}")
    return int(configured)


def runs_dir() -> Path:
    """$GENLAB_RUNS, else ./checkpoints."""
    return Path(os.environ.get("GENLAB_RUNS") or "checkpoints")


def data_dir() -> Path:
    """Where datasets are looked for first, and evaluators and uploads kept: $GENLAB_DATA, else ./data."""
    return Path(os.environ.get("GENLAB_DATA") or "data")


def class_mode() -> bool:
    """Whether this is a class server (make serve sets GENLAB_CLASS=1): everyone logs in."""
    return os.environ.get("GENLAB_CLASS", "") == "1"


def max_jobs_setting() -> int | None:
    """$GENLAB_MAX_JOBS, or None when it is not set (the executor's capacity decides)."""
    return env_count("GENLAB_MAX_JOBS", 0, "runs trained at once") or None


def worker_threads_setting(default: int) -> int:
    return env_count("GENLAB_WORKER_THREADS", default)


def executor_name() -> str:
    name = _get("GENLAB_EXECUTOR") or "local"
    if name not in EXECUTORS:
        raise ConfigError(f"GENLAB_EXECUTOR must be {' or '.join(EXECUTORS)}, not {name!r}")
    return name


def ray_address() -> str:
    address = _get("GENLAB_RAY_ADDRESS")
    if not address:
        raise ConfigError("GENLAB_EXECUTOR=ray needs GENLAB_RAY_ADDRESS: the cluster's address "
                          "(host:6379, as `ray start --head` prints it), or auto for the cluster of this machine")
    return address


def max_runs_per_student() -> int:
    """Active or queued runs a student may have at once: $GENLAB_MAX_RUNS_PER_USER, else 2."""
    return env_count("GENLAB_MAX_RUNS_PER_USER", DEFAULT_MAX_RUNS_PER_USER)


def upload_quota_mb() -> int:
    """A class member's upload space: $GENLAB_UPLOAD_QUOTA_MB, else 500."""
    return env_count("GENLAB_UPLOAD_QUOTA_MB", DEFAULT_UPLOAD_QUOTA_MB)


def fault_spec() -> str:
    """Tests only: the faults to inject ($GENLAB_FAULTS; see genlab.store.faults)."""
    return os.environ.get("GENLAB_FAULTS", "")


def trace_path() -> str:
    """Tests only: the file workers log their start and stop of training to ($GENLAB_TRACE)."""
    return os.environ.get("GENLAB_TRACE", "")


def child_environment(runs: Path) -> dict[str, str]:
    """The environment of a GenLab process started for the runs folder `runs`: this one's,
    with that folder and the package on the path."""
    return dict(os.environ, GENLAB_RUNS=str(runs.resolve()),
                PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")])))


def cluster_environment(runs: Path) -> dict[str, str]:
    """What a worker on another machine needs of this environment: the GENLAB_* settings,
    the package path, and the data folder as an absolute path (the same from any node's
    working directory)."""
    env = {k: v for k, v in child_environment(runs).items() if k.startswith("GENLAB_") or k == "PYTHONPATH"}
    env["GENLAB_DATA"] = str(data_dir().resolve())
    return env


def check_all() -> None:
    """ConfigError, naming the variable, for the first setting that cannot be used; connects
    to nothing (an unreachable Ray cluster is found when a run starts)."""
    max_jobs_setting()
    worker_threads_setting(1)
    if executor_name() == "ray":
        ray_address()
        if importlib.util.find_spec("ray") is None:
            raise ConfigError("GENLAB_EXECUTOR=ray needs Ray on this machine and every node: "
                              "pip install ray (make test installs it into .venv)")
    max_runs_per_student()
    upload_quota_mb()
