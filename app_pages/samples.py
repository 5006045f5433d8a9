"""Samples: each selected run's fixed-noise grid at any snapshot, real data beside it,
fresh samples from any seed, PNG downloads and a GIF of training."""

import dataclasses
import json
import math
from dataclasses import dataclass

import streamlit as st

from app_pages.components.shared import (
    drawn_width,
    guard,
    model_at,
    picture_file,
    run_dataset,
    run_label,
    show,
    viewable_runs,
)
from genlab.config import SEED_MAX
from genlab.data import DatasetError, DatasetUnavailable
from genlab.store.runs import Run, RunError, RunSummary
from genlab.views.pictures import gif_bytes, picture, png_bytes


@dataclass(frozen=True)
class View:
    """What the controls ask for: the training step, and fresh samples (n from a seed) or not."""

    step: int
    fresh: bool
    seed: int
    n: int


def at_or_before(run_steps: list[int], step: int) -> int:
    """A run's latest snapshot at or before `step` (its first, if none is)."""
    return max((s for s in run_steps if s <= step), default=run_steps[0])


def view_controls(every_step: list[int]) -> View:
    c1, c2, c3 = st.columns([3, 2, 1])  # room for "Fresh samples" in presenter mode
    # One slider of training steps drives every run: each shows its latest snapshot up to that step.
    if len(every_step) > 1:
        step = c1.select_slider("Training step", every_step, value=every_step[-1], key="step", bind="query-params")
    else:
        step = every_step[0]
        c1.caption("Only the first snapshot exists yet; more appear as training goes on.")
    fresh = c2.toggle("Fresh samples", key="fresh", bind="query-params",
                      help="Off: the fixed-noise grid saved during training. On: new samples from a seed.")
    seed = int(c3.number_input("Seed", 0, SEED_MAX, 0, key="seed", bind="query-params", disabled=not fresh))
    n = 64
    if fresh:
        n = st.select_slider("Grid size", [16, 36, 64, 100], value=64, key="n", bind="query-params")
        # A widget's state may only change before it is drawn: in the click's callback.
        st.button("New seed", key="new-seed", on_click=lambda: st.session_state.update(seed=seed + 1))
    return View(step, fresh, seed, n)


def run_column(run: Run, run_steps: list[int], view: View, summaries: list[RunSummary]) -> None:
    """One run's picture at the chosen step (saved, or fresh from the seed), and its GIF."""
    step = at_or_before(run_steps, view.step)
    st.markdown(f"**{run.id}**  \n{run_label(run.id, summaries)} · step {step}")
    try:
        if view.fresh:
            model, _ = model_at(run, step)
            show(model.sample(view.n, view.seed), nrow=int(math.sqrt(view.n)),
                 download=f"{run.id}-step{step}-seed{view.seed}.png")
        else:
            png = run.snapshot_path(step, ".png")
            if picture_file(png):
                st.download_button("Download PNG", png.read_bytes(), file_name=f"{run.id}-step{step}.png",
                                   mime="image/png", key=f"dl-{run.id}")
    except (RunError, OSError) as exc:
        st.error(f"Snapshot {step} cannot be shown: {exc}")
    if st.button("GIF of training", key=f"gif-{run.id}"):
        gif = gif_bytes([(run.snapshot_path(s, ".png"), f"{run.id}, step {s:,}") for s in run_steps])
        st.image(gif, caption="snapshots in order")
        st.download_button("Download GIF", gif, file_name=f"{run.id}.gif", mime="image/gif", key=f"dl-gif-{run.id}")


@st.cache_resource(max_entries=16, show_spinner=False)
def real_picture(data_key: str, width: int, _run: Run) -> bytes:
    """The test data a run trained on (64 images, or 2,000 points), as PNG bytes: drawn once
    per dataset and width for every session, not on every move of the step slider."""
    data = run_dataset(_run)
    if data.kind == "points":
        return png_bytes(picture(data.x_test[:2000], width=width, role="real"))
    return png_bytes(picture(data.x_test[:64], width=width))


def real_column(run: Run) -> None:
    config = run.config().data
    st.markdown(f"**Real data**  \n{config.name}, test split")
    try:
        st.image(real_picture(json.dumps(dataclasses.asdict(config), sort_keys=True), drawn_width(), run),
                 width="content", output_format="PNG")
    except (DatasetError, DatasetUnavailable) as exc:  # the data may have gone since the run trained
        st.warning(f"The real data cannot be shown here: {exc}")


def page() -> None:
    st.title("Samples")
    summaries = viewable_runs()
    if not summaries:
        st.info("No run to show yet. Launch one on the **Train** page.")
        return
    ids = [s.run.id for s in summaries]
    wanted = [r for r in st.query_params.get_all("runs") if r in ids] or ids[:1]
    chosen = st.multiselect("Runs", ids, default=wanted, key="runs")
    if st.query_params.get_all("runs") != chosen:  # in the link, the default run too (see url_select)
        st.query_params["runs"] = chosen
    if not chosen:
        return
    # The bound widget only lets through ids of `summaries`, so every chosen run is at hand.
    by_id = {s.run.id: s.run for s in summaries}
    runs = [by_id[run_id] for run_id in chosen]
    steps = {run.id: run.snapshot_steps() for run in runs}
    view = view_controls(sorted({step for run_steps in steps.values() for step in run_steps}))
    columns = st.columns(len(runs) + 1)
    for col, run in zip(columns, runs):
        with col:
            run_column(run, steps[run.id], view, summaries)
    with columns[-1]:
        real_column(runs[0])


guard(page)
