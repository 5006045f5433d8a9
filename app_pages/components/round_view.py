"""A Real-or-generated round's results, for the round's page and (live, for the teacher) the
Class page: what people judged real, per run and for the real images, beside each run's FID."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_pages.components.evidence import say
from genlab.store.evaluations import latest_evaluation
from genlab.store.runs import RunError, open_run
from genlab.teaching import rounds
from genlab.views.figures import round_figure


def _evaluation(runs_dir: Path, run_id: str) -> dict:
    try:
        return latest_evaluation(open_run(runs_dir, run_id)) or {}
    except RunError:
        return {}


def result_rows(runs_dir: Path, found: rounds.Round, out: rounds.Results) -> list[dict]:
    """One row per run of the round and one for the real images: judged real, its interval,
    answers, and the run's FID, precision and recall where it is evaluated."""
    rows = []
    for source, share in [*out.runs.items(), ("real test images", out.real)]:
        if not share.answers:
            continue
        low, high = share.interval
        e = _evaluation(runs_dir, source) if source in found.runs else {}
        rows.append({"source": source, "real": source not in found.runs, "rate": share.rate, "low": low,
                     "high": high, "answers": share.answers, "fid": e.get("fid"), "precision": e.get("precision"),
                     "recall": e.get("recall")})
    return rows


def show_results(runs_dir: Path, found: rounds.Round, key: str) -> None:
    """The round's results as a chart, a table and sentences; nothing to show before an answer."""
    out = rounds.results(found, rounds.read_answers(runs_dir, found.id))
    if not out.answers:
        st.caption("No answers yet.")
        return
    rows = result_rows(runs_dir, found, out)
    st.plotly_chart(round_figure(rows), key=f"round-{key}")
    st.dataframe([{"images": r["source"], "judged real": f"{r['rate']:.0%} ({r['low']:.0%} to {r['high']:.0%})",
                   "answers": r["answers"], "FID": "" if r["fid"] is None else f"{r['fid']:.1f}",
                   "precision": "" if r["precision"] is None else f"{r['precision']:.3f}",
                   "recall": "" if r["recall"] is None else f"{r['recall']:.3f}"} for r in rows],
                 hide_index=True, key=f"round-table-{key}")
    st.markdown(f"**{out.players} people** gave {out.answers} answers and were right on **{out.accuracy:.0%}** of "
                "them (50% would mean the generators won; the brackets are 95% intervals).")
    agreement = rounds.fid_agreement(out, {r["source"]: r["fid"] for r in rows if r["fid"] is not None})
    if agreement is not None:
        say([agreement])
