"""Helpers the tests share: tiny real runs, waiting on a condition, a page's text, the shipped
demos, Ray clusters. Fixtures that every test gets are in conftest.py."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from genlab.presets import make_config
from genlab.store.atomic import write_json_atomic
from genlab.store.lifecycle import process_start
from genlab.store.runs import Run, create_run

if TYPE_CHECKING:  # streamlit is not imported for the tests that need none (tests/test_gpu.py on a GPU server)
    from streamlit.testing.v1 import AppTest

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "checkpoints"

needs_fashion = pytest.mark.skipif(not (FASHION_DIR / "train-images-idx3-ubyte.gz").exists(),
                                   reason="Debian's dataset-fashion-mnist is not installed")


def tiny_config(variant: str = "gan", dataset: str = "ring", **overrides):
    """A config small enough to train in a fraction of a second."""
    values = dict(steps=8, log_every=2, n_snapshots=4, batch_size=16, hidden=16, depth=1)
    if variant in ("dcgan", "dcgan-wgan-gp", "cdcgan", "conv-vae"):
        values["hidden"] = 8
    values.update(overrides)
    return make_config(variant, dataset, **values)


def tiny_run(runs_dir: Path, variant: str = "gan", dataset: str = "ring", **overrides) -> Run:
    return create_run(runs_dir, tiny_config(variant, dataset, **overrides))


def force_status(run: Run, **fields: Any) -> None:
    """Rewrite status.json as a crash, a reboot or a hand edit leaves it: no transition checks."""
    write_json_atomic(run.status_path, {**run.status(), **fields})


def seems_to_train(run: Run, **fields: Any) -> subprocess.Popen:
    """Make `run` look as if it trains to every page and to reconcile: running, its worker a
    live process (a sleep, which the caller kills), with `fields` on top."""
    worker = subprocess.Popen(["sleep", "600"])
    force_status(run, state="running", pid=worker.pid, pgid=os.getpgrp(), pid_start=process_start(worker.pid),
                 started=time.time(), **fields)
    return worker


def state(run: Run) -> str | None:
    return run.status().get("state")


def wait_for(predicate: Callable[[], Any], timeout: float = 90.0, interval: float = 0.2) -> Any:
    """Poll `predicate` until it returns something true (returned); AssertionError after `timeout` s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")


def losses(run: Run) -> list[dict]:
    """The run's metrics lines without their times: what an exact resume must reproduce."""
    return [{k: v for k, v in r.items() if k != "time"} for r in run.metrics()]


def steps_logged(run: Run) -> list[int]:
    return [r["step"] for r in run.metrics()]


def texts(at: AppTest) -> str:
    """Everything a page wrote in words: markdown, captions, headers and every kind of message."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
    parts += [w.value for w in at.warning] + [i.value for i in at.info] + [s.value for s in at.subheader]
    return "\n".join(str(p) for p in parts)


def ray_cluster(**init: Any) -> Iterator[None]:
    """A local Ray cluster for a test module (`ray.init(**init)`), shut down after it."""
    import ray

    ray.init(include_dashboard=False, log_to_driver=False, **init)
    yield
    ray.shutdown()


def enrol(runs_dir: Path, *users: Any) -> None:
    """Put class members (genlab.classroom.access.User) on the roster with no password, as
    accounts the school's provider logs in: genlab checks every privileged action against
    the roster, and hashing a password per test would only cost time."""
    from genlab.classroom import roster

    for user in users:
        with roster._editing(runs_dir) as whole:
            whole["accounts"][user.name] = {"sso": True, "teacher": user.teacher, "created": time.time()}
