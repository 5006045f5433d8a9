"""Lessons: one click sets up a comparison from the demo runs and tells its story.

The lesson is in the URL (?lesson=mode-collapse): a link on a slide opens it, and the
buttons that move between lessons set it, so a reload or a shared link opens the lesson shown."""

import streamlit as st

from app_pages.components import evidence, repairs
from app_pages.components.login import current_user
from app_pages.components.metrics_view import memorisation_sentence, nearest_twins
from app_pages.components.shared import controls, guard, model_at, presenting, run_dataset, runs_dir, show
from genlab import jobs
from genlab.config import SEED_MAX, ConfigError
from genlab.data import Dataset, DatasetError, DatasetUnavailable
from genlab.metrics.evaluate import prototype_scores, truncation_sweep
from genlab.models import GenerativeModel
from genlab.models.latent import walk_reach
from genlab.store.evaluations import latest_evaluation
from genlab.store.runs import Run, RunError, open_run
from genlab.teaching.lessons import (
    LESSONS,
    Finding,
    Lesson,
    prototype_findings,
    regulariser_findings,
    repair_findings,
    training_data_findings,
    truncation_findings,
)
from genlab.views.figures import kl_per_dim_figure, runs_curve_figure, training_data_figure, truncation_figure

TRUNCATIONS = [None, 2.0, 1.5, 1.0, 0.75, 0.5, 0.25]


def lesson_runs(lesson: Lesson) -> dict[str, Run] | None:
    """The lesson's demo runs by role, or None (with a message) when any is missing."""
    try:
        return {role: open_run(runs_dir(), run_id) for role, run_id in lesson.runs.items()}
    except RunError as exc:
        st.warning(f"This lesson needs the demo runs {', '.join(lesson.runs.values())}, which are not "
                   f"all in {runs_dir()} ({exc}). Run `make demo-checkpoints`, or train the runs below.")
        return None


def train_yourself(lesson: Lesson) -> None:
    if presenting():
        return
    with st.expander("Train it yourself"):
        st.caption("Launches these runs in the background, all of them or none; watch them on the Runs page: "
                   + "; ".join(lesson.launch_lines()))
        if st.button("Launch", key=f"launch-{lesson.slug}"):
            try:
                jobs.launch_all(lesson.configs(), runs_dir(), user=current_user())
            except (ConfigError, RunError) as exc:  # a student's limit of runs, say: nothing was queued
                st.error(str(exc))
                return
            st.success("Launched. Follow them on the Runs page.")
            st.page_link("app_pages/runs.py", label="Runs", icon=":material/monitoring:")


def modes(lesson: Lesson, runs: dict[str, Run]) -> None:
    """Collapsed next to balanced on a toy, and the class histogram of an image GAN."""
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("#### Collapsed")
        evidence.mode_figure(runs["collapsed"], "lesson-collapsed")
        st.page_link("app_pages/samples.py", label="Watch the clump wander through training",
                     icon=":material/grid_view:", query_params={"runs": runs["collapsed"].id})
    with c2:
        st.markdown("#### Balanced")
        evidence.mode_figure(runs["balanced"], "lesson-balanced")
    st.markdown("#### On images")
    evidence.class_histogram(runs["images"], "lesson-images")
    st.page_link("app_pages/lab.py", label="Watch it happen in the 2-D lab", icon=":material/scatter_plot:",
                 query_params={"toy": "ring", "model": "gan"})


def side_by_side(lesson: Lesson, runs: dict[str, Run]) -> None:
    """Each run in a column, from the same seed: samples, a walk, the lesson's numbers; for
    VAEs also reconstructions and the KL per latent dimension."""
    with controls("Seed"):
        seed = int(st.number_input("Seed", 0, SEED_MAX, 0, key="seed", bind="query-params"))
    end = evidence.walk_end(next(iter(runs.values())), seed)
    for col, (role, run) in zip(st.columns(len(runs)), runs.items()):
        with col:
            st.markdown(f"#### {role}")
            if lesson.vae_views:
                evidence.reconstructions(run)
            evidence.samples(run, seed)
            evidence.strip(run, seed, end)
            figure = kl_per_dim_figure(run.metrics()) if lesson.vae_views else None
            if figure is not None:
                st.plotly_chart(figure, key=f"kl-{role}")
            evidence.numbers(run, lesson.metrics, key=f"numbers-{role}")
    if lesson.compare_link:
        st.page_link("app_pages/compare.py", label="Open both in Compare", icon=":material/compare:",
                     query_params={"gan": runs["GAN"].id, "vae": runs["VAE"].id})


