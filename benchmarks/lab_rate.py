"""How live the 2-D lab feels: updates per second that reach a real browser while playing,
against the bare cost of an update (train k steps, build the figure, serialise it) in
this same process.

Usage: python benchmarks/lab_rate.py [--seconds 10] [--variants gan,vae,wgan-gp]
Needs Debian's chromium and the playwright package (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genlab.teaching.figures import lab_figure  # noqa: E402
from genlab.teaching.lab import LabSettings, ToyLab, default_steps_per_update  # noqa: E402
from genlab.views.figures import curves_figure  # noqa: E402
from tests.streamlit_server import chromium_page, streamlit_server  # noqa: E402


def bare_rate(variant: str, toy: str, seconds: float) -> float:
    """Updates per second of the work alone: k steps, the mode count, both figures as JSON."""
    lab = ToyLab(LabSettings(variant=variant, dataset=toy))
    k, n, start = default_steps_per_update(variant), 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        lab.step(k)
        lab.modes()
        lab_figure(lab).to_json()
        curves_figure(lab.history, ["loss_d", "loss_g"]).to_json()
        n += 1
    return n / (time.perf_counter() - start)


def browser_rate(url: str, variant: str, toy: str, seconds: float) -> float:
    """Updates per second seen in Chromium: the Step metric's growth while playing."""
    from playwright.sync_api import expect

    k = default_steps_per_update(variant)
    with chromium_page(height=1400) as page:
        page.goto(f"{url}/lab?toy={toy}&model={variant}")
        value = page.get_by_test_id("stMetricValue").first
        expect(value).to_have_text("0", timeout=60_000)
        page.get_by_text("Play", exact=True).click()
        expect(value).not_to_have_text("0", timeout=60_000)
        first, start = int(value.inner_text()), time.perf_counter()
        page.wait_for_timeout(seconds * 1000)
        last, elapsed = int(value.inner_text()), time.perf_counter() - start
    return (last - first) / k / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--variants", default="gan,vae,wgan-gp")
    parser.add_argument("--toy", default="ring")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in the app (app.py)
    print(f"toy {args.toy}, {args.seconds:.0f} s each, CPU, torch {torch.__version__}")
    print("| model | steps per update | bare updates/s | browser updates/s | browser / bare | goal |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp, \
            streamlit_server(Path(tmp) / "runs", Path(tmp) / "data", Path(tmp) / "log") as url:
        for variant in args.variants.split(","):
            bare = bare_rate(variant, args.toy, args.seconds)
            seen = browser_rate(url, variant, args.toy, args.seconds)
            k = default_steps_per_update(variant)
            print(f"| {variant} | {k} | {bare:.1f} | {seen:.1f} | {seen / bare:.2f} | ≥ 5 |", flush=True)


if __name__ == "__main__":
    main()
