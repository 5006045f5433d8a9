"""What every worker does, wherever it runs: train its run, then start the next queued one."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import torch

from genlab.config import ConfigError
from genlab.jobs.fair_queue import schedule
from genlab.store.runs import Run, RunError
from genlab.training.trainer import Trainer


def work(run_path: Path, threads: int, device: str | None = None, stop_on_sigterm: bool = False) -> str:
    """What every worker does, wherever it runs: train the run it was started for with
    `threads` torch threads (on `device`, else the run's), then start the next queued run (a
    slot is free). Returns the run's final state. A local worker stops on SIGTERM (`cancel`
    sends it); a Ray actor leaves SIGTERM to Ray, and reads the STOP file like every worker."""
    torch.set_num_threads(threads)
    print(f"genlab worker: {threads} torch thread(s)", file=sys.stderr, flush=True)
    trainer = Trainer(Run(run_path), device, foreground=False)
    if stop_on_sigterm:
        signal.signal(signal.SIGTERM, lambda *_: trainer.request_stop())
    state = trainer.train()
    try:
        schedule(run_path.parent)
    except (OSError, ConfigError, RunError) as exc:
        print(f"genlab: the next queued run was not started: {exc}", file=sys.stderr)
    return state
