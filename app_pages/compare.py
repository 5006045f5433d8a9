"""Compare: a GAN run and a VAE run side by side, from the same seeds."""

from dataclasses import dataclass

import streamlit as st
import torch

from app_pages.components.metrics_view import show_evaluation
from app_pages.components.shared import controls, guard, model_at, pick_gan_and_vae, show, viewable_runs
from genlab.config import SEED_MAX
from genlab.models import GenerativeModel, curves_for
from genlab.models.latent import interpolate
from genlab.models.speed import samples_per_second
from genlab.store.runs import Run
from genlab.training.device import describe
from genlab.views.figures import curves_figure

SPEED_NOTE = ("Both make a sample in one pass of one network (the generator, or the VAE's decoder), so "
              "their speed follows their size. Iterative samplers need many passes per sample: a "
              "diffusion model tens to a thousand denoising steps, an autoregressive model one pass "
              "per pixel or token.")


@st.cache_data(ttl=900, show_spinner="Timing generation…")
def generation_speed(run_path: str, step: int, device: str, _model: GenerativeModel) -> tuple[float, float]:
    """Samples per second at batch 1 and at batch 256, once per run, snapshot and device."""
    return samples_per_second(_model, 1), samples_per_second(_model, 256)


def speed_line(run: Run, model: GenerativeModel, step: int) -> str:
    one, many = generation_speed(str(run.path), step, str(model.device), model)
    return f"- generation: {one:,.0f} samples/s one at a time, {many:,.0f}/s in batches of 256"


@dataclass(frozen=True)
class Seeds:
    """The seeds both columns sample from, and how the walk between them goes."""

    seed: int
    seed_b: int
    spherical: bool


def seeds() -> Seeds:
    c1, c2, c3 = st.columns(3)
    seed = int(c1.number_input("Seed", 0, SEED_MAX, 0, key="seed", bind="query-params"))
    seed_b = int(c2.number_input("Second seed (interpolation)", 0, SEED_MAX, 1, key="seed_b", bind="query-params"))
    return Seeds(seed, seed_b, c3.toggle("Spherical (slerp)", key="slerp", bind="query-params"))


def column(name: str, run: Run, model: GenerativeModel, step: int, pick: Seeds) -> None:
    """One side of the comparison: samples and a walk from the seeds, the model's facts, its
    training curves and its evaluation."""
    config, status = run.config(), run.status()
    st.markdown(f"#### {name}: {run.id}")
    show(model.sample(36, pick.seed), caption=f"36 samples, seed {pick.seed}, step {step}", nrow=6,
         download=f"{run.id}-seed{pick.seed}.png")
    strip = interpolate(model.codes(1, pick.seed), model.codes(1, pick.seed_b), 8, pick.spherical)
    show(model.generate(strip), caption=f"seed {pick.seed} → seed {pick.seed_b}", nrow=8, role="walk")
    counts = model.parameter_counts()
    st.markdown(
        f"- model: **{config.model.variant}** on **{config.data.name}**, latent size {model.latent_dim}\n"
        f"- parameters: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + "\n"
        f"- trained {status.get('step', 0)} steps in {float(status.get('elapsed_s') or 0):.0f} s "
        f"on {status.get('device') or '?'}\n" + speed_line(run, model, step))
    main = curves_for(config.model)[0]
    st.plotly_chart(curves_figure(run.metrics(), list(main.keys), smoothing=0.6, title="training curves"),
                    key=f"curves-{name}")
    st.markdown("**Evaluation**")
    show_evaluation(run, key=name)


def page() -> None:
    st.title("GAN vs VAE")
    with controls():
        gan_run, vae_run = pick_gan_and_vae(viewable_runs())
        if gan_run is None or vae_run is None:
            st.info("Compare needs one GAN run and one VAE run with snapshots.")
            return
        pick = seeds()

    models = {"GAN": (gan_run, *model_at(gan_run)), "VAE": (vae_run, *model_at(vae_run))}
    datasets = [run.config().data.name for run in (gan_run, vae_run)]
    if datasets[0] != datasets[1]:
        st.warning(f"These runs trained on different data ({datasets[0]} and {datasets[1]}): their samples and "
                   "numbers do not compare like for like. Pick two runs on the same data.")
    elif models["GAN"][1].latent_dim == models["VAE"][1].latent_dim:
        st.caption("Same latent size: both decode exactly the same z.")
    else:
        st.caption("Different latent sizes: both decode z drawn from the same seeds, but the codes differ.")

    for col, (name, (run, model, step)) in zip(st.columns(2), models.items()):
        with col, torch.no_grad():
            column(name, run, model, step, pick)
    device = models["GAN"][1].device
    threads = f", {torch.get_num_threads()} thread(s)" if device.type == "cpu" else ""
    st.caption(f"Generation speed measured here, on {describe(device)}{threads}. {SPEED_NOTE}")


guard(page)
