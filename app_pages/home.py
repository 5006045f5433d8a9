"""Home: what GenLab is, the runs at a glance, shortcuts into runs to look at."""

from collections import Counter

import streamlit as st

from app_pages.components.shared import guard, runs_listing, viewable_runs
from genlab.store.runs import RunSummary
from genlab.teaching.lessons import LESSONS
from genlab.views.overview import comparison_pair

INTRO = ("Train small **GANs** and **VAEs** in the background and look at them side by side: "
         "sample grids, walks through latent space, loss curves. A GAN learns by a game between a "
         "generator and a discriminator and tends to give sharp samples that may miss modes; a VAE "
         "maximises a bound on the likelihood and tends to give blurrier samples from a smooth, "
         "encodable latent space. Here you can see both for yourself.")


def counts() -> None:
    summaries = runs_listing()
    by_state = Counter(s.state for s in summaries)
    cols = st.columns(4)
    cols[0].metric("Runs", len(summaries))
    cols[1].metric("Training now", by_state["running"] + by_state["starting"])
    cols[2].metric("Queued", by_state["queued"])
    cols[3].metric("Completed", by_state["completed"])


def shortcuts() -> None:
    st.subheader("Teach or learn")
    c = st.columns(3)
    c[0].page_link("app_pages/learn.py", label="GANs and VAEs, side by side", icon=":material/school:")
    c[1].page_link("app_pages/lab.py", label="Watch one learn in the 2-D lab", icon=":material/scatter_plot:")
    c[2].page_link("app_pages/lessons.py", label="One-click lessons", icon=":material/co_present:")
    for lesson in LESSONS.values():
        st.page_link("app_pages/lessons.py", label=lesson.title, icon=":material/play_lesson:",
                     query_params={"lesson": lesson.slug})
    st.subheader("Train")
    st.page_link("app_pages/train.py", label="Train a new model", icon=":material/model_training:")


def run_links(ready: list[RunSummary]) -> None:
    """A line per run to look at, with links to its samples, latent space and curves; the
    fairest GAN/VAE pair to compare."""
    st.subheader("Look at a run")
    for s in ready[:12]:
        c = st.columns([3, 1, 1, 1])
        demo = " · demo" if s.run.is_demo else ""
        c[0].markdown(f"**{s.run.id}** — {s.config.model.variant} on {s.config.data.name} ({s.state}{demo})")
        # Icons mark them as links (a bare label reads as plain text).
        c[1].page_link("app_pages/samples.py", label="Samples", icon=":material/grid_view:",
                       query_params={"runs": s.run.id})
        c[2].page_link("app_pages/latent.py", label="Latent", icon=":material/linear_scale:",
                       query_params={"run": s.run.id})
        c[3].page_link("app_pages/runs.py", label="Curves", icon=":material/monitoring:",
                       query_params={"run": s.run.id})
    pair = comparison_pair(ready)
    if pair:
        gan, vae = (s.run.id for s in pair)
        st.page_link("app_pages/compare.py", label=f"Compare {gan} with {vae}",
                     icon=":material/compare:", query_params={"gan": gan, "vae": vae})


def page() -> None:
    st.title("GenLab")
    st.markdown(INTRO)
    counts()
    shortcuts()
    ready = viewable_runs()
    if ready:
        run_links(ready)
    else:
        st.info("No runs to look at yet: launch one on the Train page (a GAN on `ring` trains in seconds).")


guard(page)
