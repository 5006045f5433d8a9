"""A run's eval.json: one entry per evaluated step, added or replaced by an atomic
read-merge-replace (the Trainer during training, `python -m genlab eval`, the demos)."""

from __future__ import annotations

import time
from typing import Any

from genlab.store.atomic import write_json_atomic
from genlab.store.runs import Run


def record_evaluation(run: Run, step: int, result: dict[str, Any]) -> None:
    """Add (or replace) the evaluation of one step in eval.json, atomically."""
    kept = [e for e in run.evaluations() if e["step"] != step]
    kept.append({"step": step, "evaluated_at": time.time(), **result})
    write_json_atomic(run.eval_path, {"evaluations": sorted(kept, key=lambda e: e["step"])})


def latest_evaluation(run: Run) -> dict[str, Any] | None:
    evaluations = run.evaluations()
    return evaluations[-1] if evaluations else None
