"""Snapshots: a model's inference weights at one step, plus the picture of its fixed-noise
batch; and loading a run's model back from them for viewing."""

from __future__ import annotations

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from genlab.atomic import replacing
from genlab.models import GenerativeModel, build_model
from genlab.runs import Run, RunError
from genlab.statefile import save_tensors
from genlab.viz import picture, save_png

GRID_SEED = 0  # every run draws its fixed-noise batch from this seed, so runs compare like for like


def grid_size(model: GenerativeModel) -> int:
    """64 images (an 8x8 grid), or 2,000 points for a 2-D model."""
    return 64 if model.is_image else 2000


def save_snapshot(run: Run, model: GenerativeModel, step: int, real: torch.Tensor | None = None) -> None:
    """Write step_NNNNNNN.safetensors and step_NNNNNNN.png, each atomically."""
    run.snapshots_dir.mkdir(exist_ok=True)
    weights = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in model.inference_state_dict().items()}
    save_tensors(weights, run.snapshot_path(step), {"step": str(step)})
    draw_snapshot(run, model, step, real)


def draw_snapshot(run: Run, model: GenerativeModel, step: int, real: torch.Tensor | None = None) -> None:
    """Write step_NNNNNNN.png: the model's fixed-noise batch (over `real` points, if given)."""
    with replacing(run.snapshot_path(step, ".png")) as tmp:
        save_png(picture(model.sample(grid_size(model), GRID_SEED), real=real), tmp)


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
