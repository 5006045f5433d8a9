"""The configuration of a run: plain dataclasses, saved once as config.json.

A run is fully described by a `RunConfig`; everything else in the run directory is
derived from it by the Trainer. Validation lives here so that the command line and the
app refuse the same bad values with the same messages, before anything is written.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from dataclasses import dataclass, field
from typing import Any

GAN_LOSSES = ("minimax", "non-saturating", "least-squares", "wgan-gp", "hinge")
LIKELIHOODS = ("bernoulli", "gaussian")
ARCHS = ("mlp", "conv")
FAMILIES = ("gan", "vae")
LR_SCHEDULES = ("constant", "linear")
# The latent priors a GAN may draw from (genlab.models.priors draws them).
PRIORS = ("normal", "uniform")
TRUNCATION_MAX = 10.0  # beyond this a truncated normal is the normal to float precision


MAX_STEPS = 10_000_000
SEED_MAX = 2**31 - 1  # seeds are what a number field of the app can hold, everywhere


class ConfigError(ValueError):
    """A configuration value is not allowed; the message says what is."""


def setting(default: Any, help: str, **metadata: Any) -> Any:
    """A config field with the line of help the command line shows for it (`--flag`)."""
    return field(default=default, metadata={"help": help, **metadata})


@dataclass
class ModelConfig:
    """Which network and which objective. Fields a family does not use are ignored."""

    variant: str = setting("gan", "the model variant", cli=False)
    family: str = setting("gan", "gan or vae", cli=False)
    arch: str = setting("mlp", "override the variant's architecture", choices=ARCHS)
    latent_dim: int = setting(2, "size of the latent code z")
    hidden: int = setting(256, "MLP width, or the base channel count of a conv net")
    depth: int = setting(3, "hidden layers of an MLP")
    conditional: bool = setting(False, "condition on the class label")
    prior: str = setting("normal", "GAN: the latent prior p(z) (a VAE keeps its normal prior)", choices=PRIORS)
    truncation: float | None = setting(None, "sample from the normal prior truncated at this |z| "
                                             "(the truncation trick; sampling only, not training)")
    # GAN options
    loss: str = setting("non-saturating", "GAN: the adversarial loss", choices=GAN_LOSSES)
    n_critic: int = setting(1, "GAN: discriminator updates per generator update")
    gp_weight: float = setting(10.0, "GAN: lambda of the WGAN-GP gradient penalty")
    r1_weight: float = setting(0.0, "GAN: gamma of the R1 penalty on real data (0: off)")
    spectral_norm: bool = setting(False, "GAN: spectral norm on the discriminator's layers")
    pack: int = setting(1, "GAN: samples per discriminator input (PacGAN)")
    l1_weight: float = setting(0.0, "weight of an L1 penalty on each network's weights, added to its loss "
                                    "(beside --weight-decay, Adam's L2)")
    # VAE options
    beta: float = setting(1.0, "VAE: weight of the KL term")
    likelihood: str = setting("bernoulli", "VAE: the decoder's likelihood", choices=LIKELIHOODS)
    kl_warmup_steps: int = setting(0, "VAE: steps over which beta rises from 0")


@dataclass
class DataConfig:
    """Which dataset; `path`, `image_size` and `color` are for a user's image folder."""

    name: str = setting("ring", "the dataset", cli=False)
    path: str | None = setting(None, "folder dataset: a folder or .zip of images")
    image_size: int = setting(28, "folder dataset: image size", choices=(28, 32, 64))
    color: str = setting("grey", "folder dataset: grey or rgb", choices=("grey", "rgb"))
    train_subset: int | None = setting(None, "train on only the first N training samples (to see a model "
                                             "memorise them)")


@dataclass
class OptimConfig:
    """Adam for every network; the discriminator may have its own learning rate."""

    lr: float = setting(2e-4, "learning rate")
    lr_d: float | None = setting(None, "GAN: the discriminator's own learning rate")
    beta1: float = setting(0.5, "Adam's beta1")
    beta2: float = setting(0.999, "Adam's beta2")
    weight_decay: float = setting(0.0, "L2 weight decay (Adam's)")
    batch_size: int = setting(128, "batch size")
    lr_schedule: str = setting("constant", "linear: decay the learning rate to 0 at the last step",
                               choices=LR_SCHEDULES)


