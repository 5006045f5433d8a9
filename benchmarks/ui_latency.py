"""Server-side latency of the app, measured with Streamlit's AppTest (no browser, no network).

1. Slider to image: the Latent space page of a 28x28 model on the CPU; the time of the
   script run that follows a move of the interpolation slider. Baseline, side by side:
   the bare work that run must do (decode the code, draw, PNG-encode).
2. The Runs page with 50 runs. Baseline: listing the 50 runs from disk.

Usage: python benchmarks/ui_latency.py [--repeats N]
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

from genlab.latent import lerp  # noqa: E402
from genlab.models import noise  # noqa: E402
from genlab.presets import make_config  # noqa: E402
from genlab.runs import create_run, list_runs  # noqa: E402
from genlab.snapshots import load_model  # noqa: E402
from genlab.train import Trainer  # noqa: E402
from genlab.viz import picture, png_bytes  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
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


if __name__ == "__main__":
    main()
