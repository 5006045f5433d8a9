"""How the pages show a run's evaluation: the numbers with their meaning, and plots."""

from __future__ import annotations

import streamlit as st

from genlab.metrics import NO_LIKELIHOOD
from genlab.metrics.report import metric_rows
from genlab.runs import Run
from genlab.viz import histogram_figure, metric_history_figure


def show_evaluation(run: Run, key: str) -> None:
    """The latest evaluation of a run, its class or mode histogram, and metrics over steps."""
    evaluations = run.evaluations()
    if not evaluations:
        st.caption("Not evaluated yet.")
        return
    latest = evaluations[-1]
    st.caption(f"Step {latest['step']}, {latest.get('n_samples', '?')} samples; "
               f"features: {latest.get('feature_space', '?')}.")
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
