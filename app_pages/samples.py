"""Samples: each selected run's fixed-noise grid at any snapshot, real data beside it,
fresh samples from any seed, PNG downloads and a GIF of training."""

import math

import streamlit as st

from genlab.data import DatasetError, DatasetUnavailable
from genlab.runs import RunError
from genlab.viz import gif_bytes
from app_pages.components.shared import model_at, run_dataset, run_label, show, viewable_runs

st.title("Samples")

summaries = viewable_runs()
if not summaries:
    st.info("No run to show yet. Launch one on the **Train** page.")
    st.stop()
ids = [s.run.id for s in summaries]
chosen = st.multiselect("Runs", ids, default=ids[:1], key="runs", bind="query-params")
if not chosen:
    st.stop()

# The bound widget only lets through ids of `summaries`, so every chosen run is at hand.
by_id = {s.run.id: s.run for s in summaries}
runs = [by_id[run_id] for run_id in chosen]
steps = {run.id: run.snapshot_steps() for run in runs}
every_step = sorted({step for run_steps in steps.values() for step in run_steps})


def at_or_before(run_steps: list[int], step: int) -> int:
    """A run's latest snapshot at or before `step` (its first, if none is)."""
    return max((s for s in run_steps if s <= step), default=run_steps[0])


c1, c2, c3 = st.columns([3, 2, 1])  # room for "Fresh samples" in presenter mode
# One slider of training steps drives every run: each shows its latest snapshot up to that step.
if len(every_step) > 1:
    chosen_step = c1.select_slider("Training step", every_step, value=every_step[-1], key="step",
                                   bind="query-params")
else:
    chosen_step = every_step[0]
    c1.caption("Only the first snapshot exists yet; more appear as training goes on.")
fresh = c2.toggle("Fresh samples", key="fresh", bind="query-params",
                  help="Off: the fixed-noise grid saved during training. On: new samples from a seed.")
seed = c3.number_input("Seed", 0, 2**31 - 1, 0, key="seed", bind="query-params", disabled=not fresh)
if fresh:
    n = st.select_slider("Grid size", [16, 36, 64, 100], value=64, key="n", bind="query-params")
    # A widget's state may only change before it is drawn: in the click's callback.
    st.button("New seed", key="new-seed", on_click=lambda: st.session_state.update(seed=int(seed) + 1))

columns = st.columns(len(runs) + 1)
for col, run in zip(columns, runs):
    with col:
        run_steps = steps[run.id]
        step = at_or_before(run_steps, chosen_step)
        st.markdown(f"**{run.id}**  \n{run_label(run.id, summaries)} · step {step}")
        try:
            if fresh:
                model, _ = model_at(run, step)
                show(model.sample(n, int(seed)), nrow=int(math.sqrt(n)), download=f"{run.id}-step{step}-seed{seed}.png")
            else:
                png = run.snapshot_path(step, ".png")
                st.image(str(png), width="content")
                st.download_button("Download PNG", png.read_bytes(), file_name=f"{run.id}-step{step}.png",
                                   mime="image/png", key=f"dl-{run.id}")
        except (RunError, OSError) as exc:
            st.error(f"Snapshot {step} cannot be shown: {exc}")
        if st.button("GIF of training", key=f"gif-{run.id}"):
            frames = [run.snapshot_path(s, ".png") for s in run_steps]
            gif = gif_bytes([f for f in frames if f.exists()])
            st.image(gif, caption="snapshots in order")
            st.download_button("Download GIF", gif, file_name=f"{run.id}.gif", mime="image/gif",
                               key=f"dl-gif-{run.id}")

with columns[-1]:
    first = runs[0]
    st.markdown(f"**Real data**  \n{first.config().data.name}, test split")
    try:
        data = run_dataset(first)
        if data.kind == "points":
            show(data.x_test[:2000], role="real")
        else:
            show(data.x_test[:64])
    except (DatasetError, DatasetUnavailable) as exc:  # the data may have gone since the run trained
        st.warning(f"The real data cannot be shown here: {exc}")
