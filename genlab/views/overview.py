"""What the views say about runs at a glance: progress and time, the runs worth looking at,
the fairest GAN/VAE pair to compare, and a class's runs as one table and one experiment."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genlab.config import RunConfig
from genlab.models import VARIANTS
from genlab.store.runs import RunError, RunSummary
from genlab.views.metric_info import number


def duration(seconds: float) -> str:
    """'45 s', '12 min', '3 h 20 min', '2.5 days'."""
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        hours, minutes = divmod(round(seconds / 60), 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{seconds / 86400:.1f} days"


@dataclass(frozen=True)
class Progress:
    step: int
    total: int
    elapsed_s: float

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total)

    @property
    def left_s(self) -> float | None:
        """Training time left at the rate so far; None before a step has been timed."""
        if self.step <= 0 or self.elapsed_s <= 0:
            return None
        return self.elapsed_s * max(0, self.total - self.step) / self.step

    @property
    def elapsed(self) -> str:
        """Training time as H:MM:SS."""
        return time.strftime("%H:%M:%S", time.gmtime(self.elapsed_s))


def progress(status: dict[str, Any]) -> Progress:
    """Step, total and training time of a run from its status (zeros where it has none yet)."""
    return Progress(step=int(status.get("step") or 0), total=max(1, int(status.get("total_steps") or 1)),
                    elapsed_s=float(status.get("elapsed_s") or 0))


def viewable_runs(summaries: list[RunSummary], family: str | None = None) -> list[RunSummary]:
    """The runs of a listing that have at least one snapshot to look at, optionally of one family."""
    return [s for s in summaries
            if not s.error and s.steps and (family is None or s.config.model.family == family)]


def comparison_pair(summaries: list[RunSummary]) -> tuple[RunSummary, RunSummary] | None:
    """The fairest GAN and VAE trained on the same dataset: with the same latent size if
    there is one (then both decode exactly the same z), a plain VAE (beta 1, unconditional) over
    a variation, a plain GAN (normal prior, all the data, unconditional) over a variation, then
    the newest; None when there is no such pair."""
    gans = [s for s in summaries if s.config.model.family == "gan"]
    vaes = [s for s in summaries if s.config.model.family == "vae"]
    pairs = [(g, v) for g in gans for v in vaes if g.config.data.name == v.config.data.name]
    if not pairs:
        return None
    # max() keeps the first of equals, and `summaries` is newest first.
    return max(pairs, key=lambda p: (p[0].config.model.latent_dim == p[1].config.model.latent_dim,
                                     p[1].config.model.beta == 1.0 and not p[1].config.model.conditional,
                                     plain_gan(p[0].config)))


def plain_gan(config: RunConfig) -> bool:
    """A GAN on the normal prior, untruncated, unconditional, trained on all of its data."""
    return (config.model.prior == "normal" and config.model.truncation is None and not config.data.train_subset
            and not config.model.conditional)


def folder_note(info: dict[str, Any]) -> str:
    """What became of the files of a user's folder or zip (a dataset.json's fields): images
    used and held out, classes, and files skipped with the reason."""
    notes = info.get("notes") or {}
    classes = info.get("classes")
    used = (f"{Path(info['source']).name}: {info['n_train'] + info['n_test']:,} images "
            f"({info['n_train']:,} to train on, {info['n_test']:,} held out for the metrics)"
            + (f" in {len(classes)} classes ({', '.join(classes)})" if classes else ", no classes"))
    skipped, too_large = notes.get("skipped", 0), notes.get("too_large", 0)
    if not skipped:
        return used + "; no file skipped."
    parts = [f"{skipped - too_large} not a readable image"] if skipped > too_large else []
    parts += [f"{too_large} too large"] if too_large else []
    names = notes.get("skipped_files") or []
    named = (f" ({', '.join(names)}" + (f" and {skipped - len(names)} more" if skipped > len(names) else "") + ")"
             if names else "")
    return used + f"; {skipped} file(s) skipped: " + ", ".join(parts) + named + "."


# What the class experiment plot can put on its axes: a run's setting, and a metric.
SETTINGS: dict[str, Callable[[RunConfig], Any]] = {
    "beta": lambda c: c.model.beta,
    "learning rate": lambda c: c.optim.lr,
    "latent size": lambda c: c.model.latent_dim,
    "loss": lambda c: c.model.loss,
    "prior": lambda c: c.model.prior,
    "training subset": lambda c: c.data.train_subset or "all",
}
CLASS_METRICS = ("modes_captured", "high_quality", "fid", "recall", "precision", "inception_score",
                 "memorisation_ratio", "elbo", "repair_psnr", "cas")


def class_row(s: RunSummary) -> dict[str, Any]:
    """A run as the class view lists it: who, what, how far, its newest picture (step and
    path, or None), its config, and the headline numbers of its latest evaluation (None
    where it has none, or its eval.json is broken)."""
    try:
        evaluations = s.run.evaluations()
    except RunError:
        evaluations = []
    latest = evaluations[-1] if evaluations else {}
    user = s.status.get("user") or ("demo" if s.run.is_demo else "-")
    return {"run": s.run.id, "user": user, "model": model_name(s.config),
            "dataset": s.config.data.name, "state": s.state, "step": progress(s.status).step,
            "picture": s.run.latest_picture(), "config": s.config, **{m: number(latest, m) for m in CLASS_METRICS}}


def model_name(config: RunConfig) -> str:
    """The variant, marked "conditional" when the run asked for class conditioning that its
    variant does not have (a conditional conv-vae is another model than the conv-vae)."""
    variant = VARIANTS.get(config.model.variant)
    made_conditional = config.model.conditional and not (variant and variant.options.get("conditional"))
    return f"{config.model.variant}, conditional" if made_conditional else config.model.variant


def experiment_pairs(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The (model, dataset) pairs of the class's runs, the one with the most runs first (a
    class experiment is many runs of one model), then by name."""
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        counts[(r["model"], r["dataset"])] = counts.get((r["model"], r["dataset"]), 0) + 1
    return sorted(counts, key=lambda pair: (-counts[pair], pair))


