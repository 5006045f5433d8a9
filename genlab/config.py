"""The configuration of a run: plain dataclasses, saved once as config.json.

A run is fully described by a `RunConfig`; everything else in the run directory is
derived from it by the Trainer. Validation lives here so that the command line and the
app refuse the same bad values with the same messages, before anything is written.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

GAN_LOSSES = ("minimax", "non-saturating", "least-squares", "wgan-gp", "hinge")
LIKELIHOODS = ("bernoulli", "gaussian")
ARCHS = ("mlp", "conv")
FAMILIES = ("gan", "vae")
LR_SCHEDULES = ("constant", "linear")


class ConfigError(ValueError):
    """A configuration value is not allowed; the message says what is."""


@dataclass
class ModelConfig:
    """Which network and which objective. Fields a family does not use are ignored."""

    variant: str = "gan"
    family: str = "gan"
    arch: str = "mlp"
    latent_dim: int = 2
    hidden: int = 256  # MLP width, or the base channel count of a conv net
    depth: int = 3  # hidden layers of an MLP
    conditional: bool = False
    # GAN options
    loss: str = "non-saturating"
    n_critic: int = 1
    gp_weight: float = 10.0  # lambda of the WGAN-GP gradient penalty
    r1_weight: float = 0.0  # gamma of the R1 penalty on real data; 0 switches it off
    spectral_norm: bool = False
    pack: int = 1  # PacGAN: samples per discriminator input
    # VAE options
    beta: float = 1.0
    likelihood: str = "bernoulli"
    kl_warmup_steps: int = 0


@dataclass
class DataConfig:
    """Which dataset; `path`, `image_size` and `color` are for a user's image folder."""

    name: str = "ring"
    path: str | None = None
    image_size: int = 28
    color: str = "grey"


@dataclass
class OptimConfig:
    """Adam for every network; the discriminator may have its own learning rate."""

    lr: float = 2e-4
    lr_d: float | None = None
    beta1: float = 0.5
    beta2: float = 0.999
    weight_decay: float = 0.0
    batch_size: int = 128
    lr_schedule: str = "constant"  # or "linear": decay linearly to 0 at the last step


@dataclass
class ScheduleConfig:
    """How long to train and how often to log, snapshot and checkpoint."""

    steps: int = 2000
    log_every: int = 10
    n_snapshots: int = 20
    seed: int = 0
    device: str = "auto"
    evaluate: bool = False  # compute metrics (genlab.metrics) at every snapshot
    eval_samples: int = 1000


@dataclass
class RunConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunConfig:
        """Build a config from a dict, refusing unknown sections and fields."""
        if not isinstance(raw, dict):
            raise ConfigError("a run config must be a JSON object")
        sections = {"model": ModelConfig, "data": DataConfig, "optim": OptimConfig,
                    "schedule": ScheduleConfig}
        unknown = set(raw) - set(sections) - {"name"}
        if unknown:
            raise ConfigError(f"unknown config sections {sorted(unknown)}; "
                              f"allowed: {sorted(sections) + ['name']}")
        parts = {}
        for key, klass in sections.items():
            values = raw.get(key, {})
            names = {f.name for f in dataclasses.fields(klass)}
            bad = set(values) - names
            if bad:
                raise ConfigError(f"unknown {key} fields {sorted(bad)}; allowed: {sorted(names)}")
            parts[key] = klass(**values)
        return cls(name=str(raw.get("name", "")), **parts)


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def validate(config: RunConfig) -> None:
    """Check every value that does not depend on the dataset's contents."""
    m, o, s = config.model, config.optim, config.schedule
    _require(m.family in FAMILIES, f"family must be one of {', '.join(FAMILIES)}, not {m.family!r}")
    _require(m.arch in ARCHS, f"arch must be one of {', '.join(ARCHS)}, not {m.arch!r}")
    _require(m.latent_dim >= 1, f"latent size must be at least 1, not {m.latent_dim}")
    _require(m.latent_dim <= 1024, f"latent size must be at most 1024, not {m.latent_dim}")
    _require(8 <= m.hidden <= 4096, f"hidden width must be between 8 and 4096, not {m.hidden}")
    _require(1 <= m.depth <= 8, f"MLP depth must be between 1 and 8, not {m.depth}")
    _require(m.loss in GAN_LOSSES, f"loss must be one of {', '.join(GAN_LOSSES)}, not {m.loss!r}")
    _require(m.n_critic >= 1, f"n_critic must be at least 1, not {m.n_critic}")
    _require(m.gp_weight >= 0, f"the gradient-penalty weight must be >= 0, not {m.gp_weight}")
    _require(m.r1_weight >= 0, f"the R1 weight must be >= 0, not {m.r1_weight}")
    _require(1 <= m.pack <= 8, f"pack must be between 1 and 8, not {m.pack}")
    _require(m.beta >= 0, f"beta must be >= 0, not {m.beta}")
    _require(m.likelihood in LIKELIHOODS,
             f"likelihood must be one of {', '.join(LIKELIHOODS)}, not {m.likelihood!r}")
    _require(m.kl_warmup_steps >= 0, f"KL warm-up steps must be >= 0, not {m.kl_warmup_steps}")
    _require(o.lr > 0, f"learning rate must be positive, not {o.lr}")
    _require(o.lr_d is None or o.lr_d > 0,
             f"discriminator learning rate must be positive, not {o.lr_d}")
    _require(0 <= o.beta1 < 1 and 0 <= o.beta2 < 1, "Adam betas must lie in [0, 1)")
    _require(o.weight_decay >= 0, f"weight decay must be >= 0, not {o.weight_decay}")
    _require(o.lr_schedule in LR_SCHEDULES,
             f"lr schedule must be one of {', '.join(LR_SCHEDULES)}, not {o.lr_schedule!r}")
    _require(o.batch_size >= 1, f"batch size must be at least 1, not {o.batch_size}")
    _require(o.batch_size % m.pack == 0 or m.family != "gan",
             f"batch size {o.batch_size} must be a multiple of pack {m.pack}")
    _require(s.steps >= 1, f"steps must be at least 1, not {s.steps}")
    _require(s.log_every >= 1, f"log_every must be at least 1, not {s.log_every}")
    _require(100 <= s.eval_samples <= 50_000, f"eval samples must be between 100 and 50000, not {s.eval_samples}")
    _require(1 <= s.n_snapshots <= 200, f"snapshots must be between 1 and 200, not {s.n_snapshots}")
    _require(config.data.image_size in (28, 32, 64),
             f"image size must be 28, 32 or 64, not {config.data.image_size}")
    _require(config.data.color in ("grey", "rgb"),
             f"color must be grey or rgb, not {config.data.color!r}")
