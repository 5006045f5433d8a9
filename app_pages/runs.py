"""Runs: the runs with their state and progress (a student's own and the demos, or everyone's),
live while they train; one run's curves and controls."""

from pathlib import Path
from typing import Any

import streamlit as st

from app_pages.components.login import current_user
from app_pages.components.metrics_view import show_evaluation
from app_pages.components.shared import (
    guard,
    is_live,
    picture_file,
    run_watcher,
    runs_dir,
    runs_listing,
    url_select,
)
from genlab import jobs, settings
from genlab.classroom.access import may_change, owner_of
from genlab.config import ConfigError
from genlab.models import curves_for
from genlab.store.listing import file_stamp
from genlab.store.runs import Run, RunError, RunSummary, open_run
from genlab.views.figures import curves_figure, kl_per_dim_figure
from genlab.views.overview import Progress, duration, folder_note, progress, queue_notes


def time_left(state: str, p: Progress) -> str:
    """'about 12 min' for a running run that has timed some steps, else '-'."""
    return f"about {duration(p.left_s)}" if state == "running" and p.left_s is not None else "-"


def queue_places(summaries: list[RunSummary]) -> dict[str, str]:
    """Each queued run's place in the fair queue and about when a slot frees for it."""
    queued = [s for s in summaries if s.state == "queued"]
    if not queued:
        return {}
    others = [s for s in summaries if s.status and s.state != "queued"]
    live = [s for s in others if s.state in ("starting", "running")]
    try:
        slots = jobs.max_jobs()
    except ConfigError:  # the executor cannot say now (a cluster out of reach)
        slots = len(live)
    return queue_notes(jobs.fair_order(queued, others), live, slots)


def _column(width: int, label: str | None = None, help: str | None = None) -> st.column_config.Column:
    return st.column_config.TextColumn(label, width=width, help=help)


# Widths in pixels that fit the 818 px a 1280 px screen leaves beside the sidebar, with a
# class's user column (810 px; tests/test_browser.py measures it); long texts are cut in their cell, and a run's problem
# is said whole under the table.
COLUMNS = {"run": _column(155), "model": _column(80), "dataset": _column(90), "user": _column(70),
           "state": _column(80),
           "progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0, format="percent",
                                                       width=70),
           "step": _column(80), "time": _column(85, help="training time and what is left, or the place in "
                                                          "the queue"),
           "device": _column(55, help="the whole name is in the run's own line below"),
           "problem": _column(45, help="said whole under the table")}


LIVE_EVERY_S = 2
PICTURES_EVERY_S = 10


def whose_runs() -> str | None:
    """Whose runs the table lists: a student's own (and the demos) unless they ask for everyone's
    (the Class page shows the class's runs); None, every run's, for the teacher and outside a class."""
    user = current_user()
    if user is None or user.teacher:
        return None
    everyone = st.toggle("Everyone's runs", key="everyone", bind="query-params",
                         help="Off: yours and the demos. Every run of the class is also on the Class page.")
    return None if everyone else user.name


def in_scope(s: RunSummary, owner: str | None) -> bool:
    return owner is None or s.status.get("user") in (owner, None)


def tables(summaries: list[RunSummary], owner: str | None) -> None:
    """The runs that are queued, training or being evaluated, live, above the others, drawn
    once: an ended run moves down when the page is drawn again."""
    summaries = [s for s in summaries if in_scope(s, owner)]
    if not summaries:
        st.info("No runs yet. Launch one on the Train page." if owner is None else
                "No runs of yours yet. Launch one on the Train page, or switch on Everyone's runs.")
        return
    live = [s for s in summaries if is_live(s)]
    if live:
        st.fragment(live_table, run_every=LIVE_EVERY_S)([s.run.id for s in live], owner)
    live_ids = {s.run.id for s in live}
    done = [s for s in summaries if s.run.id not in live_ids]
    if done:
        if live:
            st.caption("Ended")
        runs_table(done, {})


