"""Evaluate a model against its dataset: every metric that applies, as plain numbers (kept
in a run's eval.json by genlab.store.evaluations), and the measurements lessons show."""

from __future__ import annotations

from typing import Any

import torch

from genlab.data import Dataset
from genlab.metrics import NO_LIKELIHOOD
from genlab.metrics.evaluator import load_or_train
from genlab.metrics.frechet import KID_SUBSET, fid, kid
from genlab.metrics.inception import inception_score
from genlab.metrics.likelihood import elbo_terms, iwae_bound
from genlab.metrics.manifold import prdc
from genlab.metrics.memorisation import memorisation, nearest
from genlab.metrics.modes import PROTOCOL_SAMPLES, class_histogram, mode_coverage
from genlab.metrics.training_data import training_data_scores
from genlab.models import GenerativeModel
from genlab.models.repair import ENCODER_ROUNDS, SEARCH_STEPS, Damage, repair_all

SAMPLE_SEED = 12345  # evaluation samples come from their own seed, not the fixed grid's
PRDC_MAX = 2000  # k-NN metrics are quadratic in the sample count
REPAIR_IMAGES = 256
# The damage every evaluation repairs: a box of half the side at the centre, and noise.
REPAIR_BENCHMARK = {"box": Damage("box", size=0.5), "noise": Damage("noise", sigma=0.3)}


@torch.no_grad()
def generate_many(model: GenerativeModel, n: int, seed: int, batch: int = 1000,
                  truncation: float | None = None) -> torch.Tensor:
    """n samples in batches (truncated at `truncation`, when given); a conditional model's
    labels cycle through the classes."""
    parts = [model.sample(min(batch, n - i), seed + i, truncation=truncation) for i in range(0, n, batch)]
    return torch.cat(parts)


def evaluate_model(model: GenerativeModel, data: Dataset, n: int = 2000, iwae_k: int = 50,
                   device: torch.device | str = "cpu", uses: bool = False) -> dict[str, Any]:
    """Every metric that applies to this model and dataset, as plain numbers; with `uses`,
    also how it does at what such models are used for (`use_scores`, tens of seconds)."""
    model = model.to(device).eval()
    out: dict[str, Any] = {"n_samples": n}
    fake = generate_many(model, n, SAMPLE_SEED).to(device)
    test = data.x_test[:n].to(device)
    out["n_test"] = len(test)  # the real references: below a few hundred, some numbers mean nothing
    # The real-vs-real floors use the whole training split; memorisation, what the model saw.
    train = (data.whole or data).x_train[:n].to(device)
    trained_on = data.x_train[:n].to(device)
    if model.config.truncation is not None:
        out["truncation"] = model.config.truncation

    if data.kind == "points":
        out["feature_space"] = "the 2-D points themselves"
        feats = {"fake": fake, "test": test, "train": train}
        if data.modes is not None:
            on_modes = fake if n >= PROTOCOL_SAMPLES else generate_many(model, PROTOCOL_SAMPLES, SAMPLE_SEED)
            out.update(mode_coverage(on_modes[:PROTOCOL_SAMPLES].cpu(), data.modes, data.mode_std))
            out["mode_samples"] = PROTOCOL_SAMPLES
    elif data.y_train is not None and data.n_classes >= 2:
        evaluator, accuracy = load_or_train(data, torch.device(device))
        out["feature_space"] = f"GenLab's {data.name} evaluator (test accuracy {accuracy:.1%})"
        out["evaluator_accuracy"] = accuracy
        (f_fake, p_fake), (f_test, p_test), (f_train, _) = (evaluator.embed(x) for x in (fake, test, train))
        feats = {"fake": f_fake, "test": f_test, "train": f_train,
                 "trained_on": f_train if data.whole is None else evaluator.embed(trained_on)[0]}
        out.update(class_histogram(p_fake.argmax(1).cpu(), data.y_test, data.n_classes))
        out["classes"] = data.classes
        out["inception_score"], out["inception_score_std"] = inception_score(p_fake.cpu())
        out["inception_score_real"], _ = inception_score(p_test.cpu())
    else:
        out["feature_space"] = "raw pixels (the dataset has no labels to train an evaluator on)"
        feats = {"fake": fake.flatten(1), "test": test.flatten(1), "train": train.flatten(1),
                 "trained_on": trained_on.flatten(1)}

    f = {k: v.cpu() for k, v in feats.items()}
    out["fid"] = fid(f["test"], f["fake"])
    out["fid_floor"] = fid(f["train"], f["test"])
    out["kid"], out["kid_std"] = kid(f["test"], f["fake"])
    out["kid_subset"] = KID_SUBSET
    out["kid_floor"], _ = kid(f["train"], f["test"])
    out.update(prdc(f["test"][:PRDC_MAX], f["fake"][:PRDC_MAX], k=5))
    if data.kind == "images":
        out["memorisation"] = memorisation(f["fake"], f["trained_on"], f["test"])

    if model.family == "vae":
        labels = data.y_test[: len(test)].to(device) if (model.n_classes and data.y_test is not None) else None
        x = test[:1000]
        lab = labels[:1000] if labels is not None else None
        out.update(elbo_terms(model, x, lab))
        out["iwae"] = iwae_bound(model, x, iwae_k, lab)
        out["iwae_k"] = iwae_k
    else:
        out["likelihood"] = NO_LIKELIHOOD
    return {**out, **use_scores(model, data)} if uses else out


