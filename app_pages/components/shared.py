"""Helpers the pages share: where runs live, cached model loading, run pickers, pictures.

Pages keep only ids in session state and the URL (widgets bound to query parameters);
everything else is read from the run directory.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st
import torch

from genlab import settings
from genlab.classroom.uploads import content_id, safe_name
from genlab.config import RunConfig, ScheduleConfig
from genlab.data import Dataset, draws_images, load_dataset
from genlab.data.folder import load_zip_bytes
from genlab.jobs import ACTIVE, RunWatcher, evaluation_running
from genlab.models import GenerativeModel
from genlab.store.listing import Listing, file_stamp
from genlab.store.runs import Run, RunError, RunSummary, open_run
from genlab.store.snapshots import load_model
from genlab.training.device import pick_device
from genlab.training.estimate import measure_step_rate
from genlab.views import overview
from genlab.views.pictures import picture, png_bytes, readable_png


def runs_dir() -> Path:
    return settings.runs_dir()


# Presenter mode, for a projector: larger type (Streamlit sizes text in rem, so scaling the
# root font scales the whole page), the page's full width, less padding above, a smaller title,
# pictures no taller than most of the screen (tests/test_browser.py), and none of
# the app's own chrome (the Deploy button, the menu, the coloured bar). The sidebar starts
# collapsed (app.py); its arrow, top left, brings it back.
PRESENTER_CSS = """<style>
html { font-size: 22px; }
.block-container { max-width: 100%; padding-top: 1rem; padding-left: 2rem; padding-right: 2rem; }
h1 { font-size: 2.2rem !important; padding-top: 0.5rem !important; }
[data-testid="stHeader"] { background: transparent; }
[data-testid="stExpander"] summary { padding-top: 0.3rem; padding-bottom: 0.3rem; }
[data-testid="stImage"] img { max-height: 58vh; object-fit: contain; object-position: left top; }
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stAppDeployButton"],
[data-testid="stMainMenu"] { display: none; }
</style>"""


def presenting() -> bool:
    """Whether presenter mode is on (the sidebar toggle, kept in the URL as ?present=true)."""
    return bool(st.session_state.get("present", False))


def presenter_asked() -> bool:
    """?present=true in the URL, read before the toggle is drawn (to start with the sidebar collapsed)."""
    return st.query_params.get("present") == "true"


def controls(label: str = "Runs and settings"):
    """Where a page's controls go: in place, or in presenter mode folded into a closed
    expander, so that the picture comes first on the projector."""
    return st.expander(label, icon=":material/tune:") if presenting() else st.container()


# A metric table's columns: the meaning gets the room (it was cut off).
METRIC_COLUMNS = {"metric": st.column_config.TextColumn(width="small"),
                  "value": st.column_config.TextColumn(width="small"),
                  "meaning": st.column_config.TextColumn(width="large")}


@st.cache_resource(show_spinner=False)
def _watcher(path: str, interval_s: int) -> RunWatcher:
    return RunWatcher(Path(path), interval_s).start()


def run_watcher() -> RunWatcher:
    """The app process's one watcher of its runs folder (started by the first page that asks):
    it reconciles the runs and keeps their listing, so no page lists or reconciles the folder."""
    return _watcher(str(runs_dir().resolve()), settings.watch_seconds())


def listing() -> Listing:
    """The runs as the disk holds them now (only those whose files changed since the watcher's
    last look are read again), with the listing's version. A live part reads
    `run_watcher().latest` instead, which reads nothing."""
    return run_watcher().refresh()


def runs_listing() -> list[RunSummary]:
    """Every run in the app's runs folder, newest first (broken ones with their error)."""
    return list(listing().summaries)


def is_live(s: RunSummary) -> bool:
    """Whether a run will change by itself: queued, starting, training or being evaluated. A
    part polls only while what it shows is live (a finished view reruns for nothing)."""
    return s.state in ACTIVE or evaluation_running(s.run)


def viewable_runs(family: str | None = None) -> list[RunSummary]:
    """Runs that have at least one snapshot to look at, optionally of one family."""
    return overview.viewable_runs(runs_listing(), family)


def run_label(run_id: str, summaries: list[RunSummary]) -> str:
    """'variant on dataset, state' for a run of `summaries`."""
    s = next((x for x in summaries if x.run.id == run_id), None)
    if s is None:
        return run_id
    return f"{s.config.model.variant} on {s.config.data.name}, {s.state}"


def pick_run(label: str, key: str, family: str | None = None, prefer: str | None = None) -> Run | None:
    """A select box of viewable runs (optionally of one family), bound to the URL parameter
    `key`; it starts on `prefer` when that run is there, else on the newest run."""
    summaries = viewable_runs(family)
    if not summaries:
        st.info("No run to show yet. Launch one on the **Train** page.")
        return None
    ids = [s.run.id for s in summaries]
    chosen = url_select(label, ids, key, prefer)
    st.caption(run_label(chosen, summaries))
    return open_run(runs_dir(), chosen)


def pick_gan_and_vae(summaries: list[RunSummary]) -> tuple[Run | None, Run | None]:
    """A GAN run's picker and a VAE run's side by side (URL keys `gan` and `vae`), starting,
    unless the URL names runs, on the fairest pair among `summaries` (same data and latent size)."""
    pair = overview.comparison_pair(summaries)
    c1, c2 = st.columns(2)
    with c1:
        gan = pick_run("GAN run", key="gan", family="gan", prefer=pair and pair[0].run.id)
    with c2:
        vae = pick_run("VAE run", key="vae", family="vae", prefer=pair and pair[1].run.id)
    return gan, vae