def live_table(shown: list[str], owner: str | None) -> None:
    """The live runs' lines from the watcher's latest listing; the whole page is drawn again
    when one of them ended or another began."""
    listing = run_watcher().latest
    summaries = [s for s in listing.summaries if in_scope(s, owner) and is_live(s)]
    if [s.run.id for s in summaries] != shown:
        st.rerun()
    runs_table(summaries, queue_places(listing.summaries))


def runs_table(summaries: list[RunSummary], places: dict[str, str]) -> None:
    rows = [table_row(s, places.get(s.run.id)) for s in summaries]
    if not settings.class_mode():  # one person: every run is theirs
        rows = [{k: v for k, v in row.items() if k != "user"} for row in rows]
    st.dataframe(rows, hide_index=True, column_config=COLUMNS)
    for s in summaries:
        if problem := problem_of(s):
            st.caption(f":material/error: **{s.run.id}** ({s.state}): {problem}")


def problem_of(s: RunSummary) -> str | None:
    """What is wrong with a run: a file that cannot be read, or the error it ended with."""
    return s.error or s.status.get("error")


def table_row(s: RunSummary, place: str | None) -> dict[str, Any]:
    """One run's line, in short values: a queued run's time is its place in the queue, a running
    run's its training time and what is left."""
    p = progress(s.status)
    left = time_left(s.state, p)
    state = s.state + (", evaluating" if jobs.evaluation_running(s.run) else "")
    return {"run": s.run.id, "model": s.config.model.variant if s.config else "?",
            "dataset": s.config.data.name if s.config else "?", "user": s.status.get("user") or "-",
            "state": state, "progress": p.fraction, "step": f"{p.step}/{p.total}" if not s.error else "-",
            "time": place or (p.elapsed if left == "-" else f"{p.elapsed}, {left} left"),
            "device": (s.status.get("device") or "-").split(" ")[0].rstrip(","),
            "problem": "⚠" if problem_of(s) else ""}


def controls(run: Run, state: str) -> None:
    user = current_user()
    if not may_change(user, run):
        st.caption(f"This is {owner_of(run) or 'nobody'}'s run: only they or the teacher may change it.")
        return
    c1, c2, c3 = st.columns(3)
    try:
        if state in jobs.ACTIVE and c1.button("Cancel", key="cancel"):
            jobs.cancel(runs_dir(), run.id, user=user)
            st.rerun()
        if state in jobs.RESUMABLE:
            new_lr = c1.number_input("Learning rate from here on (optional)", min_value=0.0, value=None,
                                     format="%g", key="resume-lr",
                                     help="Empty: keep the run's own. After a divergence, try a lower one.")
            if c1.button("Resume", key="resume"):
                jobs.resume(runs_dir(), run.id, lr=new_lr or None, user=user)
                st.rerun()
        if run.is_demo:
            c3.caption("A demo run that ships with GenLab: it cannot be deleted here.")
        elif state not in jobs.ACTIVE:
            sure = c3.checkbox("Yes, delete this run and its files", key="sure")
            if c2.button("Delete", key="delete", disabled=not sure):
                jobs.delete(runs_dir(), run.id, user=user)
                st.session_state.pop("run", None)
                st.rerun()
    except (RunError, ConfigError) as exc:
        st.error(str(exc))


def progress_line(run: Run, was_active: bool) -> None:
    """The run's state, progress and error; the page is drawn again when an active run ends (its
    controls change)."""
    status = run.status()
    if was_active and status.get("state") not in jobs.ACTIVE:
        st.rerun()
    state = status.get("state", "unknown")
    p = progress(status)
    left = time_left(state, p)
    st.progress(p.fraction, text=f"{state} · step {p.step}/{p.total} · {p.elapsed}"
                + (f" · {left} left" if left != "-" else "") + f" · {status.get('device') or 'no device yet'}")
    if status.get("error"):
        st.error(status["error"])


def pictures(run: Run) -> None:
    latest_samples(run)
    curves(run)


