"""Speed-ups for training on a CUDA GPU, each one chosen by $GENLAB_CUDA_SPEEDUPS.

GenLab's models are small: on a GPU a step is bound by kernel launches and Python, not by
arithmetic. What each speed-up does (measured in docs/benchmarks.md, "On a GPU"):

    fused_adam     Adam's update in one fused kernel (PyTorch's `fused=True`), not its default
                   multi-tensor kernels
    channels_last  NHWC layout for convolutional networks, the layout cuDNN's kernels prefer
    bf16           the forward and backward passes under bf16 autocast (which keeps losses and
                   reductions in float32)

They apply on CUDA only: a run on the CPU trains, and resumes, exactly as it always has.
A checkpoint does not depend on them: a run may stop on a GPU and resume on the CPU.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import torch

from genlab import settings


def chosen_for(device: torch.device) -> tuple[str, ...]:
    """The speed-ups a run on `device` trains with: $GENLAB_CUDA_SPEEDUPS on CUDA, none elsewhere."""
    return settings.cuda_speedups() if device.type == "cuda" else ()


def fuse_adam(optimizers: dict[str, torch.optim.Optimizer], fused: bool) -> None:
    """Make each Adam step one fused kernel (or the default, `fused=False`). The choice lives in
    each parameter group, where a loaded optimiser state would otherwise bring its own."""
    for optimizer in optimizers.values():
        optimizer.defaults["fused"] = fused or None
        for group in optimizer.param_groups:
            group["fused"] = fused or None
            if fused:
                group["foreach"] = None


def prepare(model: torch.nn.Module, optimizers: dict[str, torch.optim.Optimizer], chosen: Iterable[str]) -> None:
    """Apply the chosen speed-ups that change the model and the optimisers, in place."""
    chosen = set(chosen)
    fuse_adam(optimizers, "fused_adam" in chosen)
    if "channels_last" in chosen and any(isinstance(m, torch.nn.Conv2d) for m in model.modules()):
        model.to(memory_format=torch.channels_last)
        match_layout(optimizers)


def match_layout(optimizers: dict[str, torch.optim.Optimizer]) -> None:
    """Give each parameter's Adam moments the parameter's memory layout: moments loaded from
    a checkpoint are contiguous, and the fused CUDA kernel refuses a mix of layouts."""
    for optimizer in optimizers.values():
        for param, state in optimizer.state.items():
            for key, value in state.items():
                if torch.is_tensor(value) and value.shape == param.shape and value.stride() != param.stride():
                    state[key] = torch.empty_like(param).copy_(value)


def step_context(device: torch.device, chosen: tuple[str, ...]) -> contextlib.AbstractContextManager:
    """What a training step runs inside: bf16 autocast when chosen, else nothing."""
    if "bf16" in chosen:
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
