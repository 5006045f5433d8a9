"""Snapshots: a model's inference weights at one step, beside the picture of its fixed-noise
batch (drawn by genlab.views.pictures); and loading a run's model back from them for viewing."""

from __future__ import annotations

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from genlab.models import GenerativeModel, build_model
from genlab.store.atomic import write_bytes_atomic
from genlab.store.runs import Run, RunError
from genlab.store.statefile import save_tensors


def save_snapshot(run: Run, model: GenerativeModel, step: int, png: bytes) -> None:
    """Write step_NNNNNNN.safetensors (the inference weights) and step_NNNNNNN.png (`png`,
    the picture of the model's fixed-noise batch), each atomically."""
    run.snapshots_dir.mkdir(exist_ok=True)
    weights = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in model.inference_state_dict().items()}
    save_tensors(weights, run.snapshot_path(step), {"step": str(step)})
    write_picture(run, step, png)


def write_picture(run: Run, step: int, png: bytes) -> None:
    """Write (or replace) step_NNNNNNN.png."""
    write_bytes_atomic(run.snapshot_path(step, ".png"), png)


def load_model(run: Run, step: int | None = None, device: str | torch.device = "cpu") -> tuple[GenerativeModel, int]:
    """The run's model at `step` (default: the latest snapshot), in eval mode, and that step."""
    steps = run.snapshot_steps()
    if not steps:
        raise RunError(f"run {run.id} has no snapshot yet")
    if step is None:
        step = steps[-1]
    elif step not in steps:
        raise RunError(f"run {run.id} has no snapshot at step {step}; it has steps {steps[0]}..{steps[-1]}")
    config = run.config()
    info = run.dataset_info()
    model = build_model(config.model, tuple(info["shape"]), len(info.get("classes") or []))
    try:
        state = load_file(str(run.snapshot_path(step)))
        model.load_inference_state_dict(state)
    except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
        raise RunError(f"snapshot {step} of run {run.id} cannot be read: {exc}") from exc
    return model.to(device).eval(), step
