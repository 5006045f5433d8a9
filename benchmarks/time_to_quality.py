"""How long a laptop CPU (or a GPU) needs for recognisable samples: FID against training seconds.

Trains the DCGAN and the conv VAE on Fashion-MNIST with genlab's Trainer, evaluating at
every snapshot (FID in the feature space of GenLab's Fashion-MNIST evaluator; evaluation
time is not counted as training time), and prints one row per snapshot.

Usage: python benchmarks/time_to_quality.py [--steps 3000] [--snapshots 10] [--samples 2000] [--device cpu]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genlab.presets import make_config  # noqa: E402
from genlab.store.runs import create_run  # noqa: E402
from genlab.training.device import describe, pick_device  # noqa: E402
from genlab.training.trainer import Trainer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--snapshots", type=int, default=10)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--variants", default="dcgan,conv-vae")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (GENLAB_CUDA_SPEEDUPS applies on cuda)")
    args = parser.parse_args()
    device = pick_device(args.device)
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for variant in args.variants.split(","):
            config = make_config(variant, "fashion-mnist", steps=args.steps, n_snapshots=args.snapshots,
                                 evaluate=True, eval_samples=args.samples, device=str(device), latent_dim=32)
            run = create_run(Path(tmp), config)
            assert Trainer(run).train() == "completed", run.status()
            for e in run.evaluations():
                rows.append((variant, e["step"], e["train_seconds"], e["fid"], e["fid_floor"],
                             e["precision"], e["recall"], e["classes_covered"]))
        where = describe(device) if device.type != "cpu" else f"CPU ({torch.get_num_threads()} threads)"
        print(f"Fashion-MNIST, batch 128, latent 32, {args.samples} samples per evaluation, {where}, "
              f"torch {torch.__version__}; evaluator: {run.evaluations()[-1]['feature_space']}")
        print("| model | step | training s | FID | real-vs-real floor | precision | recall | classes covered |")
        print("|---|---|---|---|---|---|---|---|")
        for variant, step, secs, fid, floor, p, r, classes in rows:
            print(f"| {variant} | {step} | {secs:.0f} | {fid:.2f} | {floor:.2f} | {p:.2f} | {r:.2f} | {classes}/10 |")


if __name__ == "__main__":
    main()
