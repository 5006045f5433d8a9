"""How the pages show a run's evaluation: the numbers with their meaning, and plots."""

from __future__ import annotations

import streamlit as st

from app_pages.components.shared import METRIC_COLUMNS, model_at, run_dataset, show
from genlab.metrics import NO_LIKELIHOOD
from genlab.metrics.evaluate import nearest_training_images
from genlab.metrics.memorisation import verdict
from genlab.store.runs import Run
from genlab.views.figures import histogram_figure, metric_history_figure
from genlab.views.metric_info import covered_line, metric_rows, repair_rows, training_data_lines


def show_evaluation(run: Run, key: str) -> None:
    """The latest evaluation of a run, its class or mode histogram, and metrics over steps."""
    evaluations = run.evaluations()
    if not evaluations:
        st.caption("Not evaluated yet.")
        return
    latest = evaluations[-1]
    st.caption(f"Step {latest['step']}, {latest.get('n_samples', '?')} samples; "
               f"features: {latest.get('feature_space', '?')}.")
    st.dataframe(metric_rows(latest), hide_index=True, key=f"metrics-{key}", column_config=METRIC_COLUMNS)
    if "likelihood" in latest:
        st.info(NO_LIKELIHOOD)
    if "memorisation" in latest:
        show_memorisation(run, latest, key)
    if "repair" in latest:
        st.markdown("**Repairing test images** (hidden pixels: those the damage took)")
        st.dataframe(repair_rows(latest), hide_index=True, key=f"repair-{key}")
    for line in training_data_lines(latest):
        st.caption(line)
    if "histogram" in latest:
        st.plotly_chart(histogram_figure(latest["histogram"], latest.get("classes"),
                                         "Generated samples per class (evaluator's guess)", covered_line(latest)),
                        key=f"hist-{key}")
    elif "per_mode" in latest:
        st.plotly_chart(histogram_figure(latest["per_mode"], None, "High-quality samples per mode"),
                        key=f"modes-{key}")
    if len(evaluations) > 1:
        keys = ["modes_captured"] if "modes_captured" in latest else ["fid", "fid_floor"]
        st.plotly_chart(metric_history_figure(evaluations, keys, "Over training"), key=f"history-{key}")


def show_memorisation(run: Run, entry: dict, key: str) -> None:
    """The memorisation numbers in words, and (on request) samples over their nearest
    training images."""
    st.caption(memorisation_sentence(entry))
    if st.toggle("Show samples beside their nearest training images", key=f"nearest-{key}"):
        nearest_twins(run, entry)


def memorisation_sentence(entry: dict) -> str:
    m = entry["memorisation"]
    return (f"Memorisation: the samples' median distance to their nearest training image is "
            f"{m['median_train_distance']:.3g}, to their nearest test image {m['median_test_distance']:.3g} "
            f"(ratio {m['ratio']:.2f}; {m['closer_to_train']:.0%} of samples are closer to a training "
            f"image), so they are {verdict(m['ratio'])}.")


def nearest_twins(run: Run, entry: dict) -> None:
    """8 samples of the evaluated snapshot above the training image nearest each."""
    reference = entry["memorisation"]["n_reference"]
    model, step = model_at(run, entry["step"])
    fake, twins, distance = nearest_training_images(model, run_dataset(run), 8, reference)
    show(fake, caption=f"{run.id}: 8 samples at step {step}", nrow=8)
    show(twins, caption=f"the training image nearest each, among the {reference:,} the ratio uses (distances "
                        + ", ".join(f"{d:.2g}" for d in distance.tolist()) + ")", nrow=8, role="real")
