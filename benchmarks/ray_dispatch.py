"""What dispatching runs through Ray costs: 16 tiny runs (a ring GAN, 200 steps) launched at
once through the local executor (detached processes) and through a local Ray cluster on the
same machine, both two at a time, alternating rounds. Reports each round's total time (first
launch to last finish) and each run's start latency (dispatched -> training: status
`launched` -> `started`, the worker's start-up and its claim of the run).

    .venv/bin/python benchmarks/ray_dispatch.py [--runs 16] [--rounds 2] [--steps 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import ray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from genlab import jobs  # noqa: E402
from genlab.presets import make_config  # noqa: E402
from genlab.store.runs import list_runs  # noqa: E402


def one_round(executor: str, n_runs: int, steps: int) -> tuple[float, list[float]]:
    """Launch `n_runs` runs on `executor`, wait for all; total seconds and start latencies."""
    os.environ["GENLAB_EXECUTOR"] = executor
    with tempfile.TemporaryDirectory() as tmp:
        runs_dir = Path(tmp) / "runs"
        start = time.time()
        for seed in range(n_runs):
            config = make_config("gan", "ring", steps=steps, log_every=50, n_snapshots=2, seed=seed)
            jobs.launch(config, runs_dir)
        summaries = list_runs(runs_dir)
        while not all(s.state == "completed" for s in summaries):
            bad = [s.run.id for s in summaries if s.state in ("failed", "interrupted", "cancelled")]
            if bad:
                raise SystemExit(f"runs did not complete on {executor}: {bad}")
            jobs.reconcile(runs_dir)  # as the app's sidebar does; the workers also start the next runs
            time.sleep(0.2)
            summaries = list_runs(runs_dir)
        statuses = [s.status for s in summaries]
        total = max(s["finished"] for s in statuses) - start
        return total, [s["started"] - s["launched"] for s in statuses]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    os.environ.update(GENLAB_MAX_JOBS="2", GENLAB_WORKER_THREADS="1", GENLAB_RAY_ADDRESS="auto")
    began = time.time()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    print(f"local Ray cluster of 2 CPUs started in {time.time() - began:.1f} s (once, not counted below)")
    results: dict[str, tuple[list[float], list[float]]] = {"local": ([], []), "ray": ([], [])}
    for _ in range(args.rounds):
        for executor in ("local", "ray"):
            total, latencies = one_round(executor, args.runs, args.steps)
            results[executor][0].append(total)
            results[executor][1].extend(latencies)
            print(f"  {executor}: {total:.1f} s", flush=True)
    ray.shutdown()
    report(results, args)


def report(results: dict[str, tuple[list[float], list[float]]], args: argparse.Namespace) -> None:
    print(f"\n{args.runs} runs of {args.steps} steps, 2 at a time, {args.rounds} alternating rounds each")
    print("| executor | total s (median round) | per run s | start latency median s | p95 s |")
    print("|---|---|---|---|---|")
    for executor, (totals, latencies) in results.items():
        total = statistics.median(totals)
        p95 = statistics.quantiles(latencies, n=20)[-1]
        print(f"| {executor} | {total:.1f} | {total / args.runs:.2f} | {statistics.median(latencies):.2f} | "
              f"{p95:.2f} |")
    local, on_ray = (statistics.median(results[k][0]) for k in ("local", "ray"))
    print(f"\nRay / local total: {on_ray / local:.2f}x; Ray's overhead per run: "
          f"{(on_ray - local) / args.runs:+.2f} s")


if __name__ == "__main__":
    main()
