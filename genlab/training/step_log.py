"""Averages of the named values training steps return, and the check that they are finite.

Shared by the Trainer (one line of metrics.jsonl per log interval) and the 2-D lab (one
point of its curves per update), so both average and refuse NaN the same way.
"""

from __future__ import annotations

import math
from typing import Any

import torch

Value = torch.Tensor | float


class RunningMeans:
    """Step outputs summed since the last reset. Sums of tensors stay tensors on the
    training device, so adding a step never waits for it; `means()` is the one host sync."""

    def __init__(self) -> None:
        self.sums: dict[str, Value] = {}
        self.count = 0

    def add(self, out: dict[str, Value]) -> None:
        for k, v in out.items():
            self.sums[k] = self.sums[k] + v if k in self.sums else v
        self.count += 1

    def means(self) -> dict[str, float | list[float]]:
        """Each name's mean over the steps added; per-dimension values as lists."""
        return {k: _mean(v, self.count) for k, v in self.sums.items()}

    def reset(self) -> None:
        self.sums, self.count = {}, 0

    def state_dict(self) -> dict[str, Any]:
        return {"sums": self.sums, "count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sums, self.count = dict(state["sums"]), state["count"]


def _mean(total: Value, count: int) -> float | list[float]:
    if isinstance(total, torch.Tensor):
        value = (total / count).tolist()
        return [round(v, 6) for v in value] if isinstance(value, list) else value
    return total / count


def non_finite(record: dict[str, Any]) -> list[str]:
    """The names in `record` whose number, or any number of whose list, is NaN or infinite."""
    def finite(value: Any) -> bool:
        values = value if isinstance(value, list) else [value]
        return all(math.isfinite(v) for v in values)
    return [k for k, v in record.items() if not finite(v)]
