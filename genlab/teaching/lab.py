"""The 2-D lab: a small GAN or VAE on a toy distribution, trained a few steps at a time
in the viewer's own session so every step can be watched (in the spirit of GAN Lab).

A lab is not a run: nothing is written to disk and it lives as long as the browser
session that holds it. It reuses the models, their update rules and the batch sampler
of real runs, so what it shows is what a run does.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from genlab.data import load_dataset
from genlab.metrics.modes import PROTOCOL_SAMPLES, mode_coverage
from genlab.models import VARIANTS, GenerativeModel, build_model, noise
from genlab.models.gan_losses import is_logistic
from genlab.presets import make_config
from genlab.training.batches import BatchSampler
from genlab.training.step_log import RunningMeans, non_finite
from genlab.training.trainer import check_config

TOYS = ("ring", "grid", "spiral", "moons")
LAB_VARIANTS = ("gan", "gan-r1", "minimax-gan", "lsgan", "hinge-sn", "wgan-gp", "pacgan2", "vae", "beta-vae")
# Points shown per view and samples scored for modes (the PacGAN protocol uses 2,500).
VIEW_POINTS = 500
# Grid cells per side of the decision surface and the density.
RESOLUTION = 40


def default_steps_per_update(variant: str) -> int:
    """Training steps between two redraws: about 30 ms of training on one CPU thread
    (a WGAN-GP step does 5 critic updates with a gradient penalty, about 6x a GAN step)."""
    return 1 if variant == "wgan-gp" else 5


@contextmanager
def _viewing(module: nn.Module) -> Iterator[nn.Module]:
    """`module` in eval mode (no spectral-norm power iteration) without gradients, for a view;
    its previous mode afterwards."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield module
    finally:
        module.train(was_training)


@dataclass(frozen=True)
class LabSettings:
    variant: str = "gan"
    dataset: str = "ring"
    lr: float = 1e-3
    hidden: int = 128
    batch_size: int = 256
    beta: float = 1.0  # VAEs only
    seed: int = 0

    @classmethod
    def defaults(cls, variant: str, dataset: str) -> LabSettings:
        """The lab's starting settings for a model on a toy: the toy preset's learning rate,
        and a VAE variant's own beta."""
        return cls(variant=variant, dataset=dataset, lr=make_config(variant, dataset).optim.lr,
                   beta=VARIANTS[variant].beta)

    @property
    def is_vae(self) -> bool:
        return VARIANTS[self.variant].is_vae


