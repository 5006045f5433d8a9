"""Repairing images with a generative model: completion (filling what is missing) and
correction (removing noise), the jobs the GAN-vs-VAE comparison is most plainly about.

A `Damage` turns true images into what the model is given, with two masks:

- `observed`: pixels that carry information (every pixel for noise, the rest for a hole);
- `trusted`: observed pixels that are the true ones, put back after a repair (none for noise).

The hidden pixels, on which a repair is judged, are those not trusted. Two ways to repair:

- **search** (any model): find the code z whose image best matches the observed pixels,
  z* = argmin_z  sum_observed (G(z) - x)^2 / |observed| + 1e-3 ||z||^2 / d,
  by Adam from a start drawn from the prior; a GAN has nothing else, a VAE's decoder is
  searched the same way;
- **encoder** (a VAE; the imputation of Rezende et al. 2014, with the posterior mean):
  x_0 = the damaged image;  x_{t+1} = trusted * x + (1 - trusted) * decode(mu(encode(x_t))),
  so the encoder reads its own guess of the hidden pixels and improves it.

Either way the repaired image is the model's image with the trusted pixels put back.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch

from genlab.config import ConfigError
from genlab.models.latent import search_codes

KINDS = ("box", "half", "pixels", "noise")
HALVES = ("left", "bottom")
MISSING_GREY = 0.5  # what a missing pixel shows, and what the encoder first reads there
SEARCH_STEPS = 200
ENCODER_ROUNDS = 20


@dataclass(frozen=True)
class Damage:
    """One way of damaging an image. `size`: a box's side as a share of the image's side;
    `x`, `y`: its centre as shares of the width and height; `half`: which half is missing;
    `rate`: the share of pixels missing; `sigma`: the noise's standard deviation (images in
    [0, 1]); `seed`: which pixels go missing, and the noise."""

    kind: str
    size: float = 0.5
    x: float = 0.5
    y: float = 0.5
    half: str = "left"
    rate: float = 0.5
    sigma: float = 0.3
    seed: int = 0

    def check(self) -> None:
        """Refuse settings outside their ranges, naming what is allowed."""
        if self.kind not in KINDS:
            raise ConfigError(f"damage must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.half not in HALVES:
            raise ConfigError(f"the missing half must be {' or '.join(HALVES)}, not {self.half!r}")
        for name, low, high in (("size", 0.0, 1.0), ("x", 0.0, 1.0), ("y", 0.0, 1.0), ("rate", 0.0, 1.0),
                                ("sigma", 0.0, 1.0)):
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigError(f"the damage's {name} must be between {low:g} and {high:g}, not {value:g}")

    def describe(self) -> str:
        """In words, for a caption: 'a box of half the side at the centre'."""
        if self.kind == "box":
            return f"a missing box of {self.size:.0%} of the side, centred at ({self.x:.0%}, {self.y:.0%})"
        if self.kind == "half":
            return f"the {self.half} half missing"
        if self.kind == "pixels":
            return f"{self.rate:.0%} of the pixels missing"
        return f"Gaussian noise of sigma {self.sigma:g}"


@dataclass(frozen=True)
class Damaged:
    """Damaged images and their masks (each [N, 1, H, W], 1 = yes), on the images' device."""

    images: torch.Tensor
    observed: torch.Tensor
    trusted: torch.Tensor

    @property
    def hidden(self) -> torch.Tensor:
        return 1 - self.trusted


def damage(images: torch.Tensor, how: Damage) -> Damaged:
    """Damage true images [N, C, H, W] in [0, 1] as `how` says."""
    how.check()
    n, _, h, w = images.shape
    rng = torch.Generator().manual_seed(how.seed)
    if how.kind == "noise":
        noisy = images + how.sigma * torch.randn(images.shape, generator=rng).to(images.device)
        ones = torch.ones(n, 1, h, w, device=images.device)
        return Damaged(noisy.clamp(0, 1), ones, torch.zeros_like(ones))
    keep = _kept_pixels(how, n, h, w, rng).to(images.device)
    return Damaged(keep * images + (1 - keep) * MISSING_GREY, keep, keep)