@dataclass
class ScheduleConfig:
    """How long to train and how often to log, snapshot and checkpoint."""

    steps: int = setting(2000, "training steps")
    log_every: int = setting(10, "log the losses every this many steps")
    n_snapshots: int = setting(20, "snapshots of the weights and samples", flag="snapshots")
    seed: int = setting(0, "the run's seed")
    device: str = setting("auto", "auto, cpu, cuda or mps")
    evaluate: bool = setting(False, "compute metrics at every snapshot (for plots of a metric against steps)")
    eval_samples: int = setting(1000, "samples per evaluation during training")
    cpus: int = setting(1, "CPU cores the run asks for on a Ray cluster (its torch threads there)")
    gpu_share: float = setting(0.25, "the share of one GPU the run asks for on a Ray cluster with GPUs "
                                     "(0.25: four runs share a GPU)")


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
        sections = SECTIONS
        unknown = set(raw) - set(sections) - {"name"}
        if unknown:
            raise ConfigError(f"unknown config sections {sorted(unknown)}; "
                              f"allowed: {sorted(sections) + ['name']}")
        parts = {}
        for key, klass in sections.items():
            values = raw.get(key, {})
            if not isinstance(values, dict):
                raise ConfigError(f"config section {key!r} must be an object, not {values!r}")
            names = {f.name for f in dataclasses.fields(klass)}
            bad = set(values) - names
            if bad:
                raise ConfigError(f"unknown {key} fields {sorted(bad)}; allowed: {sorted(names)}")
            _check_types(key, klass, values)
            parts[key] = klass(**values)
        if not isinstance(raw.get("name", ""), str):
            raise ConfigError(f"name must be a string, not {raw['name']!r}")
        return cls(name=raw.get("name", ""), **parts)


SECTIONS: dict[str, type] = {"model": ModelConfig, "data": DataConfig, "optim": OptimConfig,
                             "schedule": ScheduleConfig}


@functools.cache
def _field_types(klass: type) -> dict[str, tuple[type, ...]]:
    """Each field's allowed types (`X | None` gives X and NoneType). Resolving the string
    annotations compiles each one, which had been most of the time of reading a run's config
    (the sidebar reads every run's, every few seconds)."""
    return {name: typing.get_args(hint) or (hint,) for name, hint in typing.get_type_hints(klass).items()}


def _check_types(section: str, klass: type, values: dict[str, Any]) -> None:
    """ConfigError for a value whose JSON type does not fit its field: a bool field takes a
    bool, an int field an int, a float field any number (never a bool), and `X | None` null too."""
    types = _field_types(klass)
    for name, value in values.items():
        allowed = types[name]
        if value is None and type(None) in allowed:
            continue
        if float in allowed and not isinstance(value, bool) and isinstance(value, (int, float)):
            continue
        if any(t is not type(None) and type(value) is t for t in allowed):
            continue
        names = " or ".join("null" if t is type(None) else t.__name__ for t in allowed)
        raise ConfigError(f"{section}.{name} must be {names}, not {value!r}")


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def _nonnegative(value: float, what: str) -> None:
    _require(math.isfinite(value) and value >= 0, f"{what} must be a finite number >= 0, not {value}")


def _positive(value: float, what: str) -> None:
    _require(math.isfinite(value) and value > 0, f"{what} must be a finite number > 0, not {value}")


def check_positive_lr(lr: float) -> None:
    _positive(lr, "learning rate")


def check_seed(seed: int, what: str = "seed") -> None:
    _require(0 <= seed <= SEED_MAX, f"{what} must be between 0 and {SEED_MAX}, not {seed}")


def check_steps(steps: int) -> None:
    _require(1 <= steps <= MAX_STEPS, f"steps must be between 1 and {MAX_STEPS:,}, not {steps:,}")


