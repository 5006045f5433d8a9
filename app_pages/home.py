"""Home: what GenLab is, the runs at a glance, shortcuts into runs to look at."""

from collections import Counter

import streamlit as st

from genlab.overview import comparison_pair
from genlab.teaching.lessons import LESSONS
from app_pages.components.shared import runs_listing, viewable_runs

st.title("GenLab")
st.markdown(
    "Train small **GANs** and **VAEs** in the background and look at them side by side: "
    "sample grids, walks through latent space, loss curves. A GAN learns by a game between a "
    "generator and a discriminator and tends to give sharp samples that may miss modes; a VAE "
    "maximises a bound on the likelihood and tends to give blurrier samples from a smooth, "
    "encodable latent space. Here you can see both for yourself.")

summaries = runs_listing()
counts = Counter(s.state for s in summaries)
cols = st.columns(4)
cols[0].metric("Runs", len(summaries))
cols[1].metric("Training now", counts["running"] + counts["starting"])
cols[2].metric("Queued", counts["queued"])
cols[3].metric("Completed", counts["completed"])

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

ready = viewable_runs()
if not ready:
    st.info("No runs to look at yet: launch one on the Train page (a GAN on `ring` trains in seconds).")
else:
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
