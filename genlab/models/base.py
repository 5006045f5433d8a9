"""The face both families show the views: latent_dim, generate(z), sample(n, seed); and
what each family says about itself: the curves its training log is plotted as."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn

from genlab.config import ModelConfig, OptimConfig
from genlab.models.priors import seeded_codes


@dataclass(frozen=True)
class CurveGroup:
    """Logged values drawn on one chart: e.g. ("loss_d", "loss_g") as "Losses"."""

    keys: tuple[str, ...]
    title: str


class Batches(Protocol):
    """Where a training step draws its real data from (genlab.training.batches.BatchSampler)."""

    def draw(self) -> tuple[torch.Tensor, torch.Tensor | None]: ...


def noise(n: int, latent_dim: int, seed: int) -> torch.Tensor:
    """Standard normal latents drawn on the CPU, so a seed means the same z on every device."""
    return seeded_codes(n, latent_dim, seed)


def adam(network: nn.Module, optim: OptimConfig, lr: float) -> torch.optim.Adam:
    """Adam over a network's parameters. Weight decay (Adam's L2: lambda w added to each
    gradient) goes, as in nanoGPT's configure_optimizers, to the matrices and convolution
    kernels only (2-D and up); biases and normalisation weights (1-D) are not decayed."""
    params = list(network.parameters())
    betas = (optim.beta1, optim.beta2)
    if optim.weight_decay == 0:  # one group, as every run without weight decay has always had
        return torch.optim.Adam(params, lr=lr, betas=betas)
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": optim.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.Adam(groups, lr=lr, betas=betas)


def with_l1(loss: torch.Tensor, network: nn.Module, weight: float) -> torch.Tensor:
    """The loss with an L1 penalty on the network's weights: loss + weight * sum |w|."""
    if weight == 0:
        return loss
    return loss + weight * sum(p.abs().sum() for p in network.parameters())


class GenerativeModel(nn.Module):
    """Base of both families. Subclasses set `family` and `inference_parts` (the submodules
    a view needs; snapshots hold only those), and implement `generate`, `make_optimizers`,
    `train_step` and `curves`."""

    family = ""
    inference_parts: tuple[str, ...] = ()

    @classmethod
    def curves(cls, config: ModelConfig) -> list[CurveGroup]:
        """How a run of this family and config is plotted, the main chart first."""
        raise NotImplementedError

    def __init__(self, config: ModelConfig, data_shape: tuple[int, ...], n_classes: int):
        super().__init__()
        self.config = config
        self.data_shape = tuple(data_shape)
        self.is_image = len(self.data_shape) == 3
        self.n_classes = n_classes if config.conditional else 0
        self.latent_dim = config.latent_dim

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def one_hot(self, labels: torch.Tensor | None, n: int) -> torch.Tensor | None:
        """Labels as one-hot rows for a conditional model; None for an unconditional one.
        A conditional model given no labels cycles through the classes."""
        if not self.n_classes:
            return None
        if labels is None:
            labels = torch.arange(n, device=self.device) % self.n_classes
        return nn.functional.one_hot(labels.to(self.device), self.n_classes).float()

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Decode latents into data space (images in [0, 1], or 2-D points)."""
        raise NotImplementedError

    def codes(self, n: int, seed: int, truncation: float | None = None) -> torch.Tensor:
        """n codes of the model's prior from a seed, on its device; truncated at `truncation`
        (else at the run's own sampling truncation, if it has one)."""
        t = self.config.truncation if truncation is None else truncation
        return seeded_codes(n, self.latent_dim, seed, self.config.prior, t).to(self.device)

    @torch.no_grad()
    def sample(self, n: int, seed: int, labels: torch.Tensor | None = None,
               truncation: float | None = None) -> torch.Tensor:
        """n samples from the seeded prior, in eval mode, on the model's device."""
        was_training = self.training
        self.eval()
        try:
            return self.generate(self.codes(n, seed, truncation), labels)
        finally:
            self.train(was_training)

    def parameter_counts(self) -> dict[str, int]:
        """Trainable parameters of each top-level part, e.g. {"generator": ..., "discriminator": ...}."""
        return {name: sum(p.numel() for p in part.parameters()) for name, part in self.named_children()}

    def probes(self, real: torch.Tensor) -> dict[str, float]:
        """Numbers measured on a fixed batch of real data at each log line, beside the means
        of the steps' own outputs; none unless a family has some. They must not change
        training: no random stream drawn, no parameter, buffer or gradient touched."""
        return {}

    def inference_state_dict(self) -> dict[str, torch.Tensor]:
        """The weights a view needs: the state of `inference_parts` only."""
        return {k: v for k, v in self.state_dict().items() if k.split(".")[0] in self.inference_parts}

    def load_inference_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        missing, unexpected = self.load_state_dict(state, strict=False)
        missing = [k for k in missing if k.split(".")[0] in self.inference_parts]
        if missing or unexpected:
            raise ValueError(f"weights do not fit this model: missing {missing[:3]}, "
                             f"unexpected {unexpected[:3]}")

    def make_optimizers(self, optim: OptimConfig) -> dict[str, torch.optim.Optimizer]:
        """Adam for each network, by name."""
        raise NotImplementedError

    def train_step(self, batches: Batches, optimizers: dict[str, torch.optim.Optimizer], step: int,
                   noise_rng: torch.Generator) -> dict[str, torch.Tensor | float]:
        """One update; returns named scalars as tensors (no host sync). `noise_rng` draws
        every random number of the step, so a seeded run repeats exactly."""
        raise NotImplementedError