def regularisers(lesson: Lesson, runs: dict[str, Run]) -> None:
    """Each run's samples over the data with its modes, D's slope with respect to its input
    through training, and what the numbers say of each regulariser against the run without one."""
    for col, (role, run) in zip(st.columns(len(runs)), runs.items()):
        with col:
            st.markdown(f"#### {role}")
            evidence.mode_figure(run, f"lesson-reg-{role}")
    logs = {role: run.metrics() for role, run in runs.items()}
    for col, (key, where) in zip(st.columns(2), (("slope_d_real", "real"), ("slope_d_fake", "generated"))):
        col.plotly_chart(runs_curve_figure(logs, key, title=f"D's slope |∇ₓD(x)| at {where} points (log scale)"),
                         key=f"lesson-reg-{key}")
    for col, (key, name) in zip(st.columns(2), (("loss_d", "D"), ("loss_g", "G"))):
        col.plotly_chart(runs_curve_figure(logs, key, title=f"{name}'s loss through training", log=False),
                         key=f"lesson-reg-{key}")
    evaluations = {role: e for role, run in runs.items() if (e := latest_evaluation(run))}
    say_under_heading(regulariser_findings(evaluations, logs))


def repair(lesson: Lesson, runs: dict[str, Run]) -> None:
    """The same test images damaged and repaired by each run (the damage in the controls),
    the runs' repair benchmark, and what it says against the textbook."""
    with controls("Damage"):
        how = repairs.damage_controls()
    repairs.live_repairs(runs, how, first=0)
    repairs.benchmark(runs, key=lesson.slug)
    say_under_heading(repair_findings({role: e for role, run in runs.items() if (e := latest_evaluation(run))}))


def training_data(lesson: Lesson, runs: dict[str, Run]) -> None:
    """Each run's samples of every class, what its samples teach a classifier beside real
    images, and what that says against the textbook."""
    for col, (role, run) in zip(st.columns(len(runs)), runs.items()):
        with col:
            st.markdown(f"#### {role}")
            evidence.class_rows(run)
    evaluations = {role: e for role, run in runs.items() if (e := latest_evaluation(run)) and "cas" in e}
    if len(evaluations) < len(runs):
        st.caption("Evaluate the runs (Runs page, or `python -m genlab eval RUN`) to measure what their samples "
                   "teach a classifier.")
    if evaluations:
        st.plotly_chart(training_data_figure(evaluations), key=f"training-data-{lesson.slug}")
    say_under_heading(training_data_findings(evaluations))


SHOW = {"modes": modes, "side-by-side": side_by_side, "regularisers": regularisers, "repair": repair,
        "training-data": training_data}


@st.cache_data(show_spinner="Scoring a pretend model of ten prototypes…")
def cached_prototype_scores(dataset_key: str, _data: Dataset) -> dict:
    return prototype_scores(_data)


def prototype_block(lesson: Lesson, runs: dict[str, Run]) -> None:
    """IS against FID on a pretend model that draws one test image per class, judged beside
    every run the lesson shows."""
    data = run_dataset(next(iter(runs.values())))
    scores = cached_prototype_scores(data.name, data)
    st.markdown("#### A collapsed model and the two scores")
    show(data.x_test[scores["test_indices"]], caption="the pretend model's whole repertoire: one test image "
         "of each class", nrow=len(scores["test_indices"]), role="real")
    found = prototype_findings(scores, {role: e for role, run in runs.items() if (e := latest_evaluation(run))})
    if found:
        evidence.say(found)
    else:
        st.caption("Evaluate the runs to compare them with the pretend model.")


def walk_block(lesson: Lesson, runs: dict[str, Run]) -> None:
    """For each run's prior, where lerp and slerp walks go (measured), and its slerp walk."""
    st.markdown("#### Where walks between codes go")
    rows = []
    for role, run in runs.items():
        model = run.config().model
        for walk, numbers in walk_reach(model.prior, model.latent_dim).items():
            rows.append({"run": role, "prior": model.prior, "walk": walk,
                         "midpoint norm / endpoint norm": round(numbers["midpoint_norm"], 3),
                         "share of coordinates outside [-1, 1]": f"{numbers['outside_cube']:.1%}"})
    st.dataframe(rows, hide_index=True)
    seed = int(st.session_state.get("seed", 0))
    end = evidence.walk_end(next(iter(runs.values())), seed)
    for col, run in zip(st.columns(len(runs)), runs.values()):
        with col:
            evidence.strip(run, seed, end, spherical=True)


