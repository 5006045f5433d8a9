"""Shared fixtures: every test gets its own runs folder and data folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from genlab import faults
from genlab.atomic import write_json_atomic
from genlab.presets import make_config
from genlab.runs import create_run
from genlab.teaching.demos import demo_runs

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "checkpoints"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Keep runs and downloads of each test inside its own temporary folder."""
    monkeypatch.setenv("GENLAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("GENLAB_FAULTS", raising=False)
    faults.reset()
    torch.set_num_threads(2)
    return tmp_path


@pytest.fixture
def runs_dir(tmp_path) -> Path:
    return tmp_path / "runs"


def tiny_config(variant: str = "gan", dataset: str = "ring", **overrides):
    """A config small enough to train in a fraction of a second."""
    values = dict(steps=8, log_every=2, n_snapshots=4, batch_size=16, hidden=16, depth=1)
    if variant in ("dcgan", "dcgan-wgan-gp", "cdcgan", "conv-vae"):
        values["hidden"] = 8
    values.update(overrides)
    return make_config(variant, dataset, **values)


def force_status(run, **fields) -> None:
    """Rewrite status.json as a crash, a reboot or a hand edit leaves it: no transition checks."""
    write_json_atomic(run.status_path, {**run.status(), **fields})


def tiny_run(runs_dir: Path, variant: str = "gan", dataset: str = "ring", **overrides):
    return create_run(runs_dir, tiny_config(variant, dataset, **overrides))


needs_fashion = pytest.mark.skipif(not (FASHION_DIR / "train-images-idx3-ubyte.gz").exists(),
                                   reason="Debian's dataset-fashion-mnist is not installed")


@pytest.fixture(scope="module")
def demos_dir(tmp_path_factory) -> Path:
    """A copy of the shipped demo runs, so the pages may write into it freely."""
    root = tmp_path_factory.mktemp("demos") / "runs"
    for run_id in demo_runs(SHIPPED):
        shutil.copytree(SHIPPED / run_id, root / run_id)
    return root
