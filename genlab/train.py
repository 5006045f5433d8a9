"""The Trainer: the loop, snapshots, checkpoints, logging, stop and exact resume.

Each model family owns its update rule (`model.train_step`); the Trainer owns everything
around it. The hot loop does no host sync: step results stay on the device and are
averaged into running sums that are read only when a line is logged.
"""

from __future__ import annotations

import json
import math
import os
import time
import traceback
from collections.abc import Callable

import torch

from genlab.config import ConfigError, RunConfig, validate
from genlab.data import Dataset, DatasetError, DatasetUnavailable, load_dataset
from genlab.device import describe, pick_device
from genlab.metrics.report import evaluate_model, record_evaluation
from genlab.models import build_model, check_fits_data
from genlab.runs import Run, read_jsonl, write_json_atomic
from genlab.snapshots import save_snapshot
from genlab.statefile import load_state, save_state

ProgressCallback = Callable[[int, int], None]

# The full checkpoint (about 3x the weights, with Adam's moments) is written at a snapshot
# step when this long has passed since the last one, and always on stop and at the end:
# a killed worker loses at most this much work, and short runs stay fast.
CHECKPOINT_EVERY_S = 30.0
# status.json is rewritten at most this often while training.
STATUS_EVERY_S = 1.0


class BatchSampler:
    """Shuffled mini-batches as index slices of tensors already on the device.

    Draw k comes from epoch k // batches_per_epoch, whose permutation is seeded by
    (seed, epoch): the whole stream is a function of the draw counter, so resuming
    needs only that counter. The last partial batch of an epoch is dropped.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor | None, batch_size: int, seed: int):
        if batch_size > len(x):
            raise ConfigError(f"batch size {batch_size} is larger than the {len(x)} training samples")
        self.x, self.y, self.batch_size, self.seed = x, y, batch_size, seed
        self.per_epoch = len(x) // batch_size
        self.draws = 0
        self._epoch, self._perm = -1, None

    def next(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        epoch, i = divmod(self.draws, self.per_epoch)
        if epoch != self._epoch:
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perm = torch.randperm(len(self.x), generator=gen).to(self.x.device)
            self._epoch = epoch
        idx = self._perm[i * self.batch_size:(i + 1) * self.batch_size]
        self.draws += 1
        return self.x[idx], (self.y[idx] if self.y is not None else None)


def snapshot_steps(total: int, n: int) -> list[int]:
    """Step 0 plus n evenly spaced steps ending at `total`."""
    return sorted({0} | {round(total * k / n) for k in range(1, n + 1)})


def scale_lr(optimizers: dict[str, torch.optim.Optimizer], base_lrs: list[list[float]], factor: float) -> None:
    """Set every learning rate to factor x its initial value. For the linear schedule,
    lr_t = lr_0 (1 - t / T): a function of the step alone, so a resume needs no extra state."""
    for o, base in zip(optimizers.values(), base_lrs):
        for group, lr0 in zip(o.param_groups, base):
            group["lr"] = lr0 * factor


def dataset_for(config: RunConfig) -> Dataset:
    d = config.data
    return load_dataset(d.name, path=d.path, image_size=d.image_size, color=d.color)


def check_config(config: RunConfig, data: Dataset) -> None:
    """Everything that can be refused before training starts: values, then fit to the data."""
    validate(config)
    check_fits_data(config.model, data.kind, data.shape, data.n_classes)
    if config.optim.batch_size > len(data.x_train):
        raise ConfigError(f"batch size {config.optim.batch_size} is larger than the "
                          f"{len(data.x_train)} training samples of {data.name}")


class Trainer:
    """Trains the run in `run`, from scratch or from its checkpoint.

    Stop with `request_stop()` (a signal handler may call it) or by creating the run's
    STOP file: the Trainer finishes the current step, saves a checkpoint and ends the
    run as `cancelled`.
    """

    def __init__(self, run: Run, device: str | None = None, on_progress: ProgressCallback | None = None):
        self.run = run
        self.config = run.config()
        self.device_name = device or self.config.schedule.device
        self.on_progress = on_progress
        self._stop = False

    def request_stop(self) -> None:
        self._stop = True

    def _stopping(self) -> bool:
        return self._stop or self.run.stop_requested()

    def train(self) -> str:
        """Train to the end, a stop, divergence or an error; return the final state."""
        run = self.run
        try:
            self.device = pick_device(self.device_name)
            data = dataset_for(self.config)
            check_config(self.config, data)
            return self._train(data)
        except torch.OutOfMemoryError:
            batch = self.config.optim.batch_size
            return self._end("failed", f"out of memory on {self.device} at batch size {batch}; "
                                       f"try a smaller batch, e.g. {max(1, batch // 2)}")
        except (ConfigError, DatasetError, DatasetUnavailable) as exc:
            return self._end("failed", str(exc))
        except Exception as exc:  # the run must end with a state and a message, whatever happened
            with open(run.log_path, "a", encoding="utf-8") as log:
                log.write(traceback.format_exc())
            return self._end("failed", f"{type(exc).__name__}: {exc} (details in {run.log_path.name})")

    def _end(self, state: str, error: str | None = None, **fields) -> str:
        self.run.set_status(state=state, error=error, finished=time.time(), pid=None, pgid=None, **fields)
        return state

    def _train(self, data: Dataset) -> str:
        cfg, run, device = self.config, self.run, self.device
        sched, opt = cfg.schedule, cfg.optim
        torch.manual_seed(sched.seed)
        model = build_model(cfg.model, data.shape, data.n_classes).to(device)
        optimizers = model.make_optimizers(opt.lr, opt.lr_d, (opt.beta1, opt.beta2), opt.weight_decay)
        base_lrs = [[g["lr"] for g in o.param_groups] for o in optimizers.values()]
        gen = torch.Generator(device).manual_seed(sched.seed)
        x = data.x_train.to(device)
        y = data.y_train.to(device) if data.y_train is not None else None
        sampler = BatchSampler(x, y, opt.batch_size, sched.seed)
        real_preview = data.x_train[:2000] if data.kind == "points" else None
        sums: dict[str, torch.Tensor | float] = {}
        count, step, elapsed = 0, 0, 0.0
        last_checkpoint = last_status = clock = time.perf_counter()

        if run.checkpoint_path.exists():
            state = load_state(run.checkpoint_path, device)
            model.load_state_dict(state["model"])
            for name, o in optimizers.items():
                o.load_state_dict(state["optimizers"][name])
            gen.set_state(state["generator"].cpu())
            torch.set_rng_state(state["torch_rng"].cpu())
            sampler.draws, step, elapsed = state["draws"], state["step"], state["elapsed"]
            sums, count = state["sums"], state["count"]
            self._truncate_metrics(step)
        else:
            write_json_atomic(run.dataset_path, {
                "name": data.name, "kind": data.kind, "shape": list(data.shape),
                "classes": data.classes, "source": data.source, "n_train": len(data.x_train),
                "n_test": len(data.x_test), "notes": data.notes})
            self._truncate_metrics(0)
        saved_step = step  # the step of the checkpoint on disk; after a resume, the one just loaded

        def snapshot(at_step: int) -> None:
            nonlocal clock
            save_snapshot(run, model, at_step, real_preview)
            if sched.evaluate:
                started = time.perf_counter()
                result = evaluate_model(model, data, sched.eval_samples, device=device)
                record_evaluation(run, at_step, {**result, "train_seconds": round(elapsed, 3)})
                model.train()
                clock += time.perf_counter() - started  # evaluation time is not training time

        def checkpoint() -> None:
            nonlocal last_checkpoint, saved_step
            last_checkpoint, saved_step = time.perf_counter(), step
            save_state(run.checkpoint_path, {
                "model": model.state_dict(),
                "optimizers": {name: o.state_dict() for name, o in optimizers.items()},
                "generator": gen.get_state(), "torch_rng": torch.get_rng_state(),
                "draws": sampler.draws, "step": step, "elapsed": elapsed,
                "sums": sums, "count": count})

        if step == 0:
            snapshot(0)
            checkpoint()
        run.set_status(state="running", step=step, total_steps=sched.steps, device=describe(device),
                       started=time.time(), error=None, pid=os.getpid(), pgid=os.getpgrp())
        snap_at = set(snapshot_steps(sched.steps, sched.n_snapshots))
        metrics = open(run.metrics_path, "a", encoding="utf-8")
        clock = time.perf_counter()  # training time runs from here
        try:
            while step < sched.steps:
                if self._stopping():
                    elapsed += time.perf_counter() - clock
                    checkpoint()
                    run.stop_path.unlink(missing_ok=True)
                    return self._end("cancelled", step=step, elapsed_s=elapsed)
                if opt.lr_schedule == "linear":
                    scale_lr(optimizers, base_lrs, 1 - step / sched.steps)
                out = model.train_step(sampler, optimizers, step, gen)
                step += 1
                for k, v in out.items():
                    sums[k] = sums[k] + v if k in sums else v
                count += 1
                if step % sched.log_every == 0 or step in snap_at:
                    now = time.perf_counter()
                    elapsed, clock = elapsed + now - clock, now
                    record = {"step": step, "time": round(elapsed, 3)}
                    record.update({k: _mean(v, count) for k, v in sums.items()})
                    bad = [k for k, v in record.items() if not _finite(v)]
                    if bad:
                        return self._end("diverged", (
                            f"{', '.join(bad)} became NaN or infinite by step {step}; the checkpoint "
                            f"of step {saved_step} is kept. Try a lower learning rate."))
                    metrics.write(_json_line(record))
                    metrics.flush()
                    sums, count = {}, 0
                    if now - last_status >= STATUS_EVERY_S:
                        run.set_status(step=step, elapsed_s=elapsed)
                        last_status = now
                if step in snap_at:
                    snapshot(step)
                    if step == sched.steps or time.perf_counter() - last_checkpoint >= CHECKPOINT_EVERY_S:
                        checkpoint()
                if self.on_progress:
                    self.on_progress(step, sched.steps)
        finally:
            metrics.close()
        return self._end("completed", step=step, elapsed_s=elapsed)

    def _truncate_metrics(self, step: int) -> None:
        """Keep only the lines logged up to `step` (the checkpoint), for an exact resume."""
        kept = [r for r in read_jsonl(self.run.metrics_path) if r.get("step", 0) <= step]
        tmp = self.run.metrics_path.with_name(".metrics.jsonl.tmp")
        tmp.write_text("".join(_json_line(r) for r in kept), encoding="utf-8")
        os.replace(tmp, self.run.metrics_path)


def _mean(total: torch.Tensor | float, count: int) -> float | list[float]:
    if isinstance(total, torch.Tensor):
        value = (total / count).tolist()
        return [round(v, 6) for v in value] if isinstance(value, list) else value
    return total / count


def _finite(value) -> bool:
    if isinstance(value, list):
        return all(math.isfinite(v) for v in value)
    return math.isfinite(value)


def _json_line(record: dict) -> str:
    return json.dumps(record, allow_nan=True) + "\n"
