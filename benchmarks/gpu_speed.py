"""One epoch of Fashion-MNIST on a GPU: GenLab's Trainer against a bare loop of the same
networks, with each speed-up of genlab.training.speedups, side by side in one process.

- bare: `model.train_step` over genlab's in-memory batches, nothing else (no logging,
  snapshots or checkpoints), with the speed-ups named in its row;
- Trainer: the full Trainer (data loading left out: it is timed as the run's training
  time, `elapsed_s`, which holds logging, snapshots and checkpoints; the epoch has the
  snapshots a preset run has in as many steps, 3 where 3,000 steps have 20) under
  GENLAB_CUDA_SPEEDUPS as named in its row; its wall clock, data loading included, too.

Each row is the median of `--repeats` epochs after a warm-up of 30 steps. pytorch/examples'
vae/main.py is timed by benchmarks/gpu_session.sh on the same GPU.

Usage: python benchmarks/gpu_speed.py [--repeats 3] [--device cuda] [--steps N (default: one epoch)]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.train_speed import sync, time_trainer  # noqa: E402
from genlab.data import load_dataset  # noqa: E402
from genlab.models import build_model  # noqa: E402
from genlab.presets import make_config  # noqa: E402
from genlab.training import speedups  # noqa: E402
from genlab.training.batches import BatchSampler  # noqa: E402
from genlab.training.device import describe, pick_device  # noqa: E402

MODELS = {  # label -> (variant, settings beside the preset's)
    "DCGAN (base width 32)": ("dcgan", {}),
    "MLP VAE 784-400-20": ("vae", {"latent_dim": 20}),  # pytorch/examples' vae/main.py
    "conv VAE (base width 32)": ("conv-vae", {}),
}
BARE = ["none", "fused_adam", "fused_adam,channels_last,bf16"]
TRAINER = ["none", "fused_adam"]
HEADER = ("| model | loop | speed-ups | epoch s (Trainer: training time) | Trainer wall s (data loading too) "
          "| speed vs bare, none | Trainer vs bare, same speed-ups |\n|---|---|---|---|---|---|---|")


def chosen(names: str) -> tuple[str, ...]:
    return () if names == "none" else tuple(names.split(","))


def time_bare(config, data, device: torch.device, steps: int, names: str, compile_networks: bool = False) -> float:
    """Seconds for `steps` updates of a fresh model, after 30 warm-up steps (with torch.compile,
    the warm-up compiles: its time is printed)."""
    torch.manual_seed(0)
    model = build_model(config.model, data.shape, data.n_classes).to(device)
    if compile_networks:
        for network in model.children():
            network.compile()
    optimizers = model.make_optimizers(config.optim)
    speedups.prepare(model, optimizers, chosen(names))
    y = data.y_train.to(device)
    batches = BatchSampler(data.x_train.to(device), y, config.optim.batch_size, 0)
    noise_rng = torch.Generator(device).manual_seed(0)

    def steps_of(n: int) -> None:
        for step in range(n):
            with speedups.step_context(device, chosen(names)):
                model.train_step(batches, optimizers, step, noise_rng)

    start = time.perf_counter()
    steps_of(30)
    sync(device)
    if compile_networks:
        print(f"torch.compile: warm-up of 30 steps {time.perf_counter() - start:.1f} s", flush=True)
    start = time.perf_counter()
    steps_of(steps)
    sync(device)
    return time.perf_counter() - start


def time_trainer_with(config, device: torch.device, names: str) -> tuple[float, float]:
    """The Trainer's (training seconds, wall-clock seconds) under GENLAB_CUDA_SPEEDUPS=names."""
    os.environ["GENLAB_CUDA_SPEEDUPS"] = names
    return time_trainer(config, device)


def measure(label: str, variant: str, extra: dict, data, device: torch.device, args) -> None:
    """Print the model's rows as they are measured."""
    config = make_config(variant, "fashion-mnist", device=str(device), **extra)
    steps = args.steps or len(data.x_train) // config.optim.batch_size
    # As many snapshots in the epoch as a preset run of 3,000 steps with 20 snapshots has.
    snapshots = max(1, round(config.schedule.n_snapshots * steps / config.schedule.steps))
    config = make_config(variant, "fashion-mnist", device=str(device), steps=steps, n_snapshots=snapshots, **extra)
    print(f"{label}: {steps} steps x {config.optim.batch_size}, {snapshots} snapshot(s)", flush=True)
    bare = {}
    for n in BARE:
        bare[n] = statistics.median(time_bare(config, data, device, steps, n) for _ in range(args.repeats))
        print(f"| {label} | bare loop | {n} | {bare[n]:.2f} | | {bare['none'] / bare[n]:.2f}x | |", flush=True)
    for names in TRAINER:
        times = [time_trainer_with(config, device, names) for _ in range(args.repeats)]
        train_s, wall = statistics.median(t for t, _ in times), statistics.median(w for _, w in times)
        print(f"| {label} | Trainer | {names} | {train_s:.2f} | {wall:.2f} | {bare['none'] / train_s:.2f}x "
              f"| {train_s / bare[names] - 1:+.0%} |", flush=True)


def compare_compile(data, device: torch.device, args) -> None:
    config = make_config("dcgan", "fashion-mnist", device=str(device))
    steps = args.steps or len(data.x_train) // config.optim.batch_size
    for names in ("fused_adam", "fused_adam,channels_last,bf16"):
        eager = time_bare(config, data, device, steps, names)
        compiled = time_bare(config, data, device, steps, names, compile_networks=True)
        print(f"| DCGAN, bare loop, {names} | eager {eager:.2f} s | torch.compile {compiled:.2f} s "
              f"| {eager / compiled:.2f}x |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--compile", action="store_true", help="only the bare DCGAN loop, with and without "
                                                               "torch.compile of its networks")
    args = parser.parse_args()
    device = pick_device(args.device)
    data = load_dataset("fashion-mnist")
    print(f"device: {describe(device)}, torch {torch.__version__}, CUDA {torch.version.cuda}", flush=True)
    if args.compile:
        return compare_compile(data, device, args)
    print(HEADER, flush=True)
    for label in args.models.split(","):
        measure(label, *MODELS[label], data, device, args)


if __name__ == "__main__":
    main()
