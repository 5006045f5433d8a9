"""Server-side latency of the app, measured with Streamlit's AppTest (no browser, no network).

1. Slider to image: the Latent space page of a 28x28 model on the CPU; the time of the
   script run that follows a move of the interpolation slider. Baseline, side by side:
   the bare work that run must do (decode the code, draw, PNG-encode).
2. The Runs page with 50 runs. Baseline: listing the 50 runs from disk.
3. Sliders in a real browser (Debian's Chromium against `streamlit run`), idle and with one
   training worker beside the app: the Latent page's position and z sliders (2-D VAE demo)
   and the Learn page's KL sliders, each in its own `st.fragment`. App: the server's time,
   from the browser's rerun request to the server's script_finished message (read off the
   websocket), and the time from the key press to the changed view in the page. Baseline,
   side by side: the server time of a whole-page rerun after the same slider (AppTest),
   which is what every move cost before the fragments.

Usage: python benchmarks/ui_latency.py [--repeats N] [--skip-browser]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from genlab.models import noise  # noqa: E402
from genlab.models.latent import lerp  # noqa: E402
from genlab.presets import make_config  # noqa: E402
from genlab.store.runs import create_run, list_runs  # noqa: E402
from genlab.store.snapshots import load_model  # noqa: E402
from genlab.training.trainer import Trainer  # noqa: E402
from genlab.views.pictures import picture, png_bytes  # noqa: E402
from tests.streamlit_server import chromium_page, streamlit_server  # noqa: E402


def median_ms(fn, repeats: int) -> float:
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def app_test(page: str, **params):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page(f"app_pages/{page}.py")
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def slider_latency(variant: str, runs_dir: Path, repeats: int) -> tuple[float, float]:
    """Median ms of the bare decode-and-draw, and of the page rerun after a slider move."""
    run = create_run(runs_dir, make_config(variant, "fashion-mnist", steps=20, n_snapshots=1))
    assert Trainer(run).train() == "completed"
    model, _ = load_model(run)
    a, b = noise(1, model.latent_dim, 0), noise(1, model.latent_dim, 1)

    def bare(i: int) -> None:
        with torch.no_grad():
            image = model.generate(lerp(a, b, torch.tensor([[(i % 20) / 20]])))
        png_bytes(picture(image, width=480))

    slider = app_test("latent", run=run.id).slider(key="t")

    def move(i: int) -> None:
        slider.set_value(round((i % 20) / 20, 2)).run()

    return median_ms(bare, repeats), median_ms(move, repeats)


# (page, URL query, slider name, its AppTest key)
SLIDERS = [
    ("latent", "run=demo-vae-2d-fashion", "Position between A and B", "t"),
    ("latent", "run=demo-vae-2d-fashion", "z[0]", "z0"),
    ("learn", "", "Distance between the modes", "kl-sep"),
    ("learn", "", "mean of p", "kl-mp"),
]
# The page's DOM as text: the image sources and every caption and metric, so that any
# redrawn view shows as a change.
VIEW_STATE = """() => Array.from(document.querySelectorAll(
    "[data-testid='stMain'] img, [data-testid='stCaptionContainer'], [data-testid='stMetricValue']"))
    .map(e => e.src || e.innerText).join("|")"""


def message_kind(payload: bytes | str, message) -> str | None:
    """The type of one Streamlit websocket message (a BackMsg sent, a ForwardMsg received)."""
    try:
        return message.FromString(payload).WhichOneof("type") if isinstance(payload, bytes) else None
    except Exception:  # a frame that is not one whole message
        return None


def browser_slider_ms(url: str, page_name: str, query: str, slider: str, repeats: int) -> tuple[float, float]:
    """Medians, in ms, after an arrow key on the slider in Chromium: the server's time (from
    the browser's rerun request to the server's script_finished, read off the websocket) and
    the time until the changed view is in the page."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    with chromium_page(width=1400, height=1600) as page:
        frames: list[tuple[str | None, float]] = []
        page.on("websocket", lambda ws: (
            ws.on("framesent", lambda m: frames.append((message_kind(m, BackMsg), time.perf_counter()))),
            ws.on("framereceived", lambda m: frames.append((message_kind(m, ForwardMsg), time.perf_counter())))))
        page.goto(f"{url}/{page_name}?{query}")
        handle = page.locator(f"input[type=range][aria-label='{slider}']")
        handle.wait_for(timeout=120_000)
        page.wait_for_timeout(2000)  # the first run's images settle
        server, seen = [], []
        for i in range(repeats):
            before = page.evaluate(VIEW_STATE)
            handle.focus()
            frames.clear()
            start = time.perf_counter()
            handle.press("PageUp" if i % 2 == 0 else "PageDown")  # a step big enough to redraw
            page.wait_for_function(f"before => ({VIEW_STATE})() !== before", arg=before, timeout=30_000)
            seen.append(time.perf_counter() - start)
            page.wait_for_timeout(300)  # the answer's last messages arrive
            asked = next(t for kind, t in frames if kind == "rerun_script")
            server.append(next(t for kind, t in frames if kind == "script_finished" and t > asked) - asked)
        return 1000 * statistics.median(server), 1000 * statistics.median(seen)


