"""How the pages show a run's evaluation: the numbers with their meaning, and plots."""

from __future__ import annotations

import streamlit as st

from genlab.metrics import MEANINGS, NO_LIKELIHOOD
from genlab.metrics.report import read_evaluations
from genlab.runs import Run
from genlab.viz import histogram_figure, metric_history_figure

# The headline numbers, in the order they are shown.
HEADLINE = ["modes_captured", "high_quality", "fid", "fid_floor", "kid", "kid_floor", "precision", "recall",
            "density", "coverage", "classes_covered", "kl_to_real", "elbo", "iwae", "recon", "kl", "recon_mse",
            "evaluator_accuracy"]


def metric_rows(entry: dict) -> list[dict]:
    """One row per number in an evaluation: metric, value, meaning."""
    rows = []
    for key in HEADLINE:
        value = entry.get(key)
        if isinstance(value, (int, float)):
            if key == "modes_captured":
                value = f"{value} of {entry['modes_total']}"
            elif key == "classes_covered":
                value = f"{value} of {entry['classes_total']}"
            elif key == "iwae":
                key = f"iwae (k={entry.get('iwae_k')})"
            rows.append({"metric": key, "value": value if isinstance(value, str) else f"{value:.4g}",
                         "meaning": MEANINGS[key.split(" ")[0]]})
    return rows


def show_evaluation(run: Run, key: str) -> None:
    """The latest evaluation of a run, its class or mode histogram, and metrics over steps."""
    evaluations = read_evaluations(run)
    if not evaluations:
        st.caption("Not evaluated yet.")
        return
    latest = evaluations[-1]
    st.caption(f"Step {latest['step']}, {latest['n_samples']} samples; features: {latest['feature_space']}.")
    st.dataframe(metric_rows(latest), hide_index=True, key=f"metrics-{key}")
    if "likelihood" in latest:
        st.info(NO_LIKELIHOOD)
    if "histogram" in latest:
        st.plotly_chart(histogram_figure(latest["histogram"], latest.get("classes"),
                                         "Generated samples per class (evaluator's guess)"), key=f"hist-{key}")
    elif "per_mode" in latest:
        st.plotly_chart(histogram_figure(latest["per_mode"], None, "High-quality samples per mode"),
                        key=f"modes-{key}")
    if len(evaluations) > 1:
        keys = ["modes_captured"] if "modes_captured" in latest else ["fid", "fid_floor"]
        st.plotly_chart(metric_history_figure(evaluations, keys, "Over training"), key=f"history-{key}")