def _kept_pixels(how: Damage, n: int, h: int, w: int, rng: torch.Generator) -> torch.Tensor:
    """[N, 1, H, W]: 1 where a pixel survives a box, a half or random holes."""
    keep = torch.ones(n, 1, h, w)
    if how.kind == "pixels":
        return (torch.rand(n, 1, h, w, generator=rng) >= how.rate).float()
    if how.kind == "half":
        if how.half == "left":
            keep[..., : w // 2] = 0
        else:
            keep[..., h // 2:, :] = 0
        return keep
    side_h, side_w = round(how.size * h), round(how.size * w)
    top = min(max(round(how.y * h - side_h / 2), 0), h - side_h)
    left = min(max(round(how.x * w - side_w / 2), 0), w - side_w)
    keep[..., top: top + side_h, left: left + side_w] = 0
    return keep


def search(model, damaged: Damaged, labels: torch.Tensor | None = None, steps: int = SEARCH_STEPS,
           lr: float = 0.1, seed: int = 0, start: torch.Tensor | None = None) -> torch.Tensor:
    """The model's images at the codes that best match the observed pixels (GAN inversion,
    `latent.search_codes`), searched from `start` or from the prior's codes of `seed`."""
    z = search_codes(model, damaged.images, damaged.observed, steps, lr, seed, labels, start)
    with torch.no_grad():
        return model.generate(z, labels)


@torch.no_grad()
def encoder_imputation(model, damaged: Damaged, labels: torch.Tensor | None = None,
                       rounds: int = ENCODER_ROUNDS) -> torch.Tensor:
    """A VAE's images after `rounds` of encode, decode, put the trusted pixels back (one round
    when nothing is trusted: noise is removed by one pass through the model)."""
    was_training = model.training
    model.eval()
    x, keep = damaged.images, damaged.trusted
    guess = x
    for _ in range(rounds if keep.any() else 1):
        out = model.reconstruct(guess, labels)
        guess = keep * x + (1 - keep) * out
    model.train(was_training)
    return out


def methods_for(model) -> tuple[str, ...]:
    """The repairs a model can do: every model can be searched; a VAE also has its encoder."""
    return ("search", "encoder") if model.family == "vae" else ("search",)


def repair(model, damaged: Damaged, method: str, labels: torch.Tensor | None = None, **options) -> torch.Tensor:
    """The model's images for damaged ones by `method` ("search" or "encoder")."""
    if method not in methods_for(model):
        raise ConfigError(f"a {model.family.upper()} repairs by {' or '.join(methods_for(model))}, not {method!r}")
    if method == "search":
        return search(model, damaged, labels, **options)
    return encoder_imputation(model, damaged, labels, **options)


def put_back(damaged: Damaged, model_images: torch.Tensor) -> torch.Tensor:
    """The repaired images: the model's images where pixels were hidden, the trusted ones elsewhere."""
    return damaged.trusted * damaged.images + damaged.hidden * model_images


def mse_psnr(a: torch.Tensor, b: torch.Tensor, where: torch.Tensor) -> tuple[float | None, float | None]:
    """Mean squared error over the pixels `where` marks (every channel), and the PSNR,
    10 log10(1 / MSE) for images in [0, 1] (None where they agree exactly: it is infinite);
    (None, None) when `where` marks no pixel."""
    weight = where.expand_as(a).double()
    count = weight.sum().item()
    if count == 0:
        return None, None
    mse = (((a.double() - b.double()) ** 2) * weight).sum().item() / count
    return mse, (None if mse == 0 else 10 * math.log10(1 / mse))


def repair_errors(truth: torch.Tensor, damaged: Damaged, model_images: torch.Tensor) -> dict[str, float | None]:
    """How far a repair is from the truth: on the hidden pixels, on the whole repaired image,
    and the model's own image on the observed pixels (its fit to what it was given; with
    nothing hidden, the model's reconstruction error)."""
    fit_mse, _ = mse_psnr(model_images, damaged.images, damaged.observed)
    return {**_against_truth(put_back(damaged, model_images), truth, damaged), "fit_mse": fit_mse}


def damaged_errors(truth: torch.Tensor, damaged: Damaged) -> dict[str, float | None]:
    """The damaged input's own errors, the numbers a repair must beat."""
    return _against_truth(damaged.images, truth, damaged)


def _against_truth(images: torch.Tensor, truth: torch.Tensor, damaged: Damaged) -> dict[str, float | None]:
    """MSE and PSNR of `images` on the hidden pixels and on the whole image."""
    hidden_mse, hidden_psnr = mse_psnr(images, truth, damaged.hidden)
    whole_mse, whole_psnr = mse_psnr(images, truth, torch.ones_like(damaged.hidden))
    return {"hidden_mse": hidden_mse, "hidden_psnr": hidden_psnr, "whole_mse": whole_mse, "whole_psnr": whole_psnr}


@dataclass(frozen=True)
class Repairs:
    """True images, their damaged versions, and each method's repaired images and errors."""

    truth: torch.Tensor
    damaged: Damaged
    damaged_errors: dict[str, float | None]
    repaired: dict[str, torch.Tensor] = field(default_factory=dict)
    errors: dict[str, dict[str, float | None]] = field(default_factory=dict)


def repair_all(model, truth: torch.Tensor, how: Damage, labels: torch.Tensor | None = None) -> Repairs:
    """Damage `truth` as `how` says and repair it by every method the model has; each
    method's errors carry the seconds it took here (`seconds`)."""
    damaged = damage(truth, how)
    out = Repairs(truth, damaged, damaged_errors(truth, damaged))
    for method in methods_for(model):
        start = time.perf_counter()
        model_images = repair(model, damaged, method, labels)
        seconds = time.perf_counter() - start
        out.repaired[method] = put_back(damaged, model_images)
        out.errors[method] = {**repair_errors(truth, damaged, model_images), "seconds": seconds}
    return out
