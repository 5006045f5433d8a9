"""Where a started run trains: the executor, chosen by $GENLAB_EXECUTOR.

    local (the default)  a detached process on this machine (`python -m genlab worker RUN_DIR`)
                         in its own session and process group; alive while its (pid, start
                         time) is; stopped by SIGTERM, killed by SIGKILL to its group
    ray                  a detached, named Ray actor on any node of the cluster at
                         $GENLAB_RAY_ADDRESS (ray_cluster); alive while Ray knows it

Both train the same way (`jobs.work`) in the same run directory, and both are only
handed runs that `jobs.schedule` picked: which run starts next is always GenLab's fair queue.
A run records the executor that started it (status `executor`, null or absent for local), so a run
keeps being watched by its own executor whatever the setting is now.
"""

from __future__ import annotations

import functools
from typing import Any

from genlab import settings
from genlab.config import ConfigError
from genlab.jobs.executors.base import Executor
from genlab.jobs.executors.local import LocalExecutor


def current() -> Executor:
    """The executor new runs start on: $GENLAB_EXECUTOR (local unless it says ray)."""
    return _ray(settings.ray_address()) if settings.executor_name() == "ray" else LocalExecutor()


def of(status: dict[str, Any]) -> Executor:
    """The executor that started a run, from its status."""
    return _ray(status["ray_address"]) if status.get("executor") == "ray" else LocalExecutor()


@functools.cache
def _ray(address: str) -> Executor:
    try:  # Ray is imported only by those who use it
        from genlab.jobs.executors.ray_cluster import RayExecutor
    except ModuleNotFoundError as exc:
        raise ConfigError(f"GENLAB_EXECUTOR=ray needs Ray on this machine and every node ({exc}): "
                          "pip install ray (make test installs it into .venv)") from exc
    return RayExecutor(address)
