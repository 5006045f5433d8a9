"""The demo runs that ship in checkpoints/, so a fresh GenLab has models to show at once.

`make demo-checkpoints` (python -m genlab.teaching.demos) trains each with genlab's own
Trainer, keeps what the views need (config, status, logs, snapshots), drops the full
training checkpoint, stores the snapshot weights as float16 to stay small, and then
evaluates every snapshot from those stored weights, so the numbers shown are the
numbers of the models that ship.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetensors.torch import load_file
from tqdm import tqdm

from genlab.data import load_dataset
from genlab.metrics.evaluate import evaluate_model
from genlab.metrics.evaluator import ship_evaluator
from genlab.presets import make_config
from genlab.store.atomic import write_json_atomic
from genlab.store.evaluations import record_evaluation
from genlab.store.runs import Run, create_run
from genlab.store.snapshots import load_model, write_picture
from genlab.store.statefile import save_tensors
from genlab.teaching.lessons import REGULARISATION_RUN
from genlab.training.trainer import ProgressCallback, Trainer, dataset_for
from genlab.views.pictures import snapshot_png

MAX_TOTAL_BYTES = 30_000_000  # #26 grew the budget from 20 MB for the two conditional demos
# Datasets whose evaluator ships with the code (genlab/metrics/evaluators/), so that the
# lessons' live measurements need no training on a first visit.
SHIPPED_EVALUATORS = ("fashion-mnist",)


@dataclass(frozen=True)
class Demo:
    run_id: str
    variant: str
    dataset: str
    title: str
    overrides: dict[str, Any] = field(default_factory=dict)


# Same latent size (32) for the Fashion-MNIST GAN and VAEs, so Compare decodes the same z.
# Four snapshot intervals (five snapshots) keep the weights within the size budget.
_IMAGES = dict(latent_dim=32, steps=3000, n_snapshots=4)
DEMOS: list[Demo] = [
    Demo("demo-dcgan-fashion", "dcgan", "fashion-mnist", "DCGAN on Fashion-MNIST", _IMAGES),
    Demo("demo-vae-fashion", "conv-vae", "fashion-mnist", "Conv VAE on Fashion-MNIST (beta 1)", _IMAGES),
    Demo("demo-beta4-vae-fashion", "conv-vae", "fashion-mnist", "Conv VAE on Fashion-MNIST, beta 4",
         {**_IMAGES, "beta": 4.0}),
    Demo("demo-vae-2d-fashion", "vae", "fashion-mnist", "VAE with a 2-D latent on Fashion-MNIST",
         dict(latent_dim=2, hidden=256, steps=3000, n_snapshots=4)),
    # For the lessons on priors and on memorisation: one snapshot interval, to stay within budget.
    Demo("demo-dcgan-fashion-uniform", "dcgan", "fashion-mnist", "DCGAN on Fashion-MNIST, uniform prior",
         {**_IMAGES, "prior": "uniform", "n_snapshots": 1}),
    Demo("demo-dcgan-fashion-64", "dcgan", "fashion-mnist", "DCGAN trained on only 64 Fashion-MNIST images",
         {**_IMAGES, "train_subset": 64, "batch_size": 64, "n_snapshots": 1}),
    # The lesson on generated training data: a class-conditional GAN and VAE, the same conv
    # networks as the two above with the class given to both halves.
    Demo("demo-cdcgan-fashion", "cdcgan", "fashion-mnist", "Class-conditional DCGAN on Fashion-MNIST", _IMAGES),
    Demo("demo-cvae-fashion", "conv-vae", "fashion-mnist", "Class-conditional conv VAE on Fashion-MNIST",
         {**_IMAGES, "conditional": True}),
    # The regularisation lesson: one GAN on the grid without and with each regulariser.
    *[Demo(f"demo-reg-{name}", "gan", "grid", f"GAN on the grid, {title}", {**REGULARISATION_RUN, **extra})
      for name, title, extra in (("none", "no regularisation", {}),
                                 ("l2", "L2 weight decay", {"weight_decay": 1e-3}),
                                 ("sn", "spectral norm in D", {"spectral_norm": True}),
                                 ("r1", "R1 gradient penalty", {"r1_weight": 0.1}))],
    Demo("demo-gan-ring", "gan", "ring", "GAN on the ring that finds every mode",
         dict(steps=5000, n_snapshots=4)),
    # A generator that learns ten times faster than its discriminator: all its samples form one
    # clump that wanders from mode to mode (checked on two seeds: 0-1 modes captured).
    Demo("demo-gan-ring-collapsed", "gan", "ring", "GAN on the ring that collapses",
         dict(steps=5000, n_snapshots=4, lr=1e-3, lr_d=1e-4)),
]


def demo_runs(runs_dir: Path) -> dict[str, Run]:
    """The demo runs present in `runs_dir`, by id."""
    return {d.run_id: Run(runs_dir / d.run_id) for d in DEMOS if (runs_dir / d.run_id / "config.json").is_file()}


def shrink(run: Run) -> None:
    """Drop the training checkpoint (and the trainer's lock file) and store snapshot weights
    as float16 (views load them into float32 modules, so only the stored precision changes)."""
    run.checkpoint_path.unlink(missing_ok=True)
    run.lock_path.unlink(missing_ok=True)
    for step in run.snapshot_steps():
        path = run.snapshot_path(step)
        state = {k: (v.half() if v.is_floating_point() else v) for k, v in load_file(str(path)).items()}
        save_tensors(state, path, {"step": str(step), "dtype": "float16"})


def redraw_snapshots(run: Run) -> None:
    """Each snapshot's picture drawn again from the stored (float16) weights, in today's palette."""
    data = dataset_for(run.config())
    real = data.x_train[:2000] if data.kind == "points" else None
    for step in run.snapshot_steps():
        model, _ = load_model(run, step)
        write_picture(run, step, snapshot_png(model, real))


def evaluate_snapshots(run: Run, samples: int) -> None:
    """eval.json for every snapshot, from the stored (float16) weights; what the model is
    used for (repairs, its samples as training data) is measured at the last one."""
    data = dataset_for(run.config())
    times = {int(r["step"]): r.get("time", 0.0) for r in run.metrics()}
    steps = run.snapshot_steps()
    for step in steps:
        model, _ = load_model(run, step)
        result = evaluate_model(model, data, samples, uses=step == steps[-1])
        record_evaluation(run, step, {**result, "train_seconds": times.get(step, 0.0)})


def make_demo(demo: Demo, runs_dir: Path, samples: int, on_progress: ProgressCallback | None = None) -> Run:
    """Train one demo in a scratch folder, shrink and evaluate it, then move it into place."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".making-", dir=runs_dir) as scratch:
        run = create_run(Path(scratch), make_config(demo.variant, demo.dataset, name=demo.run_id,
                                                    seed=0, device="cpu", **demo.overrides))
        state = Trainer(run, on_progress=on_progress).train()
        if state != "completed":
            raise RuntimeError(f"{demo.run_id}: training ended {state}: {run.status().get('error')}")
        shrink(run)
        redraw_snapshots(run)
        evaluate_snapshots(run, samples)
        write_json_atomic(run.demo_path, {"title": demo.title, "made_by": "make demo-checkpoints",
                                                   "made": time.time()})
        target = runs_dir / demo.run_id
        shutil.rmtree(target, ignore_errors=True)
        run.path.rename(target)
    return Run(target)


def total_bytes(runs_dir: Path) -> int:
    return sum(f.stat().st_size for run in demo_runs(runs_dir).values() for f in run.path.rglob("*") if f.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the demo runs that ship in checkpoints/.")
    parser.add_argument("--out", type=Path, default=Path("checkpoints"), help="runs folder (default checkpoints)")
    parser.add_argument("--only", default="", help="comma-separated demo ids (default: all)")
    parser.add_argument("--eval-samples", type=int, default=2000)
    parser.add_argument("--redraw", action="store_true",
                        help="only draw the snapshot pictures of the demos in --out again (no training)")
    parser.add_argument("--reevaluate", action="store_true",
                        help="only evaluate the demos in --out again, from their stored weights (no training)")
    args = parser.parse_args(argv)
    wanted = [d for d in DEMOS if not args.only or d.run_id in args.only.split(",")]
    if not wanted:
        print(f"no such demo; known: {', '.join(d.run_id for d in DEMOS)}", file=sys.stderr)
        return 2
    if args.redraw or args.reevaluate:
        for demo in wanted:
            run = demo_runs(args.out)[demo.run_id]
            if args.redraw:
                redraw_snapshots(run)
            else:
                evaluate_snapshots(run, args.eval_samples)
        return 0
    for name in sorted({d.dataset for d in wanted if d.dataset in SHIPPED_EVALUATORS}):
        print(f"evaluator shipped for {name}: {ship_evaluator(load_dataset(name))}", flush=True)
    for demo in wanted:
        start = time.perf_counter()
        with tqdm(total=demo.overrides["steps"], desc=demo.run_id, unit="step", file=sys.stderr) as bar:
            make_demo(demo, args.out, args.eval_samples, lambda step, _total: bar.update(step - bar.n))
        print(f"{demo.run_id}: {time.perf_counter() - start:.0f} s (training and evaluation)", flush=True)
    size = total_bytes(args.out)
    print(f"demo runs: {size / 1e6:.1f} MB in all (limit {MAX_TOTAL_BYTES / 1e6:.1f} MB)")
    return 0 if size <= MAX_TOTAL_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
