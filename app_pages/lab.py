"""2-D lab: watch a small GAN or VAE learn a toy distribution, step by step.

The lab's model lives in this browser session only (it is not a run and is never saved);
while playing, the page trains a few steps and redraws, as often as the browser can show it
(at most 10 times a second).
"""

import time
from dataclasses import dataclass

import streamlit as st

from app_pages.components.shared import guard, presenting
from genlab.config import ConfigError
from genlab.models import curves_for
from genlab.presets import make_config
from genlab.teaching.figures import lab_figure
from genlab.teaching.lab import LAB_VARIANTS, TOYS, LabSettings, ToyLab, default_steps_per_update, mode_reading
from genlab.views.figures import curves_figure

# At most 10 updates a second, so one playing lab leaves CPU to the other sessions.
MIN_UPDATE_S = 0.1
# Updates one run of the playing fragment sends before the browser must ask for the next: the
# most a slow browser can fall behind (docs/benchmarks.md, "2-D lab").
WINDOW_UPDATES = 2
EXPLANATION = (
    "- **GAN**: the background is the discriminator's belief D(x) that a point is real "
    "(red: fake, blue: real; for WGAN-GP and hinge, the raw critic score). The generator moves "
    "the red points uphill on it. Watch for **mode collapse**: red points piling onto a few "
    "modes while the grid of z folds onto them.\n"
    "- **VAE**: the background is the model's density p(x), the average of the decoder's "
    "Gaussians over codes from the prior. It spreads mass between the modes (it must cover "
    "every real point); on the right, the encoder's means μ(x) of real points, coloured by mode, "
    "pushed towards the prior N(0, I) by the KL term.\n"
    "- **Modes captured** follows the PacGAN protocol (ring and grid only).")


@dataclass(frozen=True)
class Choices:
    """What the controls ask of the lab."""

    settings: LabSettings
    steps_per_update: int
    show_surface: bool = True
    show_mesh: bool = True


@dataclass(frozen=True)
class Playing:
    """The play controls: play, one step, reset, and where playing stops."""

    on: bool
    step_once: bool
    reset: bool
    until: int


def tuned(c: list, variant: str, dataset: str, defaults: LabSettings) -> Choices:
    """Every setting of the lab from its sliders (outside presenter mode)."""
    lr_d = make_config(variant, dataset).optim.lr_d  # the toy preset's own discriminator rate, if any
    lr = c[2].select_slider("Learning rate", [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3], value=defaults.lr,
                            key=f"lr-{variant}", format_func=lambda v: f"{v:g}", bind="query-params",
                            help="The generator's (or the VAE's)" + (
                                f"; the discriminator keeps its own, {lr_d:g}" if lr_d else ""))
    hidden = c[3].select_slider("Hidden width", [32, 64, 128, 256], value=defaults.hidden, key="hidden",
                                bind="query-params")
    c = st.columns(4)
    batch = c[0].select_slider("Batch size", [32, 64, 128, 256, 512], value=defaults.batch_size, key="batch",
                               bind="query-params")
    beta = c[1].select_slider("β (VAE)", [0.25, 0.5, 1.0, 2.0, 4.0, 8.0], key="beta", bind="query-params",
                              value=defaults.beta, disabled=not defaults.is_vae)
    per_update = c[2].slider("Steps per update", 1, 50, default_steps_per_update(variant),
                             key=f"per-update-{variant}", bind="query-params")
    seed = int(c[3].number_input("Seed", 0, 10_000, 0, key="lab-seed", bind="query-params"))
    c = st.columns(4)
    surface = c[0].toggle("Density" if defaults.is_vae else "Decision surface", value=True, key="surface")
    mesh = c[1].toggle("Grid of z", value=True, key="mesh", help="The image of a square grid of latent codes")
    settings = LabSettings(variant=variant, dataset=dataset, lr=lr, hidden=hidden, batch_size=batch,
                           beta=beta if defaults.is_vae else 1.0, seed=seed)
    return Choices(settings, per_update, surface, mesh)


def choices(row: list | None) -> Choices:
    """The toy, the model and (outside presenter mode, which keeps the defaults) the settings."""
    c = row or st.columns(4)
    dataset = c[0].selectbox("Toy", TOYS, key="toy", bind="query-params")
    variant = c[1].selectbox("Model", LAB_VARIANTS, key="model", bind="query-params")
    defaults = LabSettings.defaults(variant, dataset)
    if presenting():
        return Choices(defaults, default_steps_per_update(variant))
    return tuned(c, variant, dataset, defaults)