@st.cache_data(show_spinner="Measuring precision and recall at each truncation…")
def cached_sweep(run_path: str, step: int, _model: GenerativeModel, _data: Dataset) -> list[dict]:
    return truncation_sweep(_model, _data, TRUNCATIONS)


def truncation_block(lesson: Lesson, runs: dict[str, Run]) -> None:
    """The normal-prior run's samples truncated at a chosen t, and the measured trade-off."""
    run = next(r for r in runs.values() if r.config().model.prior == "normal")
    model, step = model_at(run)
    st.markdown("#### The truncation trick")
    chosen = st.select_slider("Truncation |z| ≤ t", TRUNCATIONS, value=None, key="truncation",
                              format_func=lambda t: "none" if t is None else f"{t:g}", bind="query-params")
    c1, c2 = st.columns(2)
    with c1:
        seed = int(st.session_state.get("seed", 0))
        show(model.sample(36, seed, truncation=chosen), nrow=6, width=360,
             caption=f"{run.id}, seed {seed}, truncated at {'none' if chosen is None else chosen}")
    sweep = cached_sweep(str(run.path), step, model, run_dataset(run))
    with c2:
        st.plotly_chart(truncation_figure(sweep, chosen), key="truncation-sweep")
    evidence.say(truncation_findings(sweep))


def nearest_block(lesson: Lesson, runs: dict[str, Run]) -> None:
    """Each run's samples above their nearest training images, with its memorisation numbers."""
    for col, run in zip(st.columns(len(runs)), runs.values()):
        with col:
            e = latest_evaluation(run)
            if not e or "memorisation" not in e:
                st.caption(f"{run.id} has no memorisation numbers yet: evaluate it on the Runs page.")
                continue
            nearest_twins(run, e)
            st.caption(memorisation_sentence(e))


EXTRAS = {"prototype-scores": prototype_block, "walk-reach": walk_block, "truncation": truncation_block,
          "nearest-training": nearest_block}


def say_under_heading(found: list[Finding]) -> None:
    """Findings under "What these runs show" (nothing at all when there are none)."""
    if found:
        st.markdown("#### What these runs show")
    evidence.say(found)


def findings(lesson: Lesson, runs: dict[str, Run]) -> None:
    """The lesson's claims judged on the runs' latest numbers, said as they come out."""
    say_under_heading(lesson.findings({role: e for role, run in runs.items() if (e := latest_evaluation(run))}))


def open_lesson(slug: str | None) -> None:
    """Show another lesson (None: the list), and say so in the URL; other parameters stay."""
    if slug:
        st.query_params["lesson"] = slug
    else:
        st.query_params.pop("lesson", None)


def page() -> None:
    slug = st.query_params.get("lesson")
    if slug not in LESSONS:
        st.title("Lessons")
        if slug:
            st.warning(f"There is no lesson {slug!r}; pick one below.")
        for item in LESSONS.values():
            st.button(item.title, icon=":material/play_lesson:", key=f"open-{item.slug}", type="tertiary",
                      on_click=open_lesson, args=(item.slug,))
            st.caption(item.story[0])
        return
    lesson = LESSONS[slug]
    st.title(lesson.title)
    # On a projector the evidence comes first and the story waits in the speaker's notes.
    story = st.expander("Notes", icon=":material/notes:") if presenting() else st.container()
    with story:
        st.button("All lessons", icon=":material/arrow_back:", key="all-lessons", type="tertiary",
                  on_click=open_lesson, args=(None,))
        for line in lesson.story:
            st.markdown(f"- {line}")
    runs = lesson_runs(lesson)
    if runs is not None:
        SHOW[lesson.view](lesson, runs)
        findings(lesson, runs)
        for extra in lesson.extras:
            try:
                EXTRAS[extra](lesson, runs)
            except (DatasetError, DatasetUnavailable) as exc:  # the measurements need the runs' data
                st.caption(f"This part of the lesson needs the runs' dataset, which is not here: {exc}")
    train_yourself(lesson)


guard(page)
