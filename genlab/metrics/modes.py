"""Mode collapse made visible: modes captured on the 2-D toys, classes covered on images."""

from __future__ import annotations

import math

import torch

PROTOCOL_SAMPLES = 2500  # the PacGAN protocol counts modes on 2,500 samples


def mode_coverage(samples: torch.Tensor, modes: torch.Tensor, std: float) -> dict[str, float]:
    """The PacGAN protocol (Lin et al. 2018): each sample goes to its nearest mode and is
    high quality when within 3 standard deviations of it; a mode is captured when at least
    one high-quality sample lands on it."""
    d = torch.cdist(samples.double(), modes.double())
    dist, nearest = d.min(dim=1)
    good = dist <= 3 * std
    captured = torch.zeros(len(modes), dtype=torch.bool)
    captured[nearest[good]] = True
    counts = torch.bincount(nearest[good], minlength=len(modes))
    return {"modes_captured": int(captured.sum()), "modes_total": len(modes),
            "high_quality": good.double().mean().item(), "per_mode": counts.tolist()}


def class_histogram(predicted: torch.Tensor, real_labels: torch.Tensor, n_classes: int) -> dict:
    """How generated samples spread over the classes an evaluator sees in them.

    KL(p_gen || p_real) = sum_c p_gen(c) log(p_gen(c) / p_real(c)); empty classes of p_gen add 0."""
    fake_counts = torch.bincount(predicted, minlength=n_classes).double()
    real = torch.bincount(real_labels, minlength=n_classes).double()
    p, q = fake_counts / fake_counts.sum(), real / real.sum()
    kl = sum(pc * math.log(pc / qc) for pc, qc in zip(p.tolist(), q.tolist()) if pc > 0)
    # A class counts as covered when it gets at least a quarter of its fair share.
    covered = int((p >= 0.25 * q).sum())
    return {"histogram": fake_counts.long().tolist(), "classes_covered": covered, "classes_total": n_classes,
            "kl_to_real": kl, "real_share": [round(x, 6) for x in q.tolist()]}
