"""Generated images as training data, for class-conditional models.

- **Classification Accuracy Score** (Ravuri & Vinyals 2019): a classifier trained only on the
  model's samples, each labelled by the class it was asked for, tested on the real test set;
  beside the same classifier trained on as many real training images (`cas_real`). A model
  whose samples look right but ignore the label, or cover only part of each class, scores
  far below the real-data accuracy.
- **Augmentation**: a small real subset alone, and the same subset plus generated samples,
  over a few seeds: does the test accuracy go up, and by how much?

The classifier is a small MLP (one hidden layer of 256): it trains in a few seconds on a
CPU, so the scores cost well under a minute, and it is the same in every arm, so only the training data
differs. Its numbers are comparable between runs on one dataset, not with published CAS.
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import mean, pstdev
from typing import Any

import torch
from torch import nn

from genlab.data import Dataset

# A drawer gives images for the labels asked for, from a seed (a model, or a stand-in).
Drawer = Callable[[torch.Tensor, int], torch.Tensor]
PER_CLASS = 500  # generated (and real) training images per class for CAS
SMALL_REAL = 500  # the real subset that augmentation starts from
SEEDS = (0, 1, 2)
STEPS = 500
BATCH = 128
HIDDEN = 256


def train_classifier(x: torch.Tensor, y: torch.Tensor, n_classes: int, seed: int) -> nn.Module:
    """The small MLP trained by Adam on seeded random batches of (x, y)."""
    with torch.random.fork_rng(devices=[]):  # leave the caller's random stream alone
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Flatten(), nn.Linear(x[0].numel(), HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, n_classes))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = torch.Generator().manual_seed(seed)
    with torch.enable_grad():
        for _ in range(STEPS):
            idx = torch.randint(len(x), (min(BATCH, len(x)),), generator=rng)
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


@torch.no_grad()
def test_accuracy(model: nn.Module, data: Dataset) -> float:
    """Share of the real test set the classifier labels right."""
    predicted = torch.cat([model(x).argmax(1) for x in data.x_test.split(2000)])
    return (predicted == data.y_test).double().mean().item()


def accuracy_when_trained_on(x: torch.Tensor, y: torch.Tensor, data: Dataset, seed: int) -> float:
    return test_accuracy(train_classifier(x, y, data.n_classes, seed), data)


def balanced_labels(n_classes: int, per_class: int) -> torch.Tensor:
    return torch.arange(n_classes).repeat_interleave(per_class)


def real_subset(data: Dataset, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n real training images drawn at random (by seed), with their labels."""
    idx = torch.randperm(len(data.x_train), generator=torch.Generator().manual_seed(seed))[:n]
    return data.x_train[idx], data.y_train[idx]


def classification_accuracy_score(draw: Drawer, data: Dataset, per_class: int = PER_CLASS) -> dict[str, Any]:
    """CAS and the real-data accuracy it is read against, both on the whole test set."""
    labels = balanced_labels(data.n_classes, per_class)
    fake = draw(labels, 0)
    real_x, real_y = real_subset(data, len(labels), seed=0)
    return {"cas": accuracy_when_trained_on(fake, labels, data, seed=0),
            "cas_real": accuracy_when_trained_on(real_x, real_y, data, seed=0),
            "cas_images": len(labels)}


def augmentation(draw: Drawer, data: Dataset, small: int = SMALL_REAL, per_class: int = PER_CLASS,
                 seeds: tuple[int, ...] = SEEDS) -> dict[str, Any]:
    """Test accuracy of `small` real images alone and with the generated ones added, for each
    seed (a new real subset, new samples, a new classifier), with means and population spreads."""
    alone, added = [], []
    for seed in seeds:
        real_x, real_y = real_subset(data, small, seed)
        labels = balanced_labels(data.n_classes, per_class)
        fake = draw(labels, 1000 + seed)
        alone.append(accuracy_when_trained_on(real_x, real_y, data, seed))
        added.append(accuracy_when_trained_on(torch.cat([real_x, fake]), torch.cat([real_y, labels]), data, seed))
    gains = [b - a for a, b in zip(alone, added, strict=True)]
    return {"real_images": small, "generated_images": per_class * data.n_classes, "seeds": list(seeds),
            "real_only": alone, "with_generated": added,
            "real_only_mean": mean(alone), "with_generated_mean": mean(added),
            "gain": mean(gains), "gain_std": pstdev(gains)}


def model_drawer(model) -> Drawer:
    """A conditional model as a drawer: its samples for the labels asked for, in batches."""
    @torch.no_grad()
    def draw(labels: torch.Tensor, seed: int) -> torch.Tensor:
        labels = labels.to(model.device)
        parts = [model.sample(len(part), seed + i, labels=part) for i, part in enumerate(labels.split(1000))]
        return torch.cat(parts).cpu()
    return draw


def training_data_scores(model, data: Dataset) -> dict[str, Any]:
    """CAS and augmentation of a conditional model (its eval.json keys `cas`, `cas_real`,
    `cas_images` and `augmentation`)."""
    draw = model_drawer(model)
    data = data.whole or data  # a run on a training subset is read against the whole real training split
    return {**classification_accuracy_score(draw, data), "augmentation": augmentation(draw, data)}