@st.cache_resource(max_entries=64, show_spinner=False)
def _figures(path: str, logged: tuple, smoothing: float, log_y: bool, x: str) -> tuple[list, Any] | None:
    run = Run(Path(path))
    records = run.metrics()
    if not records:
        return None
    groups = curves_for(run.config().model)
    charts = [curves_figure(records, list(g.keys), smoothing, log_y, x, g.title) for g in groups]
    return charts, kl_per_dim_figure(records)


def figures(run: Run, smoothing: float = 0.6, log_y: bool = False, x: str = "step") -> tuple[list, Any] | None:
    """The run's curve figures and its KL per dimension (or None), or None before a line is
    logged; made once per version of its metrics.jsonl for every session that shows them
    (Plotly takes tens of ms to build one), and never changed here."""
    logged = file_stamp(run.metrics_path)
    return None if logged is None else _figures(str(run.path), logged, smoothing, log_y, x)


def curves(run: Run) -> None:
    """The run's logged curves, smoothed, against step or time; a VAE's KL per dimension."""
    if figures(run) is None:
        st.caption("No metrics logged yet.")
        return
    c1, c2, c3 = st.columns(3)
    smoothing = c1.slider("Smoothing (EMA)", 0.0, 0.99, 0.6, 0.01, key="ema", bind="query-params")
    log_y = c2.toggle("Log scale", key="logy", bind="query-params")
    x = c3.radio("x axis", ["step", "time"], horizontal=True, key="x", bind="query-params")
    left, right = st.columns(2)
    groups, kl_fig = figures(run, smoothing, log_y, x) or ([], None)
    for i, fig in enumerate(groups):
        (left if i % 2 == 0 else right).plotly_chart(fig, key=f"chart-{i}")
    if kl_fig is not None:
        st.plotly_chart(kl_fig, key="kl-dims")


def latest_samples(run: Run) -> None:
    """The newest snapshot's sample grid (it follows training), and what became of a
    user's files."""
    if run.config().data.name == "folder" and run.dataset_path.exists():
        st.caption(folder_note(run.dataset_info()))
    latest = run.latest_picture()
    if latest:
        picture_file(latest[1], f"Samples at step {latest[0]:,} (the latest snapshot)", width=360)


def evaluation(run: Run) -> None:
    st.subheader("Evaluation")
    if jobs.evaluation_running(run):
        st.info("Evaluating the latest snapshot in the background…")
    elif run.snapshot_steps() and not run.is_demo and may_change(current_user(), run) \
            and st.button("Evaluate the latest snapshot", key="evaluate"):
        try:
            jobs.start_evaluation(runs_dir(), run.id, user=current_user())
        except RunError as exc:
            st.error(str(exc))
        st.rerun()
    show_evaluation(run, key="runs")


def live_evaluation(run: Run, was_running: bool) -> None:
    if was_running and not jobs.evaluation_running(run):  # done: its button comes back
        st.rerun()
    guard(evaluation, run)


def page() -> None:
    st.title("Runs")
    summaries = runs_listing()
    owner = whose_runs()
    tables(summaries, owner)
    # The picker offers the table's runs, and any other run a shared link names.
    ids = [s.run.id for s in summaries if in_scope(s, owner) or s.run.id == st.query_params.get("run")]
    if not ids:
        return
    chosen = url_select("Run", ids, "run")
    try:
        run = open_run(runs_dir(), chosen)
        run.config()
    except RunError as exc:
        st.error(f"This run cannot be shown: {exc}. The other runs are unaffected.")
        return
    state = next(s.state for s in summaries if s.run.id == chosen)
    active = state in jobs.ACTIVE  # an evaluation is followed by its own part below
    # A broken file shows a message, not a traceback. The line follows training every 2 s, the
    # pictures and curves (the costly part to draw) every 10 s.
    st.fragment(guard, run_every=LIVE_EVERY_S if active else None)(progress_line, run, active)
    guard(controls, run, state)
    st.fragment(guard, run_every=PICTURES_EVERY_S if active else None)(pictures, run)
    evaluating = jobs.evaluation_running(run)
    st.fragment(live_evaluation, run_every=3 if evaluating else None)(run, evaluating)


guard(page)
