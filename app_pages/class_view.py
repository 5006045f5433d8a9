"""Class: every run on the server in one place (students read it, the teacher teaches from
it): the latest sample grid of each, who made it, its state and numbers, sorted and
filtered; a spotlight that puts one run on the projector; and the class experiment, every
run of one model and dataset as a point of a setting against a metric."""

import plotly.graph_objects as go
import streamlit as st

from app_pages.components.login import current_user
from app_pages.components.round_view import show_results
from app_pages.components.shared import controls, guard, listing, picture_file, runs_dir, url_select
from genlab.classroom import roster
from genlab.teaching import rounds
from genlab.views.metric_info import METRICS, best_first
from genlab.views.overview import (
    CLASS_METRICS,
    SETTINGS,
    class_row,
    experiment_defaults,
    experiment_pairs,
    experiment_points,
)


def spotlight(row: dict) -> None:
    """One run's latest picture across the page, for the projector."""
    st.subheader(f"{row['user']}: {row['model']} on {row['dataset']}")
    if row["picture"]:
        step, picture = row["picture"]
        picture_file(picture, width="stretch",
                     caption=f"{row['run']}, step {step:,}" + (f", FID {row['fid']:.1f}" if row["fid"] else ""))


PER_PAGE = 24


def gallery(rows: list[dict], per_row: int = 4) -> None:
    """The runs' latest sample grids, a few to a row, each with its user and numbers; 24 to a
    page (a hundred pictures for each of thirty students was most of the server's time)."""
    pages = max(1, -(-len(rows) // PER_PAGE))
    if pages > 1:
        number = st.selectbox(f"Page (of {pages}, {PER_PAGE} runs each)", range(1, pages + 1), key="gallery-page")
        rows = rows[(number - 1) * PER_PAGE: number * PER_PAGE]
    for start in range(0, len(rows), per_row):
        for col, row in zip(st.columns(per_row), rows[start:start + per_row]):
            if row["picture"]:
                picture_file(row["picture"][1], width="stretch", where=col)
            numbers = ", ".join(f"{METRICS[m].name} {row[m]:.3g}" for m in CLASS_METRICS if row[m] is not None)
            col.caption(f"**{row['user']}** · {row['model']} on {row['dataset']} · {row['state']}"
                        + (f" · {numbers}" if numbers else "") + f"  \n{row['run']}")


@st.cache_resource(max_entries=16, show_spinner=False)
def experiment_figure(rows_key: tuple[str, int], pair: tuple[str, str], setting: str, metric: str,
                      _rows: list[dict]) -> go.Figure | None:
    """The class experiment's scatter, made once per listing version and choice for every
    session (Plotly takes tens of ms to build it); None when no run of the pair is evaluated."""
    points = experiment_points(_rows, *pair, setting, metric)
    if not points:
        return None
    fig = go.Figure(go.Scatter(x=[p["x"] for p in points], y=[p["y"] for p in points], mode="markers+text",
                               text=[p["user"] for p in points], textposition="top center",
                               customdata=[p["run"] for p in points], marker=dict(size=12)))
    fig.update_layout(xaxis_title=setting, yaxis_title=METRICS[metric].in_sentence, height=420,
                      margin=dict(l=10, r=10, t=20, b=10))
    return fig


def experiment(rows: list[dict], rows_key: tuple[str, int]) -> None:
    """A setting against a metric, one point per run of one model and dataset; a click on
    a point opens its run."""
    st.subheader("The class experiment")
    pairs = experiment_pairs(rows)
    c1, c2, c3 = st.columns(3)
    pair = c1.selectbox("Model and dataset", pairs, format_func=lambda p: f"{p[0]} on {p[1]}", key="pair")
    default_setting, default_metric = experiment_defaults(rows, *pair)
    with c2:
        setting = url_select("Setting", list(SETTINGS), "setting", default_setting)
    with c3:
        metric = url_select("Metric", list(CLASS_METRICS), "metric", default_metric)
    fig = experiment_figure(rows_key, pair, setting, metric, rows)
    if fig is None:
        st.info(f"No evaluated run of {pair[0]} on {pair[1]} yet: evaluate one on the Runs page.")
        return
    event = st.plotly_chart(fig, on_select="rerun", selection_mode="points", key="experiment")
    chosen = event.selection.points if event and event.selection else []
    if chosen:
        st.switch_page("app_pages/runs.py", query_params={"run": chosen[0]["customdata"]})


def locked_out() -> None:
    """For the teacher: who may not log in now after wrong passwords, each with a way back in."""
    user = current_user()
    if user is None or not user.teacher:
        return
    for who, minutes in roster.locked_out(runs_dir()):
        c1, c2 = st.columns([4, 1])
        c1.warning(f"Locked out after wrong passwords: {who} (for {minutes} more min).")
        if c2.button("Unlock", key=f"unlock-{who}"):
            roster.unlock(runs_dir(), who.split()[1])
            st.rerun()


@st.cache_resource(max_entries=4, show_spinner=False)
def _class_rows(folder: str, version: int, _summaries: tuple) -> list[dict]:
    return [class_row(s) for s in _summaries if not s.error]


def class_rows() -> tuple[tuple[str, int], list[dict]]:
    """Every readable run as the Class page lists it, made once per version of the listing for
    every session (each reads the run's eval.json), and the key they were made for (the runs
    folder, the version); the rows are shared: never changed here."""
    runs = listing()
    key = (str(runs_dir().resolve()), runs.version)
    return key, _class_rows(*key, runs.summaries)


def live_round() -> None:
    """The open Real-or-generated round's results as they come in, for whoever leads rounds."""
    found = rounds.current_round(runs_dir())
    if found is None or not found.is_open or not rounds.may_lead(runs_dir(), current_user()):
        return
    st.subheader("Real or generated? The open round")
    st.fragment(show_results, run_every=3)(runs_dir(), found, "class")
    st.page_link("app_pages/judge.py", label="Open the round", icon=":material/how_to_vote:")


def page() -> None:
    st.title("Class")
    locked_out()
    live_round()
    rows_key, rows = class_rows()
    if not rows:
        st.info("No runs yet.")
        return
    with controls("Spotlight, filters and order"):  # on a projector, folded away: the pictures come first
        picked = st.selectbox("Spotlight (for the projector)", [None] + [r["run"] for r in rows], key="spotlight",
                              bind="query-params", format_func=lambda r: "none" if r is None else r)
        c1, c2, c3 = st.columns(3)
        models = c1.multiselect("Models", sorted({r["model"] for r in rows}), key="models")
        datasets = c2.multiselect("Datasets", sorted({r["dataset"] for r in rows}), key="datasets")
        order = c3.selectbox("Sort by", ["newest", *CLASS_METRICS], key="sort", bind="query-params")
    if picked:
        spotlight(next(r for r in rows if r["run"] == picked))
    shown = [r for r in rows if (not models or r["model"] in models) and (not datasets or r["dataset"] in datasets)]
    if order != "newest":
        scored = sorted((r for r in shown if r[order] is not None), key=lambda r: r[order],
                        reverse=best_first(order))
        shown = scored + [r for r in shown if r[order] is None]
    gallery(shown)
    experiment(rows, rows_key)


guard(page)
