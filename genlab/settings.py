"""Every setting GenLab takes from the environment, read here and nowhere else.

    GENLAB_RUNS               the runs folder (default ./checkpoints)
    GENLAB_DATA               datasets, evaluators and uploads (default ./data)
    GENLAB_DEMOS              the shipped demo runs, shown read-only beside GENLAB_RUNS
                              (default the checkout's checkpoints/; empty: none)
    GENLAB_CLASS              1 (true, yes, on): a class server, everyone logs in (make serve);
                              unset, 0 (false, no, off): one person
    GENLAB_MAX_JOBS           runs trained at once (default: what the executor holds)
    GENLAB_WORKER_THREADS     torch threads per worker (default: the cores, less one, shared)
    GENLAB_EXECUTOR           local (default) or ray
    GENLAB_RAY_ADDRESS        the Ray cluster's host:port, or auto (with GENLAB_EXECUTOR=ray)
    GENLAB_MAX_RUNS_PER_USER  queued or training runs a student may have at once (default 2)
    GENLAB_UPLOAD_QUOTA_MB    a student's upload space in MB (default 500)
    GENLAB_STUDENT_MAX_STEPS  the most steps a student's run may ask for (default 20,000)
    GENLAB_STUDENT_MAX_MINUTES  a student's run stops after this much training (default 30)
    GENLAB_MAX_EVALS          evaluations run at once (default 1)
    GENLAB_RUNS_PER_GPU       runs trained at once on each GPU of this machine (default 8, at
                              most one per two cores)
    GENLAB_CUDA_SPEEDUPS      speed-ups on a CUDA GPU, comma-separated from fused_adam,
                              channels_last, bf16; or none (default fused_adam)
    GENLAB_WATCH_SECONDS      how often the app's watcher reconciles and lists the runs (default 2)
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
DEFAULT_STUDENT_MAX_STEPS = 20_000  # a DCGAN on Fashion-MNIST reaches FID 18 in 3,000
DEFAULT_CUDA_SPEEDUPS = ("fused_adam",)  # docs/benchmarks.md, "On a GPU"
CUDA_SPEEDUPS = ("fused_adam", "channels_last", "bf16")  # genlab.training.speedups
DEFAULT_STUDENT_MAX_MINUTES = 30  # a lesson's length: one student cannot hold a slot for days
TRUE, FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def _get(name: str) -> str:
    return os.environ.get(name, "").strip()


def env_count(name: str, default: int, meaning: str = "") -> int:
    """A whole-number setting of at least 1 from the environment variable `name`, else
    `default`; ConfigError naming the variable for anything else."""
    configured = _get(name)
    if not configured:
        return default
    if not (configured.isascii() and configured.isdigit()) or int(configured) < 1:  # not '²', which isdigit()
        raise ConfigError(f"{name} must be a whole number of at least 1{f' ({meaning})' if meaning else ''}, "
                          f"not {configured!r}")
    return int(configured)


def runs_dir() -> Path:
    """$GENLAB_RUNS, else ./checkpoints."""
    return Path(os.environ.get("GENLAB_RUNS") or "checkpoints")


def demos_dir() -> Path | None:
    """The demo runs that ship with GenLab, shown wherever the runs folder is: $GENLAB_DEMOS,
    else the checkout's checkpoints/; set empty, none."""
    configured = os.environ.get("GENLAB_DEMOS")
    if configured is None:
        return PACKAGE_ROOT / "checkpoints"
    return Path(configured) if configured.strip() else None


def data_dir() -> Path:
    """Where datasets are looked for first, and evaluators and uploads kept: $GENLAB_DATA, else ./data."""
    return Path(os.environ.get("GENLAB_DATA") or "data")


def class_mode() -> bool:
    """Whether this is a class server (make serve sets GENLAB_CLASS=1): everyone logs in.
    ConfigError for a value that is neither a yes nor a no: a typo must not serve a class
    with no login."""
    value = _get("GENLAB_CLASS").lower()
    if value not in TRUE + FALSE:
        raise ConfigError(f"GENLAB_CLASS must be 1 or 0 (true/false, yes/no, on/off), not {value!r}")
    return value in TRUE


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


def student_max_steps() -> int:
    return env_count("GENLAB_STUDENT_MAX_STEPS", DEFAULT_STUDENT_MAX_STEPS)


def student_max_minutes() -> int:
    return env_count("GENLAB_STUDENT_MAX_MINUTES", DEFAULT_STUDENT_MAX_MINUTES)


def max_evaluations() -> int:
    return env_count("GENLAB_MAX_EVALS", 1, "evaluations run at once")


def runs_per_gpu(default: int = 1) -> int:
    """$GENLAB_RUNS_PER_GPU, else `default` (the local executor's, from this machine's cores)."""
    return env_count("GENLAB_RUNS_PER_GPU", default, "runs trained at once on each GPU")


def cuda_speedups() -> tuple[str, ...]:
    """The speed-ups a run on a CUDA GPU trains with: $GENLAB_CUDA_SPEEDUPS, else the default."""
    configured = _get("GENLAB_CUDA_SPEEDUPS").lower()
    if not configured:
        return DEFAULT_CUDA_SPEEDUPS
    if configured == "none":
        return ()
    chosen = tuple(name.strip() for name in configured.split(","))
    unknown = [name for name in chosen if name not in CUDA_SPEEDUPS]
    if unknown:
        raise ConfigError(f"GENLAB_CUDA_SPEEDUPS takes {', '.join(CUDA_SPEEDUPS)} (comma-separated) or none, "
                          f"not {', '.join(map(repr, unknown))}")
    return chosen


def watch_seconds() -> int:
    """How often the app's one watcher reconciles and lists the runs folder: $GENLAB_WATCH_SECONDS, else 2."""
    return env_count("GENLAB_WATCH_SECONDS", 2, "seconds between the watcher's rounds")


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
    student_max_steps()
    student_max_minutes()
    max_evaluations()
    runs_per_gpu()
    cuda_speedups()
    watch_seconds()
    class_mode()