def use_scores(model: GenerativeModel, data: Dataset) -> dict[str, Any]:
    """On images: repairing them (`repair`); for a class-conditional model on labelled data,
    its samples as training data (`cas`, `cas_real`, `cas_images`, `augmentation`)."""
    out: dict[str, Any] = {}
    if data.kind != "images":
        return out
    out["repair"] = repair_scores(model, data)
    if model.n_classes and data.y_train is not None and data.n_classes == model.n_classes:
        out.update(training_data_scores(model, data))
    return out


def repair_scores(model: GenerativeModel, data: Dataset, n: int = REPAIR_IMAGES) -> dict[str, Any]:
    """Hidden-pixel and whole-image errors of every way the model repairs, on the first n
    test images, for the fixed box and the fixed noise (`REPAIR_BENCHMARK`), beside the
    damaged images' own errors: the same damage for every run, so runs compare."""
    truth = data.x_test[:n].to(model.device)
    labels = data.y_test[:n].to(model.device) if model.n_classes and data.y_test is not None else None
    out: dict[str, Any] = {"images": len(truth), "search_steps": SEARCH_STEPS, "encoder_rounds": ENCODER_ROUNDS}
    for name, how in REPAIR_BENCHMARK.items():
        done = repair_all(model, truth, how, labels)
        out[name] = {"damage": how.describe(), "damaged": done.damaged_errors, **done.errors}
    return out


@torch.no_grad()
def nearest_training_images(model: GenerativeModel, data: Dataset, n: int = 8, reference: int = 2000,
                            device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The first n evaluation samples, the training image nearest each among the first
    `reference` the model trained on (in the evaluator's features, or in pixels for
    unlabelled data), and the distances: copies show as twins."""
    model = model.to(device).eval()
    fake = generate_many(model, n, SAMPLE_SEED).to(device)
    train = data.x_train[:reference].to(device)
    if data.y_train is not None and data.n_classes >= 2:
        evaluator, _ = load_or_train(data, torch.device(device))
        f_fake, f_train = evaluator.embed(fake)[0], evaluator.embed(train)[0]
    else:
        f_fake, f_train = fake.flatten(1), train.flatten(1)
    distance, index = nearest(f_fake.cpu(), f_train.cpu())
    return fake.cpu(), data.x_train[index], distance


@torch.no_grad()
def truncation_sweep(model: GenerativeModel, data: Dataset, thresholds: list[float | None],
                     n: int = 2000) -> list[dict[str, float | None]]:
    """Precision, recall and FID of the model's samples truncated at each threshold (None:
    the whole prior), in the evaluator's features, against n test images. The samples, test
    images and k are `evaluate_model`'s, so the whole prior's numbers are the run's
    evaluation's (at its default n): a lesson's table and its sweep agree."""
    evaluator, _ = load_or_train(data, model.device)  # on the model's device; the model is not moved
    f_test = evaluator.embed(data.x_test[:n].to(model.device))[0].cpu()
    rows = []
    for t in thresholds:
        f_fake = evaluator.embed(generate_many(model, n, SAMPLE_SEED, truncation=t))[0].cpu()
        scores = prdc(f_test[:PRDC_MAX], f_fake[:PRDC_MAX], k=5)
        rows.append({"truncation": t, "precision": scores["precision"], "recall": scores["recall"],
                     "fid": fid(f_test, f_fake)})
    return rows


@torch.no_grad()
def prototype_scores(data: Dataset) -> dict[str, Any]:
    """Inception Score and FID of a pretend generator that only ever draws one test image of
    each class (a model collapsed onto a prototype per class), beside the real test data's
    Inception Score: IS rewards it, FID does not."""
    evaluator, _ = load_or_train(data, torch.device("cpu"))
    first = [int((data.y_test == c).nonzero()[0]) for c in range(data.n_classes)]
    prototypes = data.x_test[first].repeat(max(1, 2000 // data.n_classes), 1, 1, 1)
    f_proto, p_proto = evaluator.embed(prototypes)
    f_test, p_test = evaluator.embed(data.x_test[:2000])
    return {"inception_score": inception_score(p_proto)[0], "fid": fid(f_test, f_proto),
            "inception_score_real": inception_score(p_test)[0], "test_indices": first}
