"""What the views say about runs at a glance: progress and time, the runs worth looking at,
and the fairest GAN/VAE pair to compare."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genlab.runs import RunSummary, list_runs


@dataclass(frozen=True)
class Progress:
    step: int
    total: int
    elapsed_s: float

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total)

    @property
    def elapsed(self) -> str:
        """Training time as H:MM:SS."""
        return time.strftime("%H:%M:%S", time.gmtime(self.elapsed_s))


def progress(status: dict[str, Any]) -> Progress:
    """Step, total and training time of a run from its status (zeros where it has none yet)."""
    return Progress(step=int(status.get("step") or 0), total=max(1, int(status.get("total_steps") or 1)),
                    elapsed_s=float(status.get("elapsed_s") or 0))


def viewable_runs(runs_dir: Path, family: str | None = None) -> list[RunSummary]:
    """Runs that have at least one snapshot to look at, optionally of one family, newest first."""
    return [s for s in list_runs(runs_dir)
            if not s.error and s.run.snapshot_steps() and (family is None or s.config.model.family == family)]


def comparison_pair(summaries: list[RunSummary]) -> tuple[RunSummary, RunSummary] | None:
    """The newest GAN and VAE trained on the same dataset, preferring a pair with the same
    latent size (then both decode exactly the same z); None when there is no such pair."""
    gans = [s for s in summaries if s.config.model.family == "gan"]
    vaes = [s for s in summaries if s.config.model.family == "vae"]
    pairs = [(g, v) for g in gans for v in vaes if g.config.data.name == v.config.data.name]
    same_z = [(g, v) for g, v in pairs if g.config.model.latent_dim == v.config.model.latent_dim]
    return (same_z or pairs or [None])[0]