def image_runs() -> list[RunSummary]:
    """The viewable runs of images (not of 2-D points)."""
    return [s for s in viewable_runs() if draws_images(s.config.data.name)]


def url_select(label: str, options: list[str], key: str, prefer: str | None = None) -> str:
    """A select box whose choice is always in the URL (?key=choice): the URL's choice when it
    names an option, else `prefer`, else the first. Not a bound widget: a bound one leaves its
    default out of the URL, so a copied link to the newest run showed whichever run was newest
    when it was opened."""
    wanted = st.query_params.get(key)
    start = wanted if wanted in options else prefer if prefer in options else options[0]
    chosen = st.selectbox(label, options, index=options.index(start), key=key)
    if st.query_params.get(key) != chosen:
        st.query_params[key] = chosen
    return chosen


def snapshot_mtime(run: Run, step: int) -> float:
    try:
        return run.snapshot_path(step).stat().st_mtime
    except OSError:
        return 0.0


@st.cache_resource(max_entries=16, show_spinner=False)
def cached_model(path: str, step: int | None, mtime: float) -> tuple[GenerativeModel, int]:
    return load_model(Run(Path(path)), step, device=pick_device())


def model_at(run: Run, step: int | None = None) -> tuple[GenerativeModel, int]:
    """The run's model at a snapshot, cached by run, step and the snapshot file's mtime."""
    step = run.snapshot_steps()[-1] if step is None else step
    return cached_model(str(run.path), step, snapshot_mtime(run, step))


@st.cache_resource(max_entries=4, show_spinner="Loading the dataset…")
def dataset(name: str, path: str | None, image_size: int, color: str):
    return load_dataset(name, path=path, image_size=image_size, color=color)


@st.cache_resource(max_entries=2, show_spinner="Reading your images…")
def uploaded_dataset(file_id: str, _raw: bytes, filename: str, image_size: int, color: str):
    """An upload read from memory, by the uploader's file id (its bytes are not hashed)."""
    return load_zip_bytes(_raw, safe_name(filename), image_size=image_size, color=color)


@st.cache_data(max_entries=8, show_spinner=False)
def upload_content_id(file_id: str, _raw: bytes) -> str:
    """An upload's content id, computed once per uploaded file rather than on every rerun
    (hashing a 200 MB zip takes a noticeable fraction of a second)."""
    return content_id(_raw)


@st.cache_data(ttl=900, max_entries=32, show_spinner="Timing a few training steps on this machine…")
def _step_rate(timed: str, data_key: str, _data: Dataset) -> float:
    config = RunConfig.from_dict(json.loads(timed))
    return measure_step_rate(config, _data, pick_device(config.schedule.device))


def estimated_step_rate(config: RunConfig, data: Dataset) -> float:
    """Steps per second of `config` on `data`, timed here, cached for 15 minutes by everything
    the timing reads: the config (its schedule left at the defaults, which do not change a
    step) and the data's description (name, shape, classes, sizes, source)."""
    timed = dataclasses.replace(config, schedule=ScheduleConfig(device=config.schedule.device), name="")
    return _step_rate(json.dumps(timed.to_dict(), sort_keys=True), json.dumps(data.info(), sort_keys=True), data)


def run_dataset(run: Run):
    """The run's data as it trained on it (cut to its training subset, if it has one)."""
    d = run.config().data
    data = dataset(d.name, d.path, d.image_size, d.color)
    return data.first_train(d.train_subset) if d.train_subset else data


def drawn_width(width: int = 480) -> int:
    """A picture's width in pixels: half as large again in presenter mode."""
    return width * 3 // 2 if presenting() else width


def show(samples: torch.Tensor, caption: str | None = None, nrow: int = 8, real: torch.Tensor | None = None,
         download: str | None = None, width: int = 480, role: str = "generated") -> None:
    """Show model output (or real data: role "real"; the codes of a walk: "walk") as a
    picture, an image grid or a scatter, with an optional PNG download. Presenter mode draws
    it half as large again."""
    array = picture(samples.detach().cpu(), nrow=nrow, real=real, width=drawn_width(width), role=role)
    st.image(array, caption=caption, width="content")
    if download:
        st.download_button("Download PNG", png_bytes(array), file_name=download, mime="image/png",
                           key=f"dl-{download}-{caption}")


@functools.lru_cache(maxsize=256)  # not st.cache_resource: hashing its arguments cost more than the look-up saved
def _checked_png(path: str, stamp: tuple[int, int, int]) -> bytes | None:
    return readable_png(Path(path))


def checked_png(path: Path) -> bytes | None:
    """readable_png, decoded once per version of the file for every session (the Class page
    shows a hundred of them to each of thirty students)."""
    version = file_stamp(path)
    return None if version is None else _checked_png(str(path), version)


def picture_file(path: Path, caption: str | None = None, width: int | str = "content", where: Any = st) -> bool:
    """A snapshot's picture file in `where` (a column, say); a damaged file is a warning, not
    a broken image or a failed page. Whether it was shown."""
    png = checked_png(path)
    if png is None:
        where.warning(f"{path.name} cannot be read (a damaged file); the run's other files are unaffected.")
        return False
    where.image(png, caption=caption, width=width, output_format="PNG")  # as it is: no re-encoding to JPEG
    return True


def guard(fn: Callable[..., None], *args: Any) -> None:
    """Run a page body (or part of one) on `args`; a broken run shows a clear message
    instead of a traceback."""
    try:
        fn(*args)
    except RunError as exc:
        st.error(f"This run cannot be shown: {exc}. The other runs are unaffected.")