def validate(config: RunConfig) -> None:
    """Check every value that does not depend on the dataset's contents."""
    _validate_model(config.model)
    _validate_optim(config.optim, config.model)
    s = config.schedule
    check_steps(s.steps)
    check_seed(s.seed)
    _require(1 <= s.log_every <= MAX_STEPS, f"log_every must be between 1 and {MAX_STEPS:,}, not {s.log_every}")
    _require(100 <= s.eval_samples <= 50_000, f"eval samples must be between 100 and 50000, not {s.eval_samples}")
    _require(1 <= s.n_snapshots <= 200, f"snapshots must be between 1 and 200, not {s.n_snapshots}")
    _require(1 <= s.cpus <= 256, f"cpus must be between 1 and 256, not {s.cpus}")
    _require(0 < s.gpu_share <= 1, f"the GPU share must be more than 0 and at most 1, not {s.gpu_share}")
    _require(config.data.image_size in (28, 32, 64),
             f"image size must be 28, 32 or 64, not {config.data.image_size}")
    _require(config.data.train_subset is None or 1 <= config.data.train_subset <= MAX_STEPS,
             f"a training subset must be at least 1 sample, not {config.data.train_subset}")
    _require(config.data.color in ("grey", "rgb"),
             f"color must be grey or rgb, not {config.data.color!r}")


def _validate_model(m: ModelConfig) -> None:
    _require(m.family in FAMILIES, f"family must be one of {', '.join(FAMILIES)}, not {m.family!r}")
    _require(m.arch in ARCHS, f"arch must be one of {', '.join(ARCHS)}, not {m.arch!r}")
    _require(1 <= m.latent_dim <= 1024, f"latent size must be between 1 and 1024, not {m.latent_dim}")
    _require(8 <= m.hidden <= 4096, f"hidden width must be between 8 and 4096, not {m.hidden}")
    _require(1 <= m.depth <= 8, f"MLP depth must be between 1 and 8, not {m.depth}")
    _require(m.loss in GAN_LOSSES, f"loss must be one of {', '.join(GAN_LOSSES)}, not {m.loss!r}")
    _require(1 <= m.n_critic <= 20, f"n_critic must be between 1 and 20, not {m.n_critic}")
    _nonnegative(m.gp_weight, "the gradient-penalty weight")
    _nonnegative(m.r1_weight, "the R1 weight")
    _require(1 <= m.pack <= 8, f"pack must be between 1 and 8, not {m.pack}")
    _nonnegative(m.l1_weight, "the L1 weight")
    _nonnegative(m.beta, "beta")
    _require(m.prior in PRIORS, f"prior must be one of {', '.join(PRIORS)}, not {m.prior!r}")
    _require(m.family == "gan" or m.prior == "normal",
             f"a VAE keeps the normal prior its KL term is measured against, not {m.prior!r}")
    if m.truncation is not None:
        _require(math.isfinite(m.truncation) and 0 < m.truncation <= TRUNCATION_MAX,
                 f"truncation must be a number in (0, {TRUNCATION_MAX:g}], not {m.truncation}")
        _require(m.prior == "normal", "truncation applies to the normal prior only")
    _require(m.likelihood in LIKELIHOODS,
             f"likelihood must be one of {', '.join(LIKELIHOODS)}, not {m.likelihood!r}")
    _require(0 <= m.kl_warmup_steps <= MAX_STEPS,
             f"KL warm-up steps must be between 0 and {MAX_STEPS:,}, not {m.kl_warmup_steps}")


def _validate_optim(o: OptimConfig, m: ModelConfig) -> None:
    check_positive_lr(o.lr)
    if o.lr_d is not None:
        _positive(o.lr_d, "discriminator learning rate")
    _require(0 <= o.beta1 < 1 and 0 <= o.beta2 < 1, "Adam betas must lie in [0, 1)")
    _nonnegative(o.weight_decay, "weight decay")
    _require(o.lr_schedule in LR_SCHEDULES,
             f"lr schedule must be one of {', '.join(LR_SCHEDULES)}, not {o.lr_schedule!r}")
    _require(1 <= o.batch_size <= 65_536, f"batch size must be between 1 and 65536, not {o.batch_size}")
    _require(o.batch_size % m.pack == 0 or m.family != "gan",
             f"batch size {o.batch_size} must be a multiple of pack {m.pack}")
