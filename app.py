"""GenLab's Streamlit entry point: navigation, and a sidebar with the device and active jobs."""

from pathlib import Path

import streamlit as st
import torch

from app_pages.components import rerun_guard
from app_pages.components.login import account_box, current_user, login_form, signed_in
from app_pages.components.shared import PRESENTER_CSS, presenter_asked, run_watcher
from genlab import jobs, settings
from genlab.classroom.access import User
from genlab.config import ConfigError
from genlab.store.runs import RunSummary
from genlab.views.overview import progress

# The icon is a file of the app's own: a material icon would be fetched from a font server.
FAVICON = str(Path(__file__).parent / "app_pages" / "favicon.png")
st.set_page_config(page_title="GenLab", page_icon=FAVICON, layout="wide",
                   initial_sidebar_state="collapsed" if presenter_asked() else "auto")

rerun_guard.install()  # a fragment's tick never leaves a page half drawn (docs/streamlit-fragment-race.md)

# One process serves every session, each script run in its own thread; torch's intra-op
# threads on top of those oversubscribed the CPU (a 2-D lab update took 2.5 s instead of
# 0.1 s on 2 cores). Training runs in workers, which keep torch's default.
torch.set_num_threads(1)


try:  # a bad setting (GENLAB_MAX_JOBS, ...) is one clear message, not a traceback on every page
    settings.check_all()
except ConfigError as exc:
    st.error(f"GenLab cannot start: {exc}.")
    st.stop()
run_watcher()  # once per app process: its first round finds the runs a previous app or a reboot left running

PAGES = {
    "": [st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Teach": [
        st.Page("app_pages/learn.py", title="Learn", icon=":material/school:"),
        st.Page("app_pages/lessons.py", title="Lessons", icon=":material/co_present:"),
        st.Page("app_pages/lab.py", title="2-D lab", icon=":material/scatter_plot:"),
        st.Page("app_pages/judge.py", title="Real or generated?", icon=":material/how_to_vote:"),
    ],
    "Train and inspect": [
        st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
        st.Page("app_pages/runs.py", title="Runs", icon=":material/monitoring:"),
        st.Page("app_pages/samples.py", title="Samples", icon=":material/grid_view:"),
        st.Page("app_pages/latent.py", title="Latent space", icon=":material/linear_scale:"),
        st.Page("app_pages/compare.py", title="Compare", icon=":material/compare:"),
        st.Page("app_pages/repair.py", title="Repair", icon=":material/healing:"),
        st.Page("app_pages/class_view.py", title="Class", icon=":material/groups:"),
    ],
}
# In a class (make serve) a visitor sees only the login form until logged in; the page asked
# for (a shared link) is still resolved first, so it opens once they are in.
try:
    allowed = signed_in()
    page = st.navigation(PAGES, position="sidebar" if allowed else "hidden")
    if not allowed:
        login_form()
except ConfigError as exc:  # a broken roster: one message for the teacher to mend, nobody in meanwhile
    st.error(f"GenLab cannot let anyone in: {exc}.")
    st.stop()


SIDEBAR_EVERY_S = 3


def followed_runs(user: User | None) -> list[RunSummary]:
    """The active runs the sidebar follows: in a class a student's own, else every one; from
    the watcher's listing (nothing is read here)."""
    mine = user is None or user.teacher
    return [s for s in run_watcher().latest.summaries
            if s.state in jobs.ACTIVE and (mine or s.status.get("user") == user.name)]


def sidebar_runs(shown: list[str]) -> None:
    """The followed runs' progress; live (every 3 s) only while there are some, and once they
    have all ended the page is drawn again, which stops the polling."""
    user = current_user()
    active = followed_runs(user)
    if [s.run.id for s in active] != shown:  # one ended or started: the page's other parts changed too
        st.rerun()
    if not active:
        st.caption("No run of yours is training." if user else "No run is training.")
    for s in active:
        p = progress(s.status)
        st.progress(p.fraction, text=f"{s.run.id} · {s.state} · {p.step}/{p.total}")


def sidebar_status() -> None:
    st.caption(jobs.where_runs_train())
    active = followed_runs(current_user())
    st.fragment(sidebar_runs, run_every=SIDEBAR_EVERY_S if active else None)([s.run.id for s in active])


with st.sidebar:
    account_box()
    if st.toggle("Presenter mode", key="present", bind="query-params",
                 help="Larger type and fewer controls for a projector; links keep it on."):
        st.html(PRESENTER_CSS)
    sidebar_status()

page.run()
