"""How fast a trained model makes samples: one forward pass of a GAN's generator or a VAE's
decoder per batch, timed on the model's own device."""

from __future__ import annotations

import time

import torch

from genlab.models import GenerativeModel


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def samples_per_second(model: GenerativeModel, batch: int, budget_s: float = 0.25) -> float:
    """Samples per second at this batch size: `model.generate` on fresh codes, after one
    warm-up call, repeated until `budget_s` has passed (at least three times)."""
    model.eval()
    z = model.codes(batch, seed=0)
    model.generate(z)  # warm-up: lazy initialisation and caches are not the model's speed
    _synchronise(model.device)
    calls, start = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < budget_s:
        model.generate(z)
        calls += 1
    _synchronise(model.device)
    return calls * batch / (time.perf_counter() - start)
