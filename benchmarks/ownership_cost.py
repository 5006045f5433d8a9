"""What the run-store's ownership checks cost a training run: the time of one checked
metrics line and one checked status write, against the training time between two log
lines of the ring GAN preset (measured side by side in the same process).

    .venv/bin/python benchmarks/ownership_cost.py [--repeats 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from genlab.data import load_dataset  # noqa: E402
from genlab.models import build_model  # noqa: E402
from genlab.presets import make_config  # noqa: E402
from genlab.store.lifecycle import change, owning, take_over, this_process  # noqa: E402
from genlab.store.runs import create_run  # noqa: E402
from genlab.training.batches import BatchSampler  # noqa: E402


def checked_writes(repeats: int) -> tuple[float, float]:
    """Seconds per owned metrics line, and per owned status write."""
    with tempfile.TemporaryDirectory() as tmp:
        run = create_run(Path(tmp), make_config("gan", "ring"))
        take_over(run)
        change(run, "running", expect=("starting",), **this_process())
        with open(run.metrics_path, "a", encoding="utf-8") as metrics:
            start = time.perf_counter()
            for _ in range(repeats):
                with owning(run, os.getpid()):
                    metrics.write('{"step": 1, "loss_d": 1.0}\n')
                    metrics.flush()
            line = (time.perf_counter() - start) / repeats
        start = time.perf_counter()
        for i in range(repeats // 10):
            with owning(run, os.getpid()) as held:
                held.update(step=i)
        status = (time.perf_counter() - start) / (repeats // 10)
    return line, status


def log_interval(steps: int = 200) -> float:
    """Seconds of training between two log lines (log_every steps) of the ring GAN preset."""
    config = make_config("gan", "ring")
    data = load_dataset("ring")
    torch.manual_seed(0)
    model = build_model(config.model, data.shape, data.n_classes)
    optimizers = model.make_optimizers(config.optim)
    sampler = BatchSampler(data.x_train, data.y_train, config.optim.batch_size, 0)
    rng = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for step in range(steps):
        model.train_step(sampler, optimizers, step, rng)
    return (time.perf_counter() - start) / steps * config.schedule.log_every


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    line, status = checked_writes(args.repeats)
    interval = log_interval()
    print(f"checked metrics line   {line * 1e3:8.3f} ms")
    print(f"checked status write   {status * 1e3:8.3f} ms  (at most once a second)")
    print(f"training per log line  {interval * 1e3:8.3f} ms  (ring GAN preset, {torch.get_num_threads()} thread)")
    print(f"cost of the checks     {100 * line / interval:8.3f} % of training, "
          f"+ {100 * status:.3f} % of each second for the status")


if __name__ == "__main__":
    main()
