"""The model registry: every variant GenLab trains, and how to build one for a dataset."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from genlab.config import ConfigError, ModelConfig
from genlab.models.base import CurveGroup, GenerativeModel, noise
from genlab.models.gan import GAN
from genlab.models.vae import VAE

__all__ = ["FAMILY_CLASSES", "VARIANTS", "CurveGroup", "GenerativeModel", "Variant", "build_model", "check_fits_data",
           "curves_for", "family_class", "noise"]

# The families by name: what a config's `family` means.
FAMILY_CLASSES: dict[str, type[GenerativeModel]] = {klass.family: klass for klass in (GAN, VAE)}


def family_class(family: str) -> type[GenerativeModel]:
    """The model class of a family; ConfigError for an unknown one."""
    if family not in FAMILY_CLASSES:
        raise ConfigError(f"family must be one of {', '.join(FAMILY_CLASSES)}, not {family!r}")
    return FAMILY_CLASSES[family]


@dataclass(frozen=True)
class Variant:
    """A named preset: a family, an architecture and the options that make it what it is."""

    name: str
    family: str
    arch: str
    description: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_vae(self) -> bool:
        return self.family == "vae"

    @property
    def beta(self) -> float:
        """A VAE variant's weight of the KL term."""
        return float(self.options.get("beta", 1.0))


VARIANTS: dict[str, Variant] = {v.name: v for v in [
    Variant("gan", "gan", "mlp", "MLP GAN, non-saturating loss (Goodfellow et al. 2014)"),
    Variant("gan-r1", "gan", "mlp", "MLP GAN, non-saturating loss with the R1 penalty on D "
            "(Mescheder et al. 2018)", {"r1_weight": 0.1}),
    Variant("minimax-gan", "gan", "mlp", "MLP GAN with the original saturating minimax loss",
            {"loss": "minimax"}),
    Variant("lsgan", "gan", "mlp", "MLP GAN with the least-squares loss (Mao et al. 2017)",
            {"loss": "least-squares"}),
    Variant("wgan-gp", "gan", "mlp", "Wasserstein GAN with gradient penalty, 5 critic steps "
            "(Gulrajani et al. 2017)", {"loss": "wgan-gp"}),
    Variant("hinge-sn", "gan", "mlp", "hinge loss with spectral norm in D (Miyato et al. 2018)",
            {"loss": "hinge", "spectral_norm": True}),
    Variant("pacgan2", "gan", "mlp", "PacGAN: D judges 2 samples at once against mode collapse "
            "(Lin et al. 2018)", {"pack": 2}),
    Variant("cgan", "gan", "mlp", "class-conditional MLP GAN with a projection discriminator",
            {"conditional": True}),
    Variant("dcgan", "gan", "conv", "DCGAN: conv generator and discriminator (Radford et al. 2016)"),
    Variant("dcgan-wgan-gp", "gan", "conv", "DCGAN networks trained as a WGAN-GP",
            {"loss": "wgan-gp"}),
    Variant("cdcgan", "gan", "conv", "class-conditional DCGAN", {"conditional": True}),
    Variant("vae", "vae", "mlp", "MLP VAE (Kingma & Welling 2014)"),
    Variant("beta-vae", "vae", "mlp", "MLP VAE with beta = 4: smoother latents, blurrier samples "
            "(Higgins et al. 2017)", {"beta": 4.0}),
    Variant("cvae", "vae", "mlp", "class-conditional MLP VAE (Sohn et al. 2015)", {"conditional": True}),
    Variant("conv-vae", "vae", "conv", "convolutional VAE"),
]}


def curves_for(config: ModelConfig) -> list[CurveGroup]:
    """How a run of this model config is plotted, its family's main chart first."""
    return family_class(config.family).curves(config)


def build_model(config: ModelConfig, data_shape: tuple[int, ...], n_classes: int) -> GenerativeModel:
    """A freshly initialised model of the configured family for data of this shape."""
    return family_class(config.family)(config, tuple(data_shape), n_classes)


def check_fits_data(config: ModelConfig, kind: str, shape: tuple[int, ...], n_classes: int) -> None:
    """Refuse model options that cannot work on this dataset, saying what would."""
    if config.arch == "conv":
        if kind != "images" or len(shape) != 3 or shape[1] not in (28, 32, 64):
            raise ConfigError(f"the conv architecture needs 28, 32 or 64 px images, not data of "
                              f"shape {tuple(shape)}; use an MLP variant (gan, vae, ...)")
    if config.conditional and not n_classes:
        raise ConfigError("a class-conditional model needs labelled data; this dataset has no classes")
    if config.family == "gan" and config.conditional and config.pack > 1:
        raise ConfigError("packing (PacGAN) and class conditioning cannot be combined")
    if config.family == "vae" and kind == "points" and config.likelihood == "bernoulli":
        raise ConfigError("a Bernoulli likelihood needs data in [0, 1]; use gaussian for 2-D points")
