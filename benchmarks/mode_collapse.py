"""Mode collapse on the 2-D toys, by the PacGAN protocol, next to the published table.

For each variant and toy, several seeds are trained with genlab's Trainer on the CPU;
2,500 samples of each final model are assigned to their nearest mode (high quality when
within 3 standard deviations). The table gives the mean and standard error over seeds of
the modes captured and of the share of high-quality samples, and the time per run.
With --drs each GAN also gets a row "+ DRS": the same trained generator sampled through
discriminator rejection sampling (benchmarks/rejection.py), with the share of candidates accepted
and the seconds the rejection classifier took to fit.

Usage: python benchmarks/mode_collapse.py [--seeds 5] [--steps N] [--variants gan,wgan-gp,...]
       [--datasets ring,grid] [--drs] [--threads 2]
(--steps defaults to each variant's preset.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rejection import fit_rejection_sampler  # noqa: E402  (beside this script)

from genlab.data import Dataset, load_dataset  # noqa: E402
from genlab.metrics.modes import mode_coverage  # noqa: E402
from genlab.presets import make_config  # noqa: E402
from genlab.store.runs import create_run  # noqa: E402
from genlab.store.snapshots import load_model  # noqa: E402
from genlab.training.trainer import Trainer  # noqa: E402

VARIANTS = ["gan", "gan-r1", "wgan-gp", "pacgan2", "hinge-sn", "vae"]
# PacGAN (Lin et al. 2018), Table 1: modes captured and high-quality share.
PUBLISHED = {
    ("ring", "GAN"): "6.3 ± 0.5, 98.2%", ("ring", "PacGAN2"): "7.9 ± 0.1, 95.6%",
    ("ring", "VEEGAN"): "8.0, 52.9%",
    ("grid", "GAN"): "17.3 ± 0.8, 94.8%", ("grid", "PacGAN2"): "23.8 ± 0.7, 91.3%",
    ("grid", "VEEGAN"): "24.6, 40.0%",
}


def mean_se(values: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0.0
    return mean, se


def one_run(variant: str, data: Dataset, seed: int, steps: int | None, root: Path, drs: bool) -> dict:
    """Train one seed; its mode coverage, seconds, and (with drs) the same after rejection."""
    run = create_run(root, make_config(variant, data.name, seed=seed, steps=steps, n_snapshots=1,
                                       log_every=100, device="cpu"))
    start = time.perf_counter()
    assert Trainer(run).train() == "completed", run.status()
    out = {"seconds": time.perf_counter() - start}
    model, _ = load_model(run)
    out["raw"] = mode_coverage(model.sample(2500, seed=1000 + seed), data.modes, data.mode_std)
    if drs and model.family == "gan":
        start = time.perf_counter()
        sampler = fit_rejection_sampler(model, data.x_train, seed=seed)
        samples, out["acceptance"] = sampler.sample(2500, seed=1000 + seed)
        out["drs_seconds"] = time.perf_counter() - start
        out["drs"] = mode_coverage(samples, data.modes, data.mode_std)
    return out


def row(dataset: str, name: str, results: list[dict], seconds: list[float], acceptance: str = "") -> str:
    modes, modes_se = mean_se([r["modes_captured"] for r in results])
    hq, hq_se = mean_se([100 * r["high_quality"] for r in results])
    total = results[0]["modes_total"]
    return (f"| {dataset} | {name} | {modes:.1f} ± {modes_se:.1f} of {total} | {hq:.1f} ± {hq_se:.1f}% "
            f"| {statistics.fmean(seconds):.0f} | {acceptance} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None, help="default: each variant's preset")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--datasets", default="ring,grid")
    parser.add_argument("--drs", action="store_true", help="also sample each GAN through rejection")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    steps = f"{args.steps} steps" if args.steps else "preset steps"
    print(f"{args.seeds} seeds, {steps}, CPU ({args.threads} threads), torch {torch.__version__}")
    print("| toy | variant | modes captured | high quality | s per run | DRS acceptance |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.datasets.split(","):
            data = load_dataset(dataset)
            for variant in args.variants.split(","):
                runs = [one_run(variant, data, s, args.steps, Path(tmp), args.drs) for s in range(args.seeds)]
                print(row(dataset, variant, [r["raw"] for r in runs], [r["seconds"] for r in runs]), flush=True)
                if "drs" in runs[0]:
                    acceptance = statistics.fmean(r["acceptance"] for r in runs)
                    print(row(dataset, f"{variant} + DRS", [r["drs"] for r in runs],
                              [r["seconds"] + r["drs_seconds"] for r in runs], f"{100 * acceptance:.0f}%"),
                          flush=True)
    print("\nPublished (PacGAN Table 1, modes captured, high quality):")
    for (dataset, name), value in PUBLISHED.items():
        print(f"- {dataset}, {name}: {value}")


if __name__ == "__main__":
    main()
