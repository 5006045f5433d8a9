"""Inception Score in the evaluator's space (Salimans et al. 2016), with GenLab's own
classifier in place of Inception: comparable between runs on one dataset, not with
published Inception Scores.

    IS = exp( E_x KL( p(y|x) || p(y) ) ),   p(y) = E_x p(y|x)

It is high when each sample is classified confidently (p(y|x) peaked) and the samples spread
over the classes (p(y) flat): at most the number of classes, at least 1. It never looks at
real data, so a model that draws one sharp prototype per class scores as high as one that
draws the whole variety within each class; FID, which compares feature statistics with the
test data, tells the two apart.
"""

from __future__ import annotations

import torch

SPLITS = 10


def inception_score(probs: torch.Tensor, splits: int = SPLITS) -> tuple[float, float]:
    """The mean and population standard deviation (as KID's spread) of IS over `splits` parts
    of equal size of the class probabilities `probs` [N, classes] (the usual protocol, with 10
    splits); the last N mod splits rows are left out, so every part weighs the same."""
    if len(probs) < splits:
        raise ValueError(f"the Inception Score needs at least {splits} samples, not {len(probs)}")
    size = len(probs) // splits
    scores = []
    for part in probs[: size * splits].double().split(size):
        marginal = part.mean(0, keepdim=True)
        # KL(p(y|x) || p(y)) = sum_y p(y|x) (log p(y|x) - log p(y)), with 0 log 0 = 0
        kl = torch.where(part > 0, part * (part.log() - marginal.log()), torch.zeros_like(part)).sum(1)
        scores.append(kl.mean().exp())
    stacked = torch.stack(scores)
    return stacked.mean().item(), stacked.std(unbiased=False).item()
