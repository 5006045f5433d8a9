"""Shared fixtures: every test gets its own runs folder and data folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

from genlab.store import faults
from genlab.teaching.demos import demo_runs
from tests.support import SHIPPED


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Keep runs and downloads of each test inside its own temporary folder."""
    monkeypatch.setenv("GENLAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("GENLAB_DEMOS", "")  # a test's runs folder holds what the test put there
    monkeypatch.delenv("GENLAB_FAULTS", raising=False)
    # The app's watcher makes its first round when a page first asks; a test says when the next one happens.
    monkeypatch.setenv("GENLAB_WATCH_SECONDS", "3600")
    faults.reset()
    torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else 2)  # xdist: a core per worker
    return tmp_path


@pytest.fixture
def runs_dir(tmp_path) -> Path:
    return tmp_path / "runs"


@pytest.fixture(scope="module")
def demos_dir(tmp_path_factory) -> Path:
    """A copy of the shipped demo runs, so the pages may write into it freely."""
    root = tmp_path_factory.mktemp("demos") / "runs"
    for run_id in demo_runs(SHIPPED):
        shutil.copytree(SHIPPED / run_id, root / run_id)
    return root
