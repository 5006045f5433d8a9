"""Does a model copy its training data? For each generated sample, the distance to its
nearest training image and to its nearest test image, in the evaluator's feature space.

A model that generalises draws samples no closer to the images it was trained on than to
held-out ones from the same distribution: the ratio of the median distances is about 1. A
model that copies lands on training images: the ratio falls far below 1. The training and
test references have the same size, since a nearest neighbour in a larger set is closer.
"""

from __future__ import annotations

import torch

# Held-out real images score 0.9 to 1.1 (tests/test_metrics_16.py), and so do the demo runs
# trained on all of Fashion-MNIST (0.99 to 1.05); below 0.9 samples lean towards the images
# the model trained on; below 0.7 they are copies more than anything else.
LEANING_BELOW = 0.9
COPYING_BELOW = 0.7


def verdict(ratio: float) -> str:
    """The memorisation ratio in words."""
    if ratio < COPYING_BELOW:
        return "far closer to training images than to test images: it copies"
    if ratio < LEANING_BELOW:
        return "closer to the images it trained on than held-out images ever are: it has begun to memorise them"
    return "about as close to test images as to training images: no sign of copying"


def nearest(queries: torch.Tensor, reference: torch.Tensor, batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """The Euclidean distance from each query row to its nearest reference row, and that row's index."""
    dists, index = [], []
    for i in range(0, len(queries), batch):
        d, j = torch.cdist(queries[i:i + batch].double(), reference.double()).min(dim=1)
        dists.append(d)
        index.append(j)
    return torch.cat(dists), torch.cat(index)


def memorisation(fake: torch.Tensor, train: torch.Tensor, test: torch.Tensor) -> dict[str, float]:
    """Summary numbers for eval.json: the median nearest-train and nearest-test distances of
    the samples, their ratio, and the share of samples closer to a training image than to
    any test image (about a half for a model that generalises)."""
    n = min(len(train), len(test))
    to_train, _ = nearest(fake, train[:n])
    to_test, _ = nearest(fake, test[:n])
    median_train, median_test = to_train.median().item(), to_test.median().item()
    return {"ratio": median_train / max(median_test, 1e-12), "median_train_distance": median_train,
            "median_test_distance": median_test, "closer_to_train": (to_train < to_test).double().mean().item(),
            "n_samples": len(fake), "n_reference": n}
