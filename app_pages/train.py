"""Train: choose a model, a dataset (or upload a zip of images) and settings; launch.

The fields have no bounds of their own: a value the browser refused would leave the
previous one in place, and Launch would start a run the user did not ask for. Every value
is checked by the config's own rules on every change instead; while one is wrong the page
says which and why, with the real bounds, and Launch is disabled.
"""

from dataclasses import dataclass
from typing import Any

import streamlit as st

from app_pages.components.login import current_user
from app_pages.components.shared import (
    dataset,
    estimated_step_rate,
    guard,
    runs_dir,
    show,
    upload_content_id,
    uploaded_dataset,
)
from genlab import jobs, settings
from genlab.classroom.uploads import UPLOAD_LIMIT_MB, upload_path
from genlab.config import GAN_LOSSES, LIKELIHOODS, PRIORS, ConfigError, RunConfig
from genlab.data import DATASETS, Dataset, DatasetError, DatasetUnavailable, availability
from genlab.models import VARIANTS
from genlab.presets import fit_batch, make_config
from genlab.store.runs import RunError
from genlab.training.trainer import check_config
from genlab.views.overview import duration, folder_note

LONG_RUN_S = 3600  # a run longer than this gets a warning before Launch


@dataclass(frozen=True)
class Source:
    """The data the form has chosen: a dataset's name and how it is read, loaded; with the
    uploaded zip (still in memory) when it is the user's own."""

    name: str
    data: Dataset
    path: str | None = None
    image_size: int = 28
    color: str = "grey"
    upload: Any = None  # Streamlit's UploadedFile

    def config(self, variant: str, **values: Any) -> RunConfig:
        return make_config(variant, self.name, path=self.path, image_size=self.image_size, color=self.color,
                           **values)


def choose_model() -> tuple[str, str]:
    """The family ("gan" or "vae") and the variant."""
    family = (st.segmented_control("Family", ["GAN", "VAE"], default="GAN", key="family") or "GAN").lower()
    variants = [v for v in VARIANTS.values() if v.family == family]
    variant = st.selectbox("Model", [v.name for v in variants], key="variant",
                           format_func=lambda n: f"{n} — {VARIANTS[n].description}")
    return family, variant


def choose_upload() -> Source | None:
    """A zip of the user's images, read from memory (written to disk only when a run is launched on it)."""
    upload = st.file_uploader("A .zip of your images (subfolders become classes)", type=["zip"],
                              max_upload_size=UPLOAD_LIMIT_MB)
    c1, c2 = st.columns(2)
    image_size = c1.selectbox("Image size (px)", [28, 32, 64], key="image_size")
    color = c2.selectbox("Colour", ["grey", "rgb"], key="color")
    if upload is None:
        st.info("Upload a .zip of PNG, JPEG, BMP or WebP images to train on them.")
        return None
    content = upload_content_id(upload.file_id, upload.getvalue())
    data = uploaded_dataset(upload.file_id, upload.getvalue(), upload.name, image_size, color)
    st.caption(folder_note(data.info()))
    preview = data.x_train[:16]
    show(preview, nrow=8, width=480, role="real",
         caption=f"What the model will see: {len(preview)} of the {len(data.x_train)} training images, decoded at "
                 f"{image_size} px in {color} (transparency over white)")
    return Source("folder", data, str(upload_path(content, upload.name, current_user())), image_size, color, upload)


def choose_data() -> Source | None:
    """The dataset, loaded (None, with the reason shown, when it cannot be used)."""
    status = {n: availability(n) for n in DATASETS}
    name = st.selectbox("Dataset", list(DATASETS), key="dataset",
                        format_func=lambda n: f"{n} — {DATASETS[n].description}"
                        + ("" if status[n][0] or n == "folder" else f" (not here: {status[n][1]})"))
    try:
        if name == "folder":
            return choose_upload()
        ok, why = status[name]
        st.caption(f"{name}: {why}")
        if not ok:
            st.warning(f"This dataset cannot be used now: {why}.")
            return None
        return Source(name, dataset(name, None, 28, "grey"))
    except (DatasetError, DatasetUnavailable) as exc:
        st.error(f"{exc}.")
        return None


