"""Lessons: one click sets up a comparison from the demo runs and tells its story.

The lesson is in the URL (?lesson=mode-collapse): a link on a slide opens it, and the
buttons that move between lessons set it, so a reload or a shared link opens the lesson shown."""

import streamlit as st

from genlab import jobs
from genlab.config import ConfigError
from genlab.metrics.report import latest_evaluation
from genlab.runs import Run, RunError, open_run
from genlab.teaching.lessons import LESSONS, Lesson
from genlab.viz import kl_per_dim_figure
from app_pages.components import evidence
from app_pages.components.login import current_user
from app_pages.components.shared import controls, guard, presenting, runs_dir


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
        st.caption("Launches these runs in the background; watch them on the Runs page: "
                   + "; ".join(f"{v} on {d} ({o['steps']} steps)" for v, d, o in lesson.train_yourself))
        if st.button("Launch", key=f"launch-{lesson.slug}"):
            try:
                for config in lesson.configs():
                    jobs.launch(config, runs_dir(), user=current_user())
            except ConfigError as exc:  # a student's limit of runs, say
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
        seed = int(st.number_input("Seed", 0, 2**31 - 1, 0, key="seed", bind="query-params"))
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


SHOW = {"modes": modes, "side-by-side": side_by_side}


def findings(lesson: Lesson, runs: dict[str, Run]) -> None:
    """The lesson's claims judged on the runs' latest numbers, said as they come out."""
    evaluations = {role: e for role, run in runs.items() if (e := latest_evaluation(run))}
    found = lesson.findings(evaluations)
    if found:
        st.markdown("#### What these runs show")
    for finding in found:
        st.markdown((":material/check_circle: " if finding.as_expected else ":material/error: ") + finding.text)


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
    train_yourself(lesson)


guard(page)
