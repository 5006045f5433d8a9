"""Train: choose a model, a dataset (or upload a zip of images) and settings; launch."""

import streamlit as st

from genlab import jobs
from genlab.config import GAN_LOSSES, LIKELIHOODS, ConfigError
from genlab.data import DATASETS, DatasetError, DatasetUnavailable, availability
from genlab.models import VARIANTS
from genlab.presets import make_config
from genlab.train import check_config
from genlab.uploads import UPLOAD_LIMIT_MB, store_upload
from app_pages.components.shared import dataset, runs_dir

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
                    + ("" if status[n][0] else f" (not here: {status[n][1]})"))
ok, why = status[name]
st.caption(f"{name}: {why}")

data_path, image_size, color = None, 28, "grey"
if name == "folder":
    upload = st.file_uploader("A .zip of your images (subfolders become classes)", type=["zip"],
                              max_upload_size=UPLOAD_LIMIT_MB)
    c1, c2 = st.columns(2)
    image_size = c1.selectbox("Image size (px)", [28, 32, 64], key="image_size")
    color = c2.selectbox("Colour", ["grey", "rgb"], key="color")
    if upload is None:
        ok, why = False, "upload a zip of images first"
    else:
        data_path = str(store_upload(upload.getvalue()))

if not ok:
    st.warning(f"This dataset cannot be used now: {why}.")
    st.stop()

try:
    defaults = make_config(variant, name, path=data_path, image_size=image_size, color=color)
except ConfigError as exc:
    st.error(str(exc))
    st.stop()

# Widget keys include the model and dataset, so defaults follow when either changes.
k = f"{variant}-{name}"
st.subheader("Settings")
c1, c2, c3, c4 = st.columns(4)
steps = c1.number_input("Steps", 1, 1_000_000, defaults.schedule.steps, key=f"steps-{k}")
batch = c2.number_input("Batch size", 1, 4096, defaults.optim.batch_size, key=f"batch-{k}")
lr = c3.number_input("Learning rate", 1e-6, 1.0, defaults.optim.lr, format="%.5f", key=f"lr-{k}")
latent = c4.number_input("Latent size", 1, 1024, defaults.model.latent_dim, key=f"latent-{k}")
c1, c2, c3, c4 = st.columns(4)
seed = c1.number_input("Seed", 0, 2**31 - 1, 0, key=f"seed-{k}")
overrides = {}
if family == "gan":
    overrides["loss"] = c2.selectbox("Objective", GAN_LOSSES, index=GAN_LOSSES.index(defaults.model.loss),
                                     key=f"loss-{k}")
    overrides["n_critic"] = c3.number_input("D steps per G step", 1, 20, defaults.model.n_critic,
                                            key=f"ncritic-{k}")
else:
    overrides["beta"] = c2.number_input("beta (KL weight)", 0.0, 100.0, defaults.model.beta, key=f"beta-{k}")
    overrides["likelihood"] = c3.selectbox("Likelihood", LIKELIHOODS,
                                           index=LIKELIHOODS.index(defaults.model.likelihood), key=f"lik-{k}")
run_name = c4.text_input("Name (optional)", key=f"name-{k}", max_chars=40)
evaluate = st.checkbox("Evaluate at every snapshot (slower; plots metrics against steps)", key="evaluate-at-snapshots")

if st.button("Launch", type="primary", key="launch"):
    try:
        config = make_config(variant, name, steps=int(steps), batch_size=int(batch), lr=float(lr),
                             latent_dim=int(latent), seed=int(seed), path=data_path, image_size=image_size,
                             color=color, name=run_name or None, evaluate=evaluate, **overrides)
        with st.spinner("Checking the data…"):
            data = dataset(name, data_path, image_size, color)
        check_config(config, data)
    except (ConfigError, DatasetError, DatasetUnavailable) as exc:
        st.error(str(exc))
        st.stop()
    run = jobs.launch(config, runs_dir())
    st.switch_page("app_pages/runs.py", query_params={"run": run.id})