def whole_page_ms(page_name: str, query: str, key: str, repeats: int) -> float:
    """Median server ms of a full script run after the slider moves (AppTest)."""
    params = dict(part.split("=") for part in query.split("&") if part)
    at = app_test(page_name, **params)
    slider = at.slider(key=key)
    low, high = slider.min, slider.max
    values = [low + (high - low) * (0.4 + 0.2 * (i % 2)) for i in range(repeats)]
    return median_ms(lambda i: slider.set_value(round(values[i], 2)).run(), repeats)


def slider_table(runs_dir: Path, repeats: int) -> None:
    """The browser slider latencies, idle and with one training worker beside the app."""
    from genlab import jobs
    from genlab.teaching.demos import demo_runs

    for run_id in demo_runs(ROOT / "checkpoints"):
        shutil.copytree(ROOT / "checkpoints" / run_id, runs_dir / run_id)
    os.environ["GENLAB_RUNS"] = str(runs_dir)
    baseline = {s[3]: whole_page_ms(s[0], s[1], s[3], repeats) for s in SLIDERS}
    print("\n| slider (page) | before: whole-page rerun, server ms | idle: server ms | idle: in the page ms "
          "| beside a worker: server ms | beside a worker: in the page ms |\n|---|---|---|---|---|---|")
    with streamlit_server(runs_dir, runs_dir.parent / "data", runs_dir.parent / "streamlit.log") as url:
        idle = {s[3]: browser_slider_ms(url, s[0], s[1], s[2], repeats) for s in SLIDERS}
        worker = jobs.launch(make_config("dcgan", "fashion-mnist", steps=1_000_000, name="load"), runs_dir)
        try:
            loaded = {s[3]: browser_slider_ms(url, s[0], s[1], s[2], repeats) for s in SLIDERS}
        finally:
            jobs.cancel(runs_dir, worker.id)
    for page_name, _, name, key in SLIDERS:
        print(f"| {name} ({page_name}) | {baseline[key]:.0f} | {idle[key][0]:.0f} | {idle[key][1]:.0f} "
              f"| {loaded[key][0]:.0f} | {loaded[key][1]:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--skip-browser", action="store_true", help="only the AppTest measurements")
    args = parser.parse_args()
    torch.set_num_threads(2)
    runs_dir = Path(tempfile.mkdtemp()) / "runs"
    os.environ["GENLAB_RUNS"] = str(runs_dir)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    print("| measurement | baseline | baseline ms | app ms | app / baseline | goal |")
    print("|---|---|---|---|---|---|")

    for variant in ("dcgan", "vae"):
        bare_ms, app_ms = slider_latency(variant, runs_dir, args.repeats)
        print(f"| slider to image, {variant} 28x28 (Latent space page) | decode + draw + PNG | {bare_ms:.1f} "
              f"| {app_ms:.1f} | {app_ms / bare_ms:.0f}x | < 100 ms |")

    template = list_runs(runs_dir)[0].run.path
    for i in range(50 - len(list_runs(runs_dir))):
        shutil.copytree(template, runs_dir / f"copy-{i:02d}")
    assert len(list_runs(runs_dir)) == 50
    listing_ms = median_ms(lambda i: list_runs(runs_dir), args.repeats)
    page_ms = median_ms(lambda i: app_test("runs"), max(3, args.repeats // 4))
    print(f"| Runs page, 50 runs (fresh session) | list the runs | {listing_ms:.1f} | {page_ms:.1f} "
          f"| {page_ms / listing_ms:.0f}x | < 1000 ms |")
    if not args.skip_browser:
        slider_table(Path(tempfile.mkdtemp()) / "runs", args.repeats)


if __name__ == "__main__":
    main()