def play_controls(row: list | None) -> Playing:
    c = row[2:5] + [row[5].popover("Step limit", icon=":material/tune:")] if row else st.columns([1, 1, 1, 3])
    on = c[0].toggle("Play", key="lab-play")
    step_once = c[1].button("Step", disabled=on, help="One training step")
    reset = c[2].button("Reset", help="Start again from a fresh model")
    until = int(c[3].number_input("Play up to step", 1, 100_000, 5000, step=1000, key="until",
                                  bind="query-params", help="Playing stops here; raise it to go on."))
    return Playing(on, step_once, reset, until)


def draw(lab: ToyLab, chosen: Choices) -> None:
    """The lab's numbers and figures; on a projector the numbers stand beside the picture, so
    that the picture starts on the first screen."""
    if lab.error:
        st.error(lab.error)
    if presenting():
        picture, side = st.columns([4, 1])
        reading = numbers(lab, [side] * 4)
    else:
        picture = st.container()
        reading, side = numbers(lab, st.columns(4)), st
    if reading:
        side.caption(reading)
    picture.plotly_chart(lab_figure(lab, show_surface=chosen.show_surface, show_mesh=chosen.show_mesh,
                                    height=600 if presenting() else 480), config={"displayModeBar": False})
    if lab.history:
        st.plotly_chart(curves_figure(lab.history, main_keys(lab), title="losses"))


def main_keys(lab: ToyLab) -> list[str]:
    """The keys of the lab model's main chart (a GAN's losses, a VAE's ELBO terms)."""
    return list(curves_for(lab.config.model)[0].keys)


def numbers(lab: ToyLab, cols: list) -> str | None:
    """The step, the modes captured and the samples on a mode, and the main loss, in `cols`;
    returns what the mode numbers mean together, when they need a word."""
    cols[0].metric("Step", lab.step_count)
    modes = lab.modes()
    if modes:
        cols[1].metric("Modes captured", f"{modes['modes_captured']} of {modes['modes_total']}")
        cols[2].metric("Samples on a mode", f"{100 * modes['high_quality']:.0f}%",
                       help="Share of 2,500 samples within 3σ of their nearest mode (PacGAN's "
                            "'high quality'). Read it with Modes captured: a generator that has not "
                            "learned yet, or has collapsed, can put most samples on one mode.")
    main = main_keys(lab)[0]
    last = lab.history[-1] if lab.history else {}
    if main in last:
        cols[3].metric(main, f"{last[main]:.3f}")
    return mode_reading(modes) if modes else None


def live(lab: ToyLab, chosen: Choices, playing: Playing) -> None:
    """The lab's numbers and figures. While playing, a fragment that the browser asks to run
    again once it has taken the last one in: each run trains and redraws WINDOW_UPDATES times
    (at most every MIN_UPDATE_S). So the server runs ahead of a slow browser by one window at
    most, and a pause (a full rerun) stops the picture within about that: a loop with no
    window sent redraws a slow browser replayed for 8-20 s after a pause (#25 item 10)."""
    def trains() -> bool:
        return playing.on and not lab.error and lab.step_count < playing.until

    auto = trains()  # the browser asks for the next window while this run's lab trains

    @st.fragment(run_every=MIN_UPDATE_S if auto else None)
    def window() -> None:
        view = st.empty()
        for update in range(WINDOW_UPDATES):
            tick = time.perf_counter()
            if trains():
                lab.step(min(chosen.steps_per_update, playing.until - lab.step_count))
            with view.container():
                draw(lab, chosen)
                if playing.on and lab.step_count >= playing.until:
                    st.caption(f"Stopped at the limit of {playing.until:,} steps: raise it to go on.")
            if not trains() or update == WINDOW_UPDATES - 1:
                break
            time.sleep(max(0.0, MIN_UPDATE_S - (time.perf_counter() - tick)))
        if auto and not trains():
            st.rerun(scope="app")  # the limit or a divergence: a full run stops the browser asking

    window()


def page() -> None:
    st.title("2-D lab")
    if not presenting():
        st.caption("A small model learns a toy distribution while you watch: blue points are real, red ones "
                   "generated (as on every page); grey lines are the image of a square grid of latent codes.")
    # On a projector: the toy, the model and the buttons in one row, so the picture starts high.
    row = st.columns([2, 2, 1, 1, 1, 1.4]) if presenting() else None
    chosen = choices(row)
    playing = play_controls(row)
    lab: ToyLab | None = st.session_state.get("lab")
    if playing.reset or lab is None or lab.settings != chosen.settings:
        try:
            lab = st.session_state["lab"] = ToyLab(chosen.settings)
        except ConfigError as exc:
            st.error(f"These settings cannot train: {exc}")
            return
    if playing.step_once:
        lab.step(1)
    live(lab, chosen, playing)
    with st.expander("What am I looking at?", expanded=False):
        st.markdown(EXPLANATION)


guard(page)
