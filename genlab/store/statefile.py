"""Save and load nested training state without pickle.

A state is any nesting of dicts, lists and tuples with tensors, numbers, strings, bools
and None at the leaves (a model's or an optimiser's state_dict, RNG states, counters).
Tensors go into a safetensors file; the nesting goes, as JSON, into that file's own
metadata, so one file holds everything and can be replaced atomically.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from genlab.store.atomic import replacing

_META_KEY = "genlab_state"


def _encode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, torch.Tensor):
        key = f"t{len(tensors)}"
        # A copy, so that views and shared storage never reach safetensors (it refuses them).
        tensors[key] = obj.detach().to("cpu", copy=True).contiguous()
        return {"__tensor__": key}
    if isinstance(obj, dict):
        # JSON keys are strings; an optimiser state is keyed by ints, so keep each key's type.
        return {"__dict__": [[k, _encode(v, tensors)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"__tuple__" if isinstance(obj, tuple) else "__list__": [_encode(v, tensors) for v in obj]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store a {type(obj).__name__} in a state file")


def _decode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]]
        if "__dict__" in obj:
            return {k: _decode(v, tensors) for k, v in obj["__dict__"]}
        if "__tuple__" in obj:
            return tuple(_decode(v, tensors) for v in obj["__tuple__"])
        return [_decode(v, tensors) for v in obj["__list__"]]
    return obj


def save_tensors(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    """Write a safetensors file atomically (genlab.store.atomic). An I/O error inside safetensors
    (which raises its own error type) comes out as the OSError it is: a full disk is ENOSPC."""
    with replacing(path) as tmp:
        try:
            save_file(tensors, str(tmp), metadata=metadata)
        except SafetensorError as exc:
            code = re.search(r"os error (\d+)", str(exc))
            if code:
                raise OSError(int(code.group(1)), os.strerror(int(code.group(1))), str(path)) from exc
            raise


def save_state(path: Path, state: Any) -> None:
    """Write `state` to `path` atomically."""
    tensors: dict[str, torch.Tensor] = {}
    skeleton = _encode(state, tensors)
    save_tensors(tensors, path, {_META_KEY: json.dumps(skeleton)})


def load_state(path: Path, device: torch.device | str = "cpu") -> Any:
    """Read a state written by `save_state`."""
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if _META_KEY not in meta:
        raise ValueError(f"{path} is not a GenLab state file")
    return _decode(json.loads(meta[_META_KEY]), load_file(str(path), device=str(device)))