def experiment_defaults(rows: list[dict[str, Any]], variant: str, dataset: str) -> tuple[str, str]:
    """The class experiment's first view for one model and dataset: a setting the runs differ
    in (on which every point would otherwise sit at one x, as beta does for GANs) and the
    metric that fits the data (modes on the toys, else FID), among those the runs have."""
    mine = [r for r in rows if (r["model"], r["dataset"]) == (variant, dataset)]
    varied = [name for name, value_of in SETTINGS.items() if len({str(value_of(r["config"])) for r in mine}) > 1]
    setting = varied[0] if varied else "learning rate"
    measured = [m for m in CLASS_METRICS if any(r[m] is not None for r in mine)]
    return setting, measured[0] if measured else "fid"


def experiment_points(rows: list[dict[str, Any]], variant: str, dataset: str, setting: str,
                      metric: str) -> list[dict[str, Any]]:
    """The class experiment: every evaluated run (a `class_row`) of one model on one dataset,
    as a point (the run's `setting`, its latest `metric`), with the run and its user."""
    return [{"x": SETTINGS[setting](row["config"]), "y": row[metric], "run": row["run"], "user": row["user"]}
            for row in rows
            if (row["model"], row["dataset"]) == (variant, dataset) and row[metric] is not None]


def queue_notes(order: list[RunSummary], live: list[RunSummary], slots: int) -> dict[str, str]:
    """What the Runs page says of each queued run (`order`: the queue in the order runs will
    start): its place in the queue and, where the training runs' rates tell, about when a slot
    frees for it: the k-th run in line gets the k-th slot to free up (a free slot now, else a
    training run's time left), ignoring the time the runs ahead of it will train."""
    free_at = sorted([0.0] * max(0, slots - len(live))
                     + [p.left_s for s in live if (p := progress(s.status)).left_s is not None])
    notes = {}
    for k, s in enumerate(order):
        when = ("starts when a slot frees" if k >= len(free_at) else "starts now" if free_at[k] == 0
                else f"a slot frees in about {duration(free_at[k])}")
        notes[s.run.id] = f"#{k + 1} in the queue; {when}"
    return notes