def model_fields(family: str, defaults: RunConfig, k: str) -> dict[str, Any]:
    """The settings of the form's first two rows (keys include the model and data, so their
    defaults follow when either changes)."""
    c1, c2, c3, c4 = st.columns(4)
    values = dict(
        steps=c1.number_input("Steps", value=defaults.schedule.steps, step=100, key=f"steps-{k}"),
        batch_size=c2.number_input("Batch size", value=defaults.optim.batch_size, key=f"batch-{k}"),
        lr=c3.number_input("Learning rate", value=defaults.optim.lr, step=1e-4, format="%g", key=f"lr-{k}"),
        latent_dim=c4.number_input("Latent size", value=defaults.model.latent_dim, key=f"latent-{k}"),
    )
    c1, c2, c3, c4 = st.columns(4)
    values["seed"] = c1.number_input("Seed", value=0, key=f"seed-{k}")
    if family == "gan":
        values["loss"] = c2.selectbox("Objective", GAN_LOSSES, index=GAN_LOSSES.index(defaults.model.loss),
                                      key=f"loss-{k}")
        values["n_critic"] = c3.number_input("D steps per G step", value=defaults.model.n_critic,
                                             key=f"ncritic-{k}")
    else:
        values["beta"] = c2.number_input("beta (KL weight)", value=defaults.model.beta, format="%g", key=f"beta-{k}")
        values["likelihood"] = c3.selectbox("Likelihood", LIKELIHOODS,
                                            index=LIKELIHOODS.index(defaults.model.likelihood), key=f"lik-{k}")
    values["name"] = c4.text_input("Name (optional)", key=f"name-{k}", max_chars=40) or None
    return values


def sampling_fields(family: str, k: str) -> dict[str, Any]:
    """The prior, truncation, training subset and evaluation settings."""
    values: dict[str, Any] = {}
    c1, c2, c3, _ = st.columns(4)
    if family == "gan":  # a VAE keeps the normal prior its KL term is measured against
        values["prior"] = c1.selectbox("Latent prior p(z)", PRIORS, key=f"prior-{k}",
                                       help="normal: N(0, I); uniform: on [-1, 1] in every dimension")
        values["truncation"] = c2.number_input(
            "Sampling truncation (0: none)", value=0.0, format="%g", key=f"truncation-{k}",
            help="Sample the normal prior cut at |z| <= t (the truncation trick); training is unchanged") or None
    values["train_subset"] = c3.number_input(
        "Train on the first N samples (0: all)", value=0, key=f"subset-{k}",
        help="A small subset trained on for long shows whether a model copies its training data") or None
    values["evaluate"] = st.checkbox("Evaluate at every snapshot (slower; plots metrics against steps)",
                                     key="evaluate-at-snapshots")
    return values


def checked_config(source: Source, variant: str, values: dict[str, Any]) -> tuple[RunConfig | None, str | None]:
    """The run the form describes, or the first reason it cannot be launched."""
    try:
        config = source.config(variant, **values)
        check_config(config, source.data)
        return config, None
    except ConfigError as exc:
        return None, str(exc)


def estimate_problem(config: RunConfig, data: Dataset) -> str | None:
    """Show the estimated training time; for a student, why the run is too long for the
    class's limit (the run would also stop there: genlab enforces it while it trains)."""
    rate = estimated_step_rate(config, data)
    seconds = config.schedule.steps / rate
    line = (f"Estimated training time: about {duration(seconds)} ({config.schedule.steps:,} steps at "
            f"{rate:,.1f} steps/s, timed on this machine just now; snapshots and evaluation add to it).")
    (st.warning if seconds > LONG_RUN_S else st.caption)(line)
    user, limit = current_user(), settings.student_max_minutes() * 60
    if user is not None and not user.teacher and seconds > limit:
        return (f"about {duration(seconds)} is longer than the {duration(limit)} a student's run may train in this "
                f"class; try fewer steps (about {int(config.schedule.steps * limit / seconds):,} fit)")
    return None


def launch(config: RunConfig, source: Source) -> None:
    upload = jobs.Upload(source.upload.getvalue(), source.upload.name) if source.upload is not None else None
    try:  # the upload is kept (within the user's quota) only if the run is accepted
        run = jobs.launch(config, runs_dir(), user=current_user(), upload=upload)
    except (ConfigError, RunError) as exc:
        st.error(str(exc))
        return
    except OSError as exc:  # a full disk: launch left nothing behind
        st.error(f"The run could not be written ({exc.strerror or exc}); nothing was kept. Free some space and "
                 "launch again.")
        return
    st.switch_page("app_pages/runs.py", query_params={"run": run.id})


def page() -> None:
    st.title("Train a model")
    family, variant = choose_model()
    source = choose_data()
    if source is None:
        return
    try:
        preset = source.config(variant)
    except ConfigError as exc:
        st.error(str(exc))
        return
    defaults = fit_batch(preset, len(source.data.x_train))
    if defaults.optim.batch_size != preset.optim.batch_size:
        st.caption(f"Batch size lowered from {preset.optim.batch_size} to {defaults.optim.batch_size} "
                   f"to fit the {len(source.data.x_train)} training images.")
    st.subheader("Settings")
    k = f"{variant}-{source.name}-{source.path}"
    values = {**model_fields(family, defaults, k), **sampling_fields(family, k)}
    config, problem = checked_config(source, variant, values)
    if config is not None:
        problem = estimate_problem(config, source.data)
        config = None if problem else config
    if problem:
        st.error(f"Cannot launch yet: {problem}.")
    if st.button("Launch", type="primary", key="launch", disabled=config is None):
        launch(config, source)


guard(page)
