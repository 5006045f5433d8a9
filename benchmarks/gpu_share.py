"""Several runs on one GPU: throughput with 1, 2, 4, 8 and 16 DCGAN runs at once.

Each level launches N DCGAN runs on Fashion-MNIST (`--steps` each) through genlab.jobs,
with GENLAB_MAX_JOBS=N so that all N start at once as workers of their own, and waits for
all of them. It reports, per level: the wall-clock time from launch to the last run's end
(worker start-up included), the runs of 3,000 steps (a preset run) the GPU would finish
per hour at that rate, each run's training time against a run alone, and the GPU memory
each worker held (the largest nvidia-smi reading of its process).

Usage: python benchmarks/gpu_share.py [--steps 1500] [--levels 1,2,4,8,16] [--device cuda]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genlab import jobs  # noqa: E402
from genlab.presets import make_config  # noqa: E402
from genlab.store.runs import Run  # noqa: E402

PRESET_STEPS = 3000


class MemoryWatch:
    """The largest GPU memory (MiB) nvidia-smi reports for each process, read twice a second."""

    def __init__(self) -> None:
        self.peak: dict[int, int] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(0.5):
            try:
                out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory",
                                      "--format=csv,noheader,nounits"], capture_output=True, text=True,
                                     timeout=10).stdout
            except (OSError, subprocess.TimeoutExpired):
                return
            for line in out.splitlines():
                pid, _, mib = line.partition(",")
                if pid.strip().isdigit() and mib.strip().isdigit():
                    self.peak[int(pid)] = max(self.peak.get(int(pid), 0), int(mib))


def level(n: int, steps: int, device: str) -> dict:
    """Launch n runs at once and wait for them; what the table reports."""
    with tempfile.TemporaryDirectory() as tmp:
        runs_dir = Path(tmp) / "runs"
        os.environ["GENLAB_MAX_JOBS"] = str(n)
        config = make_config("dcgan", "fashion-mnist", steps=steps, n_snapshots=2, device=device)
        with MemoryWatch() as memory:
            start = time.perf_counter()
            runs = jobs.launch_all([config] * n, runs_dir)
            while any(Run(r.path).status()["state"] in ("queued", "starting", "running") for r in runs):
                time.sleep(0.2)
            wall = time.perf_counter() - start
        states = [Run(r.path).status() for r in runs]
        failed = [s.get("error") for s in states if s["state"] != "completed"]
        assert not failed, failed
        return {"n": n, "wall": wall, "train": [s["elapsed_s"] for s in states],
                "memory": sorted(memory.peak.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--levels", default="1,2,4,8,16")
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    gpu = torch.cuda.get_device_name(0) if args.device == "cuda" else args.device
    print(f"GPU: {gpu}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
          f"{os.cpu_count()} CPU cores; DCGAN on Fashion-MNIST, {args.steps} steps x 128 per run", flush=True)
    print("| runs at once | wall s, launch to last end | preset runs per hour | throughput vs 1 "
          "| each run's training s (median, max) | slowdown of a run | GPU MiB per worker (median) |")
    print("|---|---|---|---|---|---|---|", flush=True)
    alone = base = None
    for n in map(int, args.levels.split(",")):  # the first level is the baseline: 1
        r = level(n, args.steps, args.device)
        alone = alone or statistics.median(r["train"])
        base = base or r["n"] / r["wall"]
        per_hour = r["n"] * args.steps / PRESET_STEPS / r["wall"] * 3600
        mid, worst = statistics.median(r["train"]), max(r["train"])
        memory = f"{statistics.median(r['memory']):.0f}" if r["memory"] else "n/a"
        print(f"| {r['n']} | {r['wall']:.1f} | {per_hour:.0f} | {r['n'] / r['wall'] / base:.2f}x "
              f"| {mid:.1f}, {worst:.1f} | {mid / alone:.2f}x | {memory} |", flush=True)


if __name__ == "__main__":
    main()
