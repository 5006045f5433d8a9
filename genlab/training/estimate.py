"""How long training will take here: a step rate measured on this machine (durations are
said in words by genlab.views.overview.duration)."""

from __future__ import annotations

import time

import torch

from genlab.config import RunConfig
from genlab.data import Dataset
from genlab.training.trainer import new_state


def measure_step_rate(config: RunConfig, data: Dataset, device: torch.device, budget_s: float = 1.5,
                      max_steps: int = 20) -> float:
    """Training steps per second of `config` on `device`, timed over real updates (after one
    untimed warm-up step) until `budget_s` or `max_steps`. Global RNGs are left as they were."""
    with torch.random.fork_rng(devices=[]):
        state = new_state(config, data, device)
        state.model.train_step(state.sampler, state.optimizers, 0, state.noise_rng)
        start, steps = time.perf_counter(), 0
        while steps < max_steps and (steps < 2 or time.perf_counter() - start < budget_s):
            out = state.model.train_step(state.sampler, state.optimizers, steps + 1, state.noise_rng)
            steps += 1
        float(next(iter(out.values())))  # wait for the device before reading the clock
        return steps / (time.perf_counter() - start)
