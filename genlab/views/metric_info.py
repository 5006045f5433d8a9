"""What each number of an evaluation means, what it is called, which way is better, and how
it is printed: written once, for the Runs, Compare and Class pages, the lessons and the
command line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genlab.store.evaluations import latest_evaluation
from genlab.store.runs import Run


@dataclass(frozen=True)
class Metric:
    key: str
    name: str  # what a table or a sentence calls it
    meaning: str  # one line for a table's meaning column
    better: str | None = None  # "higher" or "lower"; None for a reference or a measure that is neither
    hint: str = ""  # how to read it, where its name alone does not say

    @property
    def in_sentence(self) -> str:
        """Its name, with how to read it, and the direction where a smaller number is the better one."""
        name = f"{self.name} ({self.hint})" if self.hint else self.name
        return f"{name} (lower is better)" if self.better == "lower" else name


# The headline numbers of an evaluation, in the order every view shows them.
METRICS: dict[str, Metric] = {m.key: m for m in [
    Metric("modes_captured", "Modes captured", "Modes with at least one high-quality sample (PacGAN protocol).",
           "higher"),
    Metric("high_quality", "Share of samples on a mode",
           "Share of samples within 3 standard deviations of their nearest mode.", "higher"),
    Metric("fid", "FID", "Frechet distance between evaluator features of test data and of samples; lower is "
           "better. Read it against the real-vs-real floor.", "lower"),
    Metric("fid_floor", "FID floor", "FID between the training and test splits: what a perfect model would score."),
    Metric("kid", "KID", "Kernel distance (unbiased MMD^2, cubic kernel) in the same features; lower is better, "
           "and unlike FID it has no bias from the sample size. ± its spread (population standard deviation) "
           "over 10 subsets of 1,000; none when both sides hold 1,000 images or fewer, as every subset is then "
           "the whole set.", "lower"),
    Metric("kid_floor", "KID floor", "KID between the training and test splits."),
    Metric("inception_score", "Inception Score (evaluator's)",
           "Inception Score in GenLab's evaluator (not Inception): exp E KL(p(y|x) || p(y)), high when each "
           "sample is one clear class and the classes are spread; at most the number of classes. Blind to "
           "variety within a class. ± its spread (population standard deviation) over 10 equal splits.",
           "higher"),
    Metric("inception_score_real", "Inception Score of the real data",
           "The same score of the real test images: a reference, not a ceiling (a model that draws one sharp "
           "image of each class passes it)."),
    Metric("precision", "Precision", "Share of samples that fall inside the real data's manifold: quality.",
           "higher"),
    Metric("recall", "Recall", "Share of real data inside the samples' manifold: diversity.", "higher"),
    Metric("density", "Density", "Like precision, but counts how many real neighbourhoods hold each sample "
           "(about 1 when matched)."),
    Metric("coverage", "Coverage", "Share of real neighbourhoods that hold at least one sample: mode coverage.",
           "higher"),
    Metric("classes_covered", "Classes covered", "Classes the evaluator finds among the samples (each with a "
           "quarter of its fair share or more).", "higher"),
    Metric("kl_to_real", "KL to the real class histogram",
           "KL from the samples' class histogram to the real one; 0 when the classes are balanced alike.", "lower"),
    Metric("memorisation_ratio", "Memorisation ratio",
           "Median distance of samples to their nearest training image over that to their nearest test image, "
           "in evaluator features: about 1 when the model generalises, far below 1 when it copies its training "
           "data.", "higher", hint="about 1: no copying; far below 1: copies"),
    Metric("elbo", "ELBO", "Test evidence lower bound, nats per sample (higher is better).", "higher"),
    Metric("iwae", "IWAE bound", "Importance-weighted bound on the test log-likelihood, nats per sample; "
           "tighter than the ELBO.", "higher"),
    Metric("recon", "Reconstruction loss", "Test reconstruction term -log p(x|z), nats per sample.", "lower"),
    Metric("kl", "KL (nats the code carries)", "Test KL(q(z|x) || p(z)), nats per sample: how much the code "
           "says about x."),
    Metric("recon_mse", "Reconstruction MSE", "Mean squared error of reconstructions from the posterior mean.",
           "lower"),
    Metric("repair_psnr", "Box repair PSNR",
           "Hidden-pixel PSNR of the model's best repair of a missing box of half the side, on 256 test images "
           "(a search for z, or a VAE's encoder); higher is better.", "higher"),
    Metric("cas", "Classification Accuracy Score",
           "Test accuracy of a classifier trained only on the model's samples, labelled by the class asked for; "
           "read it against the same classifier trained on as many real images.", "higher"),
    Metric("cas_real", "CAS of real data", "The same classifier trained on as many real training images."),
    Metric("evaluator_accuracy", "Evaluator accuracy",
           "Test accuracy of the classifier whose features the distances use."),
]}
HEADLINE = tuple(METRICS)
# What FID and KID can say on 2-D toy data (a run's evaluation with PacGAN's mode numbers).
ON_POINTS = ("On 2-D points FID and KID see only the spread of the samples: a ring smeared between its modes can "
             "score below the real-vs-real floor. Read modes captured and the share on a mode first.")


# The fewest real test images a number needs to mean something: FID's covariances in 128
# evaluator features are rank-deficient below that, KID's floor goes negative, and with a
# handful of images every sample is "inside" the real manifold (precision = coverage = 1).
MIN_REFERENCE = {**dict.fromkeys(("fid", "fid_floor", "kid", "kid_floor"), 200),
                 **dict.fromkeys(("precision", "recall", "density", "coverage", "inception_score_real",
                                  "memorisation_ratio"), 100)}


# The ways a model repairs an image (genlab.models.repair), as views name them.
METHOD_NAMES = {"search": "search for z", "encoder": "encoder imputation"}


def too_few_references(entry: dict[str, Any], key: str) -> int | None:
    """The number of real test images a number needs, when the evaluation had fewer; else None."""
    needed, had = MIN_REFERENCE.get(key), entry.get("n_test")
    return needed if needed is not None and isinstance(had, int) and had < needed else None


def number(entry: dict[str, Any], key: str) -> Any:
    """One headline number of an evaluation, or None (also when its data set held too few test
    images for it to mean anything); the memorisation ratio is kept in the memorisation summary."""
    if too_few_references(entry, key):
        return None
    if key == "memorisation_ratio":
        return (entry.get("memorisation") or {}).get("ratio")
    if key == "repair_psnr":
        return best_repair_psnr(entry)
    return entry.get(key)


def best_repair_psnr(entry: dict[str, Any]) -> float | None:
    """The hidden-pixel PSNR of the best repair of the benchmark's box."""
    best = best_repair(entry, "box")
    return None if best is None else best[1]["hidden_psnr"]


