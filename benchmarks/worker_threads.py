"""Training speed of a worker beside the app, with torch's default threads against the
threads GenLab gives a worker (`jobs.worker_threads()`: the cores less one for the app,
shared among the runs allowed at once).

The app is loaded as in a class: `streamlit run app.py` with a Chromium page playing the
2-D lab. Beside it, the same short training runs one at a time, alternating between the two
thread counts (torch reads OMP_NUM_THREADS when it starts); each row gives the median steps
per second over the rounds, from the run's own training clock (status.json's elapsed_s).
The second table adds "anything else": one more process doing torch work with torch's
default threads the whole time (another user's job, an evaluation, a test suite).

Usage: python benchmarks/worker_threads.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from genlab import jobs  # noqa: E402
from tests.streamlit_server import chromium_page, streamlit_server  # noqa: E402

# (model, dataset, steps): a toy GAN as the lab trains, and the DCGAN preset on images.
RUNS = [("gan", "ring", 1500), ("dcgan", "fashion-mnist", 60)]


def steps_per_second(variant: str, dataset: str, steps: int, threads: int, runs_dir: Path) -> float:
    """Train one run in its own process with `threads` torch threads; its steps per second."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    name = f"{variant}-{threads}-{len(list(runs_dir.glob('*')))}"
    subprocess.run([sys.executable, "-m", "genlab", "train", variant, "--dataset", dataset, "--steps", str(steps),
                    "--name", name, "--runs-dir", str(runs_dir)], check=True, env=env, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    [status] = [json.loads(p.read_text()) for p in runs_dir.glob(f"*{name}*/status.json")]
    return status["step"] / status["elapsed_s"]


# Torch work with the default threads, until killed: the "anything else" of a shared machine.
BUSY = "import torch\nx = torch.randn(512, 512)\nwhile True:\n    x = torch.tanh(x @ x / 512)"


def table(title: str, default: int, ours: int, rounds: int, base: Path) -> None:
    print(f"\n| {title} | default threads: steps/s | worker threads: steps/s | worker / default |\n|---|---|---|---|")
    for variant, dataset, steps in RUNS:
        rates: dict[int, list[float]] = {default: [], ours: []}
        for _ in range(rounds):
            for threads in rates:
                rates[threads].append(steps_per_second(variant, dataset, steps, threads, base / "runs"))
        slow, fast = statistics.median(rates[default]), statistics.median(rates[ours])
        print(f"| {variant} on {dataset}, {steps} steps | {slow:.1f} | {fast:.1f} | {fast / slow:.1f}x |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    default, ours = torch.get_num_threads(), jobs.worker_threads()
    base = Path(tempfile.mkdtemp())
    print(f"{len(os.sched_getaffinity(0))} cores; torch's default {default} thread(s), a GenLab worker {ours}")
    with streamlit_server(base / "app-runs", base / "data", base / "streamlit.log") as url, \
            chromium_page() as page:
        page.goto(f"{url}/lab?toy=grid&model=gan")
        page.get_by_text("Play", exact=True).click()
        table("beside the app (2-D lab playing)", default, ours, args.rounds, base)
        busy = subprocess.Popen([sys.executable, "-c", BUSY])
        try:
            table("beside the app and one more torch process", default, ours, args.rounds, base)
        finally:
            busy.kill()


if __name__ == "__main__":
    main()