class ToyLab:
    """One model on one toy, its optimisers and the loss history of its steps."""

    def __init__(self, settings: LabSettings):
        self.settings = s = settings
        overrides = dict(lr=s.lr, hidden=s.hidden, batch_size=s.batch_size, seed=s.seed, device="cpu")
        if s.is_vae:
            overrides["beta"] = s.beta
        self.config = make_config(s.variant, s.dataset, **overrides)
        self.data = load_dataset(s.dataset)
        check_config(self.config, self.data)
        torch.manual_seed(s.seed)
        self.model: GenerativeModel = build_model(self.config.model, self.data.shape, self.data.n_classes)
        self.optimizers = self.model.make_optimizers(self.config.optim)
        self.noise_rng = torch.Generator().manual_seed(s.seed)
        self.sampler = BatchSampler(self.data.x_train, self.data.y_train, self.config.optim.batch_size, s.seed)
        self.step_count = 0
        self.history: list[dict[str, float]] = []
        self.error: str | None = None  # set when training diverged; the lab then stays put
        self.real = self.data.x_test[:VIEW_POINTS]
        # The plotting window: the data's extent plus a margin, square.
        half = float(self.data.x_test.abs().max()) * 1.25
        self.extent = (-half, half)

    @property
    def family(self) -> str:
        return self.model.family

    def step(self, n: int) -> dict[str, float] | None:
        """n training steps; their mean losses are appended to the history and returned.
        After a NaN or infinite loss, `error` says so and further steps do nothing."""
        if self.error:
            return None
        self.model.train()
        means = RunningMeans()
        for _ in range(n):
            means.add(self.model.train_step(self.sampler, self.optimizers, self.step_count, self.noise_rng))
            self.step_count += 1
        # Per-dimension values (a VAE's KL per dimension) stay out of the curves.
        record = {"step": float(self.step_count),
                  **{k: v for k, v in means.means().items() if not isinstance(v, list)}}
        if non_finite(record):
            self.error = (f"Training diverged: the losses became NaN or infinite by step {self.step_count}. "
                          "Reset, perhaps with a lower learning rate.")
            return None
        self.history.append(record)
        return record

    def grid(self, resolution: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The axis values and the resolution x resolution points of the plotting window."""
        axis = torch.linspace(*self.extent, resolution)
        yy, xx = torch.meshgrid(axis, axis, indexing="ij")
        return axis, torch.stack([xx.flatten(), yy.flatten()], dim=1)

    def generated(self, n: int = VIEW_POINTS, seed: int = 0) -> torch.Tensor:
        return self.model.sample(n, seed)

    def decision_surface(self, resolution: int = RESOLUTION) -> torch.Tensor:
        """A GAN's discriminator over the window: D(x) as a probability for the logistic
        losses, the raw critic score otherwise. A packing discriminator judges each point
        paired with itself."""
        if self.family != "gan":
            raise ValueError("only a GAN has a discriminator")
        _, points = self.grid(resolution)
        with _viewing(self.model.discriminator) as D:
            scores = D(points.repeat(1, self.model.config.pack), None)
        if is_logistic(self.model.config.loss):
            scores = torch.sigmoid(scores)
        return scores.reshape(resolution, resolution)

    def generator_mesh(self, lines: int = 13, points_per_line: int = 40, span: float = 2.5) -> list[torch.Tensor]:
        """The image under G (or the decoder's mean) of a square grid of z in [-span, span]^2
        (the first two latent dimensions; the rest held at 0): a list of 2-D polylines."""
        d = self.model.latent_dim
        ticks, along = torch.linspace(-span, span, lines), torch.linspace(-span, span, points_per_line)
        polylines = []
        with _viewing(self.model) as model:
            for horizontal in (True, False):
                for t in ticks:
                    z = torch.zeros(points_per_line, d)
                    z[:, 0], z[:, min(1, d - 1)] = (along, t) if horizontal else (t, along)
                    polylines.append(model.generate(z))
        return polylines

    def encoder_means(self) -> torch.Tensor:
        """A VAE's posterior means mu(x) of the shown real points."""
        with _viewing(self.model) as model:
            mu, _ = model.encode(self.real)
        return mu

    def decoder_density(self, resolution: int = RESOLUTION, n_z: int = 512) -> torch.Tensor:
        """A VAE's model density over the window, by Monte Carlo over the prior:
        p(x) = E_{z ~ N(0, I)}[N(x; mu(z), sigma^2 I)] ~ (1/K) sum_k N(x; mu(z_k), sigma^2 I)."""
        if self.family != "vae":
            raise ValueError("only a VAE has a decoder density")
        _, points = self.grid(resolution)
        with _viewing(self.model) as model:
            means = model.generate(noise(n_z, model.latent_dim, seed=0))
            log_sigma = model.decoder.log_sigma
            # log N(x; m, s^2 I) in 2-D = -|x - m|^2 / (2 s^2) - 2 log s - log(2 pi)
            sq = torch.cdist(points, means) ** 2
            log_n = -sq / (2 * torch.exp(2 * log_sigma)) - 2 * log_sigma - math.log(2 * math.pi)
            density = torch.logsumexp(log_n, dim=1).exp() / n_z
        return density.reshape(resolution, resolution)

    def modes(self) -> dict[str, float] | None:
        """Modes captured and high-quality share (PacGAN protocol); None for toys without modes."""
        if self.data.modes is None:
            return None
        return mode_coverage(self.generated(PROTOCOL_SAMPLES, seed=1), self.data.modes, self.data.mode_std)


def mode_reading(modes: dict[str, float]) -> str | None:
    """A warning when the share of samples on a mode would mislead on its own: most samples
    sit on a mode, but on a few modes only (an untrained generator at the centre of the grid,
    or a collapsed one). None when the two numbers tell the same story."""
    captured, total, on_mode = modes["modes_captured"], modes["modes_total"], modes["high_quality"]
    if on_mode >= 0.5 and captured <= total // 4:
        return (f"{100 * on_mode:.0f}% of samples sit on a mode, but on only {captured} of {total} modes: "
                "not yet a model of the data (untrained, or collapsed).")
    if on_mode < 0.25 and captured >= total // 2:
        return (f"{captured} of {total} modes have a sample on them, but only {100 * on_mode:.0f}% of samples sit "
                "on a mode: the rest are smeared between the modes, not yet a model of the data either "
                "(a mode counts as captured with a single sample near it).")
    return None