def best_repair(entry: dict[str, Any], damage: str) -> tuple[str, dict[str, Any]] | None:
    """The method with the lowest hidden-pixel error on one damage of an evaluation's repair
    benchmark, and its numbers; None when the evaluation has none."""
    scores = (entry.get("repair") or {}).get(damage) or {}
    methods = [(m, scores[m]) for m in METHOD_NAMES if isinstance((scores.get(m) or {}).get("hidden_mse"), float)]
    return min(methods, key=lambda item: item[1]["hidden_mse"]) if methods else None


def repair_damages(bench: dict[str, Any]) -> list[str]:
    """The damages a repair benchmark measured ("box", "noise"), in its order."""
    return [name for name, scores in bench.items() if isinstance(scores, dict) and "damaged" in scores]


def shown(entry: dict[str, Any], key: str) -> str:
    """One number of an evaluation as every view prints it: '7 of 8', '0.8829', '18.35'."""
    value = number(entry, key)
    if key == "modes_captured":
        return f"{value} of {entry['modes_total']}"
    if key == "classes_covered":
        return f"{value} of {entry['classes_total']}"
    if key == "inception_score":
        return f"{value:.3g} ± {entry['inception_score_std']:.2g}"
    if key == "kid":
        return f"{value:.4g}{kid_spread(entry)}"
    if key in ("cas", "cas_real"):
        return f"{value:.1%}"
    if key == "repair_psnr":
        return f"{value:.1f} dB"
    return f"{value:.4g}"


def kid_spread(entry: dict[str, Any]) -> str:
    """' ± s' for KID drawn from subsets, ' (no spread: one subset held every image)' when each
    subset was the whole of both sets (evaluations before #26 recorded float noise as its spread;
    their subsets held 1,000 images)."""
    spread, drawn = entry.get("kid_std"), (entry.get("n_samples", 0), entry.get("n_test", 0))
    if spread is None or max(drawn) <= entry.get("kid_subset", 1000):
        return " (no spread: one subset held every image)"
    return f" ± {spread:.2g}"


def covered_line(entry: dict[str, Any]) -> list[float] | None:
    """For a class histogram: the count each class needs to be "covered" (a quarter of its
    fair share, as metrics.modes.class_histogram counts it), from the real classes' shares
    (evaluations before they were recorded: equal shares, as Fashion-MNIST's test set has)."""
    counts = entry.get("histogram")
    if not counts:
        return None
    shares = entry.get("real_share") or [1 / len(counts)] * len(counts)
    return [0.25 * share * sum(counts) for share in shares]


