"""Train: choose a model, a dataset (or upload a zip of images) and settings; launch.

The fields have no bounds of their own: a value the browser refused would leave the
previous one in place, and Launch would start a run the user did not ask for. Every value
is checked by the config's own rules on every change instead; while one is wrong the page
says which and why, with the real bounds, and Launch is disabled.
"""

import dataclasses
import json

import streamlit as st

from genlab import jobs
from genlab.config import GAN_LOSSES, LIKELIHOODS, ConfigError, RunConfig, ScheduleConfig
from genlab.priors import PRIORS
from genlab.data import DATASETS, DatasetError, DatasetUnavailable, availability
from genlab.device import pick_device
from genlab.estimate import duration, measure_step_rate
from genlab.models import VARIANTS
from genlab.overview import folder_note
from genlab.presets import fit_batch, make_config
from genlab.train import check_config
from genlab.uploads import UPLOAD_LIMIT_MB, store_upload, upload_path
from app_pages.components.login import current_user
from app_pages.components.shared import dataset, runs_dir, upload_content_id, uploaded_dataset

LONG_RUN_S = 3600  # a run longer than this gets a warning before Launch

st.title("Train a model")

family = st.segmented_control("Family", ["GAN", "VAE"], default="GAN", key="family")
family = (family or "GAN").lower()
variants = [v for v in VARIANTS.values() if v.family == family]
variant = st.selectbox("Model", [v.name for v in variants], key="variant",
                       format_func=lambda n: f"{n} — {VARIANTS[n].description}")

names = list(DATASETS)
status = {n: availability(n) for n in names}
name = st.selectbox("Dataset", names, key="dataset",
                    format_func=lambda n: f"{n} — {DATASETS[n].description}"
                    + ("" if status[n][0] or n == "folder" else f" (not here: {status[n][1]})"))

data_path, image_size, color, upload = None, 28, "grey", None
if name == "folder":
    upload = st.file_uploader("A .zip of your images (subfolders become classes)", type=["zip"],
                              max_upload_size=UPLOAD_LIMIT_MB)
    c1, c2 = st.columns(2)
    image_size = c1.selectbox("Image size (px)", [28, 32, 64], key="image_size")
    color = c2.selectbox("Colour", ["grey", "rgb"], key="color")
    if upload is None:
        st.info("Upload a .zip of PNG, JPEG, BMP or WebP images to train on them.")
        st.stop()
    # Read from memory for now; written to disk (here) only when a run is launched on it.
    content = upload_content_id(upload.file_id, upload.getvalue())
    data_path = str(upload_path(content, upload.name, current_user()))
else:
    ok, why = status[name]
    st.caption(f"{name}: {why}")
    if not ok:
        st.warning(f"This dataset cannot be used now: {why}.")
        st.stop()

try:
    if upload is not None:
        data = uploaded_dataset(upload.file_id, upload.getvalue(), upload.name, image_size, color)
    else:
        data = dataset(name, None, image_size, color)
except (DatasetError, DatasetUnavailable) as exc:
    st.error(f"{exc}.")
    st.stop()
if upload is not None:
    st.caption(folder_note(data.info()))

try:
    preset = make_config(variant, name, path=data_path, image_size=image_size, color=color)
except ConfigError as exc:
    st.error(str(exc))
    st.stop()
defaults = fit_batch(preset, len(data.x_train))
if defaults.optim.batch_size != preset.optim.batch_size:
    st.caption(f"Batch size lowered from {preset.optim.batch_size} to {defaults.optim.batch_size} "
               f"to fit the {len(data.x_train)} training images.")

# Widget keys include the model and dataset (and the upload), so defaults follow when one changes.
k = f"{variant}-{name}-{data_path}"
st.subheader("Settings")
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
    values["n_critic"] = c3.number_input("D steps per G step", value=defaults.model.n_critic, key=f"ncritic-{k}")
else:
    values["beta"] = c2.number_input("beta (KL weight)", value=defaults.model.beta, format="%g", key=f"beta-{k}")
    values["likelihood"] = c3.selectbox("Likelihood", LIKELIHOODS,
                                        index=LIKELIHOODS.index(defaults.model.likelihood), key=f"lik-{k}")
run_name = c4.text_input("Name (optional)", key=f"name-{k}", max_chars=40)
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
evaluate = st.checkbox("Evaluate at every snapshot (slower; plots metrics against steps)", key="evaluate-at-snapshots")


def checked_config() -> tuple[RunConfig | None, str | None]:
    """The run the form describes, or the first reason it cannot be launched."""
    try:
        config = make_config(variant, name, path=data_path, image_size=image_size, color=color,
                             name=run_name or None, evaluate=evaluate, **values)
        check_config(config, data)
        return config, None
    except ConfigError as exc:
        return None, str(exc)


@st.cache_data(ttl=900, max_entries=32, show_spinner="Timing a few training steps on this machine…")
def step_rate(timed: str) -> float:
    """Steps per second of a config (as JSON, its schedule left at the defaults), measured here."""
    config = RunConfig.from_dict(json.loads(timed))
    return measure_step_rate(config, data, pick_device(config.schedule.device))


def show_estimate(config: RunConfig) -> None:
    timed = dataclasses.replace(config, schedule=ScheduleConfig(device=config.schedule.device), name="")
    rate = step_rate(json.dumps(timed.to_dict(), sort_keys=True))
    seconds = config.schedule.steps / rate
    line = (f"Estimated training time: about {duration(seconds)} ({config.schedule.steps:,} steps at "
            f"{rate:,.1f} steps/s, timed on this machine just now; snapshots and evaluation add to it).")
    (st.warning if seconds > LONG_RUN_S else st.caption)(line)


config, problem = checked_config()
if problem:
    st.error(f"Cannot launch yet: {problem}.")
else:
    show_estimate(config)
if st.button("Launch", type="primary", key="launch", disabled=config is None):
    try:
        if upload is not None:
            store_upload(upload.getvalue(), upload.name, current_user())  # within the user's quota
        run = jobs.launch(config, runs_dir(), user=current_user())
    except ConfigError as exc:
        st.error(str(exc))
        st.stop()
    st.switch_page("app_pages/runs.py", query_params={"run": run.id})
