"""Repairs of a few damaged test images by one or more runs, drawn live: the Repair page
and the repair lesson share them."""

from __future__ import annotations

import streamlit as st

from app_pages.components.shared import drawn_width, model_at, presenting, run_dataset
from genlab.data import Dataset
from genlab.models import GenerativeModel
from genlab.models.repair import HALVES, KINDS, SEARCH_STEPS, Damage, Repairs, repair_all
from genlab.store.evaluations import latest_evaluation
from genlab.store.runs import Run
from genlab.views.figures import repair_figure
from genlab.views.metric_info import METHOD_NAMES, error_cells
from genlab.views.pictures import labelled_rows

SHOWN = 8  # test images repaired live


def damage_controls() -> Damage:
    """The damage to repair, each setting bound to the URL (?damage=box&size=0.5…)."""
    # The kinds as they are (a formatted label would go into the URL instead: ?damage=random+pixels).
    kind = st.segmented_control("Damage", KINDS, default="box", key="damage", bind="query-params") or "box"
    c1, c2, c3 = st.columns(3)
    how = Damage(kind)
    if kind == "box":
        how = Damage(kind, size=c1.slider("Box side (share of the image)", 0.1, 1.0, 0.5, 0.05, key="size",
                                          bind="query-params"),
                     x=c2.slider("Centre across", 0.0, 1.0, 0.5, 0.05, key="x", bind="query-params"),
                     y=c3.slider("Centre down", 0.0, 1.0, 0.5, 0.05, key="y", bind="query-params"))
    elif kind == "half":
        how = Damage(kind, half=c1.radio("Missing half", HALVES, key="half", bind="query-params", horizontal=True))
    elif kind == "pixels":
        how = Damage(kind, rate=c1.slider("Share of pixels missing", 0.0, 1.0, 0.5, 0.05, key="rate",
                                          bind="query-params"))
    else:
        how = Damage(kind, sigma=c1.slider("Noise sigma", 0.0, 1.0, 0.3, 0.05, key="sigma", bind="query-params"))
    return how


@st.cache_resource(max_entries=32, show_spinner=False)
def _repairs(run_path: str, step: int, setting: tuple, first: int, n: int, _model: GenerativeModel,
             _data: Dataset) -> Repairs:
    """The run's repairs, once per run, snapshot, damage and images for every session."""
    window = slice(first, first + n)
    labels = _data.y_test[window] if _model.n_classes else None
    return repair_all(_model, _data.x_test[window].to(_model.device), Damage(*setting),
                      None if labels is None else labels.to(_model.device))


def live_repairs(runs: dict[str, Run], how: Damage, first: int, n: int = SHOWN) -> None:
    """Each run's repairs of test images first..first+n-1 (the last n when `first` is past
    them) damaged as `how` says, drawn."""
    done = {}
    for name, run in runs.items():
        model, step = model_at(run)
        data = run_dataset(run)
        first = max(0, min(first, len(data.x_test) - n))
        with st.spinner(f"Repairing {n} images with the {name}: {SEARCH_STEPS} steps of search for each "
                        "image's code (a few seconds)…"):
            done[name] = _repairs(str(run.path), step, tuple(vars(how).values()), first, n, model, data)
    words = how.describe()
    st.caption(f"{words[0].upper()}{words[1:]}, test images {first} to {first + n - 1}.")
    show_repairs(done, how)


def show_repairs(done: dict[str, Repairs], how: Damage) -> None:
    """The true images, the damaged ones and each run's repairs as labelled rows, and their errors."""
    first = next(iter(done.values()))
    rows = [("true test images", first.truth), (f"damaged: {how.describe()}", first.damaged.images)]
    rows += [(f"{name}: {METHOD_NAMES[m]}", images) for name, r in done.items() for m, images in r.repaired.items()]
    scale = 6 if presenting() else 4
    st.image(labelled_rows([(label, images.cpu()) for label, images in rows], scale=scale), width="content")
    table = [{"images": "damaged input", **_errors(first.damaged_errors)}]
    table += [{"images": f"{name}: {METHOD_NAMES[m]}", **_errors(e)} for name, r in done.items()
              for m, e in r.errors.items()]
    st.dataframe(table, hide_index=True, width=drawn_width(720))


def _errors(e: dict) -> dict[str, str]:
    return {**error_cells(e), "seconds": f"{e['seconds']:.1f}" if "seconds" in e else ""}


def benchmark(runs: dict[str, Run], key: str) -> None:
    """The runs' repair benchmarks from their latest evaluations, as one chart; a caption
    for the runs not yet measured."""
    benches = {name: e["repair"] for name, run in runs.items() if "repair" in (e := latest_evaluation(run) or {})}
    missing = [run.id for name, run in runs.items() if name not in benches]
    if benches:
        st.plotly_chart(repair_figure(benches), key=f"repair-benchmark-{key}")
    if missing:
        st.caption(f"Not measured on the fixed benchmark yet: {', '.join(missing)}. Evaluate on the Runs page "
                   "(or `python -m genlab eval RUN`) to add the numbers for 256 test images.")

