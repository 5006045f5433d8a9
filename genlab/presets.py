"""Defaults per model variant and dataset that train to recognisable samples.

`make_config` is how both the command line and the app turn "dcgan on fashion-mnist"
into a full RunConfig; explicit overrides win over the defaults.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from genlab.config import SECTIONS, ConfigError, DataConfig, ModelConfig, OptimConfig, RunConfig, ScheduleConfig
from genlab.data import DATASETS
from genlab.models import VARIANTS

# (family, dataset group, arch) -> model and optimiser defaults
_DEFAULTS: dict[tuple[str, str, str], dict[str, Any]] = {
    # lr 1e-3 rather than 2e-4: on the toys it moves samples onto the modes far sooner (see
    # docs/benchmarks.md, mode collapse).
    ("gan", "points", "mlp"): dict(latent_dim=2, hidden=256, depth=3, batch_size=256, lr=1e-3, steps=5000),
    ("vae", "points", "mlp"): dict(latent_dim=2, hidden=256, depth=3, batch_size=256, lr=1e-3,
                                   beta1=0.9, likelihood="gaussian", steps=5000),
    ("gan", "small", "mlp"): dict(latent_dim=16, hidden=256, depth=2, batch_size=64, lr=2e-4, steps=3000),
    ("vae", "small", "mlp"): dict(latent_dim=8, hidden=256, depth=2, batch_size=64, lr=1e-3,
                                  beta1=0.9, steps=3000),
    # Images: one latent size (32) for every GAN and VAE, so Compare decodes the same z and
    # the Train page's defaults are the demo runs' settings (the README's figures).
    ("gan", "images", "mlp"): dict(latent_dim=32, hidden=512, depth=2, batch_size=128, lr=2e-4, steps=3000),
    ("gan", "images", "conv"): dict(latent_dim=32, hidden=32, batch_size=128, lr=2e-4, steps=3000),
    # The 784-400-z VAE of pytorch/examples (there z = 20).
    ("vae", "images", "mlp"): dict(latent_dim=32, hidden=400, depth=1, batch_size=128, lr=1e-3,
                                   beta1=0.9, steps=3000),
    ("vae", "images", "conv"): dict(latent_dim=32, hidden=32, batch_size=128, lr=1e-3, beta1=0.9, steps=3000),
}

# WGAN-GP's own settings (Gulrajani et al. 2017): 5 critic steps per generator step, Adam(0, 0.9).
_WGAN = dict(n_critic=5, lr=1e-4, beta1=0.0, beta2=0.9)
# On the toys at 1e-4 it had captured no mode of the ring after 1,500 steps in the 2-D lab
# (what a class waits); at 1e-3, 2 of 8 (and 9 of 25 on the grid); at 2e-3 or 5e-3, none.
_WGAN_TOY_LR = 1e-3
# Hinge + spectral norm: a 1-Lipschitz D learns slowly at a shared lr (on the ring it stayed at
# D(x) = D(G(z)) = 0.03 and captured no mode); the two time-scale rule (Heusel et al. 2017) with
# the SAGAN settings (Zhang et al. 2019: G 1e-4, D 4e-4, Adam(0, 0.9)) captured 6 of 8 modes
# in 3,000 steps. See docs/benchmarks.md.
_HINGE_SN_OPTIM = dict(lr=1e-4, lr_d=4e-4, beta1=0.0, beta2=0.9)
# R1 (gamma 0.1) on the toys: every grid mode on five of five seeds at 10,000 steps where the
# plain GAN drops some, but the modes sharpen slowly, so a longer run with the learning rate
# decayed to 0 (five seeds: every mode, 96.7% high quality on the grid, 97.4% on the ring).
# See docs/benchmarks.md.
_R1_TOY_SCHEDULE = dict(steps=16_000, lr_schedule="linear")


def dataset_group(dataset: str) -> str:
    if dataset not in DATASETS:
        raise ConfigError(f"unknown dataset {dataset!r}; allowed: {', '.join(DATASETS)}")
    spec = DATASETS[dataset]
    if spec.kind == "points":
        return "points"
    return "small" if dataset == "digits" else "images"


def _split(values: dict[str, Any], klass) -> dict[str, Any]:
    names = klass.__dataclass_fields__
    return {k: v for k, v in values.items() if k in names}


def _rules(model: dict[str, Any], group: str) -> dict[str, Any]:
    """Settings that follow from the model a run will have (its variant's options and the
    settings given with it), so `gan --loss wgan-gp` gets what `wgan-gp` gets."""
    if model.get("loss") == "wgan-gp":
        return {**_WGAN, **({"lr": _WGAN_TOY_LR} if group == "points" else {})}
    if model.get("loss") == "hinge" and model.get("spectral_norm"):
        return dict(_HINGE_SN_OPTIM)
    if model.get("r1_weight") and group == "points":
        return dict(_R1_TOY_SCHEDULE)
    return {}


def make_config(variant: str, dataset: str, **overrides: Any) -> RunConfig:
    """A full config for `variant` on `dataset`. Overrides may name any field of the
    model, data, optim or schedule sections (None means: keep the default); they win over
    the defaults and over the rules that follow from the model."""
    if variant not in VARIANTS:
        raise ConfigError(f"unknown model {variant!r}; allowed: {', '.join(VARIANTS)}")
    v = VARIANTS[variant]
    arch = overrides.get("arch") or v.arch
    group = dataset_group(dataset)
    key = (v.family, group, arch)
    if key not in _DEFAULTS:
        raise ConfigError(f"{variant} with the {arch} architecture needs 28, 32 or 64 px images, "
                          f"not {dataset}; use an MLP variant (gan, vae, ...)")
    known = {f for klass in SECTIONS.values() for f in klass.__dataclass_fields__} | {"name"}
    unknown = set(overrides) - known
    if unknown:
        raise ConfigError(f"unknown settings {sorted(unknown)}")
    given = {k: val for k, val in overrides.items() if val is not None}
    values: dict[str, Any] = {**_DEFAULTS[key], **v.options, "arch": arch}
    values.update(_rules({**values, **given}, group))
    values.update(given)
    run_name = str(values.pop("name", "") or "")
    return RunConfig(
        model=replace(ModelConfig(), variant=variant, family=v.family,
                      **_split(values, ModelConfig)),
        data=replace(DataConfig(), **_split(values, DataConfig), name=dataset),
        optim=replace(OptimConfig(), **_split(values, OptimConfig)),
        schedule=replace(ScheduleConfig(), **_split(values, ScheduleConfig)),
        name=run_name,
    )


def with_settings(config: RunConfig, values: dict[str, Any]) -> RunConfig:
    """`config` with single settings changed, by field name (checked as config.json is)."""
    raw = config.to_dict()
    for name, value in values.items():
        section = next((s for s, klass in SECTIONS.items() if name in klass.__dataclass_fields__), None)
        if section is None and name != "name":
            raise ConfigError(f"unknown setting {name!r}")
        (raw[section] if section else raw)[name] = value
    return RunConfig.from_dict(raw)


def fit_batch(config: RunConfig, n_train: int) -> RunConfig:
    """`config` with its batch lowered to the number of training samples when there are fewer
    (a small upload), kept a multiple of a PacGAN's pack; unchanged otherwise."""
    if config.optim.batch_size <= n_train:
        return config
    pack = config.model.pack if config.model.family == "gan" else 1
    batch = max(pack, n_train - n_train % pack)
    return replace(config, optim=replace(config.optim, batch_size=batch))
