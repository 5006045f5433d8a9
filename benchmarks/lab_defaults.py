"""Does every 2-D lab model learn every toy at the lab's defaults? Each (model, toy) pair is
trained as the lab trains it, one thread, for --steps steps; printed: modes captured and the
share of samples on a mode (ring and grid), and for every toy the median distance from a
real point to its nearest generated one (coverage, in data units) before and after: it falls
when the model spreads over the data, whatever the toy's shape.

Usage: python benchmarks/lab_defaults.py [--steps 1500] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genlab.teaching.lab import LAB_VARIANTS, TOYS, LabSettings, ToyLab  # noqa: E402


def coverage_distance(lab: ToyLab) -> float:
    """Median distance from each of 1,000 real test points to the nearest of 1,000 samples."""
    generated, real = lab.generated(1000, seed=1), lab.data.x_test[:1000]
    return float(torch.cdist(real, generated).min(dim=1).values.median())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| model | toy | modes captured | on a mode | real-to-sample distance, step 0 -> end | s |")
    print("|---|---|---|---|---|---|")
    for variant in LAB_VARIANTS:
        for toy in TOYS:
            lab = ToyLab(replace(LabSettings.defaults(variant, toy), seed=args.seed))
            before, start = coverage_distance(lab), time.perf_counter()
            lab.step(args.steps)
            modes = lab.modes()
            captured = f"{modes['modes_captured']} of {modes['modes_total']}" if modes else "-"
            on_mode = f"{100 * modes['high_quality']:.0f}%" if modes else "-"
            print(f"| {variant} | {toy} | {captured} | {on_mode} | {before:.3f} -> {coverage_distance(lab):.3f} "
                  f"| {time.perf_counter() - start:.0f} |", flush=True)


if __name__ == "__main__":
    main()
