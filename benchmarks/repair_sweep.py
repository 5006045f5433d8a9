"""Repairing images as the damage grows: hidden-pixel MSE of each run's repairs against the
damaged input's, for boxes, missing pixels and noise of three strengths each.

The runs' own eval.json holds one fixed box and one noise level (`genlab eval`); this sweeps
the strength, on the same first test images for every run. Prints a markdown table.

Usage: python benchmarks/repair_sweep.py [--runs demo-dcgan-fashion,demo-vae-fashion]
       [--images 64] [--runs-dir checkpoints] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genlab.models.repair import Damage, repair_all  # noqa: E402
from genlab.store.runs import open_run  # noqa: E402
from genlab.store.snapshots import load_model  # noqa: E402
from genlab.training.trainer import dataset_for  # noqa: E402

SWEEP = [Damage("box", size=s) for s in (0.25, 0.5, 0.75)] + \
        [Damage("pixels", rate=r) for r in (0.25, 0.5, 0.75)] + \
        [Damage("noise", sigma=s) for s in (0.1, 0.3, 0.5)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="demo-dcgan-fashion,demo-vae-fashion")
    parser.add_argument("--runs-dir", type=Path, default=Path("checkpoints"))
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runs = [open_run(args.runs_dir, r) for r in args.runs.split(",")]
    models = {run.id: load_model(run)[0] for run in runs}
    truth = dataset_for(runs[0].config()).x_test[:args.images]
    columns = [f"{run_id}: {m}" for run_id, model in models.items() for m in
               (("search", "encoder") if model.family == "vae" else ("search",))]
    print(f"| damage | damaged input | {' | '.join(columns)} |")
    print("|---" * (2 + len(columns)) + "|")
    seconds: dict[str, float] = {}
    for how in SWEEP:
        cells, damaged = [], None
        for run_id, model in models.items():
            done = repair_all(model, truth, how)
            damaged = done.damaged_errors["hidden_mse"]
            for method, e in done.errors.items():
                cells.append(f"{e['hidden_mse']:.4f}")
                seconds[f"{run_id}: {method}"] = seconds.get(f"{run_id}: {method}", 0.0) + e["seconds"]
        print(f"| {how.describe()} | {damaged:.4f} | {' | '.join(cells)} |", flush=True)
    print()
    print(f"Seconds for {len(SWEEP)} damages of {args.images} images, {args.threads} thread(s): "
          + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()))
    return 0


if __name__ == "__main__":
    start = time.perf_counter()
    code = main()
    print(f"({time.perf_counter() - start:.0f} s in all)")
    sys.exit(code)
