"""Evaluate a model against its dataset, and keep the results in the run's eval.json."""

from __future__ import annotations

import time
from typing import Any

import torch

from genlab.atomic import write_json_atomic
from genlab.data import Dataset
from genlab.metrics import MEANINGS, NO_LIKELIHOOD
from genlab.metrics.evaluator import load_or_train
from genlab.metrics.frechet import fid, kid
from genlab.metrics.likelihood import elbo_terms, iwae_bound
from genlab.metrics.manifold import prdc
from genlab.metrics.modes import class_histogram, mode_coverage
from genlab.models import GenerativeModel
from genlab.runs import Run

SAMPLE_SEED = 12345  # evaluation samples come from their own seed, not the fixed grid's
PRDC_MAX = 2000  # k-NN metrics are quadratic in the sample count


@torch.no_grad()
def generate_many(model: GenerativeModel, n: int, seed: int, batch: int = 1000) -> torch.Tensor:
    """n samples in batches; a conditional model's labels cycle through the classes."""
    parts = [model.sample(min(batch, n - i), seed + i) for i in range(0, n, batch)]
    return torch.cat(parts)


def evaluate_model(model: GenerativeModel, data: Dataset, n: int = 2000, iwae_k: int = 50,
                   device: torch.device | str = "cpu") -> dict[str, Any]:
    """Every metric that applies to this model and dataset, as plain numbers."""
    model = model.to(device).eval()
    out: dict[str, Any] = {"n_samples": n}
    fake = generate_many(model, n, SAMPLE_SEED).to(device)
    test = data.x_test[:n].to(device)
    train = data.x_train[:n].to(device)

    if data.kind == "points":
        out["feature_space"] = "the 2-D points themselves"
        feats = {"fake": fake, "test": test, "train": train}
        if data.modes is not None:
            out.update(mode_coverage(fake[:2500].cpu(), data.modes, data.mode_std))
    elif data.y_train is not None and data.n_classes >= 2:
        evaluator, accuracy = load_or_train(data, torch.device(device))
        out["feature_space"] = f"GenLab's {data.name} evaluator (test accuracy {accuracy:.1%})"
        out["evaluator_accuracy"] = accuracy
        (f_fake, p_fake), (f_test, _), (f_train, _) = (evaluator.embed(x) for x in (fake, test, train))
        feats = {"fake": f_fake, "test": f_test, "train": f_train}
        out.update(class_histogram(p_fake.cpu(), data.y_test, data.n_classes))
        out["classes"] = data.classes
    else:
        out["feature_space"] = "raw pixels (the dataset has no labels to train an evaluator on)"
        feats = {"fake": fake.flatten(1), "test": test.flatten(1), "train": train.flatten(1)}

    f = {k: v.cpu() for k, v in feats.items()}
    out["fid"] = fid(f["test"], f["fake"])
    out["fid_floor"] = fid(f["train"], f["test"])
    out["kid"], out["kid_std"] = kid(f["test"], f["fake"])
    out["kid_floor"], _ = kid(f["train"], f["test"])
    out.update(prdc(f["test"][:PRDC_MAX], f["fake"][:PRDC_MAX], k=5))

    if model.family == "vae":
        labels = data.y_test[: len(test)].to(device) if (model.n_classes and data.y_test is not None) else None
        x = test[:1000]
        lab = labels[:1000] if labels is not None else None
        out.update(elbo_terms(model, x, lab))
        out["iwae"] = iwae_bound(model, x, iwae_k, lab)
        out["iwae_k"] = iwae_k
    else:
        out["likelihood"] = NO_LIKELIHOOD
    return out


def record_evaluation(run: Run, step: int, result: dict[str, Any]) -> None:
    """Add (or replace) the evaluation of one step in eval.json, atomically."""
    kept = [e for e in run.evaluations() if e["step"] != step]
    kept.append({"step": step, "evaluated_at": time.time(), **result})
    write_json_atomic(run.eval_path, {"evaluations": sorted(kept, key=lambda e: e["step"])})


def latest_evaluation(run: Run) -> dict[str, Any] | None:
    evaluations = run.evaluations()
    return evaluations[-1] if evaluations else None


# The headline numbers of an evaluation, in the order they are shown.
HEADLINE = ["modes_captured", "high_quality", "fid", "fid_floor", "kid", "kid_floor", "precision", "recall",
            "density", "coverage", "classes_covered", "kl_to_real", "elbo", "iwae", "recon", "kl", "recon_mse",
            "evaluator_accuracy"]


def metric_rows(entry: dict[str, Any], only: tuple[str, ...] | None = None) -> list[dict[str, str]]:
    """One row per headline number of an evaluation (or of those in `only`): metric, value, meaning."""
    rows = []
    for key in HEADLINE:
        value = entry.get(key)
        if not isinstance(value, (int, float)) or (only is not None and key not in only):
            continue
        label = f"iwae (k={entry.get('iwae_k')})" if key == "iwae" else key
        rows.append({"metric": label, "value": shown(entry, key), "meaning": MEANINGS[key]})
    return rows


def shown(entry: dict[str, Any], key: str) -> str:
    """One number of an evaluation as every view prints it: '7 of 8', '0.8829', '18.35'."""
    value = entry[key]
    if key == "modes_captured":
        return f"{value} of {entry['modes_total']}"
    if key == "classes_covered":
        return f"{value} of {entry['classes_total']}"
    return f"{value:.4g}"


def fid_line(run: Run) -> str:
    """'<run>: FID x (real-vs-real floor y)', or that it is not evaluated."""
    e = latest_evaluation(run)
    if not e or "fid" not in e:
        return f"{run.id}: not evaluated"
    return f"{run.id}: FID {e['fid']:.1f} (real-vs-real floor {e['fid_floor']:.1f})"