def best_first(key: str) -> bool:
    """Whether a list sorted by this metric puts its largest number first (the better end)."""
    return METRICS[key].better != "lower"


def metric_rows(entry: dict[str, Any], only: tuple[str, ...] | None = None) -> list[dict[str, str]]:
    """One row per headline number of an evaluation (or of those in `only`): metric, value, meaning."""
    rows = []
    for key, metric in METRICS.items():
        if only is not None and key not in only:
            continue
        needed = too_few_references(entry, key)
        if needed and isinstance(entry.get(key, (entry.get("memorisation") or {}).get("ratio")), (int, float)):
            rows.append({"metric": metric.name, "value": "not shown",
                         "meaning": f"Needs at least {needed} held-out real images to mean anything; this data set "
                                    f"holds {entry['n_test']}. {metric.meaning}"})
            continue
        value = number(entry, key)
        if not isinstance(value, (int, float)):
            continue
        label = f"{metric.name} (k={entry.get('iwae_k')})" if key == "iwae" else metric.name
        meaning = ON_POINTS if key in ("fid", "kid") and "modes_total" in entry else metric.meaning
        rows.append({"metric": label, "value": shown(entry, key), "meaning": meaning})
    return rows


def fid_line(run: Run) -> str:
    """'<run>: FID x (real-vs-real floor y)', or that it is not evaluated."""
    e = latest_evaluation(run)
    if not e or "fid" not in e:
        return f"{run.id}: not evaluated"
    return f"{run.id}: FID {e['fid']:.1f} (real-vs-real floor {e['fid_floor']:.1f})"



def repair_rows(entry: dict[str, Any]) -> list[dict[str, str]]:
    """One row per damage and method of an evaluation's repair benchmark (and the damaged
    input's own row): hidden-pixel MSE and PSNR, and the whole repaired image's PSNR."""
    bench = entry.get("repair") or {}
    return [row for name in repair_damages(bench) for row in repair_table(bench[name])]


def repair_table(scores: dict[str, Any]) -> list[dict[str, str]]:
    """The rows of one damage's repairs ({"damage": words, "damaged": errors, method: errors}):
    the damaged input's, then each method's."""
    methods = [m for m in METHOD_NAMES if m in scores]
    return [{"damage": scores["damage"], "images": "damaged input" if m == "damaged" else METHOD_NAMES[m],
             **error_cells(scores[m])} for m in ["damaged", *methods]]


def error_cells(e: dict[str, Any]) -> dict[str, str]:
    """A repair's (or a damaged input's) errors as every view prints them: on the hidden pixels
    ("—" when none is hidden), on the whole repaired image ("exact" for an infinite PSNR), and
    the model's own image on the pixels it was shown (its fit; with nothing hidden, its
    reconstruction error; "—" for the damaged input)."""
    def db(value: float | None) -> str:
        return "exact" if value is None else f"{value:.1f} dB"
    hidden = e.get("hidden_mse") is not None
    return {"hidden-pixel MSE": f"{e['hidden_mse']:.4f}" if hidden else "—",
            "hidden-pixel PSNR": db(e["hidden_psnr"]) if hidden else "—", "whole-image PSNR": db(e["whole_psnr"]),
            "fit to the seen pixels (MSE)": f"{e['fit_mse']:.4f}" if "fit_mse" in e else "—"}


def training_data_lines(entry: dict[str, Any]) -> list[str]:
    """CAS beside the real-data accuracy, and what adding generated images to a small real
    set did, in sentences; none for an evaluation without them."""
    if "cas" not in entry:
        return []
    lines = [f"Classification Accuracy Score {entry['cas']:.1%}: a classifier trained only on "
             f"{entry['cas_images']:,} generated images labelled by the class asked for; the same classifier on "
             f"{entry['cas_images']:,} real training images scores {entry['cas_real']:.1%} on the same real test set."]
    aug = entry.get("augmentation")
    if aug:
        lines.append(f"Augmentation: {aug['real_images']:,} real images alone train it to "
                     f"{aug['real_only_mean']:.1%}; with {aug['generated_images']:,} generated images added, "
                     f"{aug['with_generated_mean']:.1%} (change {aug['gain']:+.1%} ± {aug['gain_std']:.1%} over "
                     f"{len(aug['seeds'])} seeds).")
    return lines
