"""Pick the device to train and decode on: cuda, then mps, then cpu, unless told; and count
the cores this process may use."""

from __future__ import annotations

import os

import torch

from genlab.config import ConfigError

CHOICES = ("auto", "cpu", "cuda", "mps")


def pick_device(preference: str = "auto") -> torch.device:
    if preference not in CHOICES and not preference.startswith("cuda:"):
        raise ConfigError(f"device must be one of {', '.join(CHOICES)} (or cuda:N), not {preference!r}")
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if preference.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device cuda was asked for, but this machine has no usable CUDA GPU; use auto or cpu")
    if preference == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device mps was asked for, but this machine has no Apple GPU; use auto or cpu")
    return torch.device(preference)


def describe(device: torch.device) -> str:
    """A short human name: 'cpu', or the GPU's model name."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def usable_cores() -> int:
    """The cores this process may run on (Linux: its affinity); elsewhere, all of them."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
