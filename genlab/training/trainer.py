"""The Trainer: the loop, snapshots, checkpoints, logging, stop and exact resume.

Each model family owns its update rule (`model.train_step`); the Trainer owns everything
around it. The hot loop does no host sync: step results stay on the device and are
averaged into running sums that are read only when a line is logged.

Everything a checkpoint holds is a field of `TrainState`, saved by its `state_dict()` and
restored by its `load_state_dict()`: a field cannot be saved without being restored.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

import torch

from genlab.config import ConfigError, RunConfig, validate
from genlab.data import Dataset, DatasetError, DatasetUnavailable, load_dataset
from genlab.metrics.evaluate import evaluate_model
from genlab.models import GenerativeModel, build_model, check_fits_data
from genlab.store.atomic import write_json_atomic, write_text_atomic
from genlab.store.evaluations import record_evaluation
from genlab.store.faults import fault_point, trace
from genlab.store.lifecycle import StateConflict, holding, owning, take_over, this_process
from genlab.store.runs import Run, RunError, read_jsonl
from genlab.store.snapshots import save_snapshot
from genlab.store.statefile import load_state, save_state
from genlab.training import speedups
from genlab.training.batches import BatchSampler
from genlab.training.device import describe, pick_device
from genlab.training.step_log import RunningMeans, non_finite
from genlab.views.overview import duration
from genlab.views.pictures import snapshot_png

ProgressCallback = Callable[[int, int], None]

# The full checkpoint (about 3x the weights, with Adam's moments) is written at a snapshot
# step when this long has passed since the last one, and always on stop and at the end:
# a killed worker loses at most this much work, and short runs stay fast.
CHECKPOINT_EVERY_S = 30.0
# status.json is rewritten at most this often while training.
STATUS_EVERY_S = 1.0


def snapshot_steps(total: int, n: int) -> list[int]:
    """Step 0 plus n evenly spaced steps ending at `total`."""
    return sorted({0} | {round(total * k / n) for k in range(1, n + 1)})


def dataset_for(config: RunConfig) -> Dataset:
    """The run's data: the dataset, cut to its training subset when the run asks for one."""
    d = config.data
    data = load_dataset(d.name, path=d.path, image_size=d.image_size, color=d.color)
    return data.first_train(d.train_subset) if d.train_subset else data


def check_config(config: RunConfig, data: Dataset) -> None:
    """Everything that can be refused before training starts: values, the device, then fit to the data."""
    validate(config)
    pick_device(config.schedule.device)
    check_fits_data(config.model, data.kind, data.shape, data.n_classes)
    n_train = len(data.x_train)
    subset = config.data.train_subset
    if subset is not None and subset > n_train:
        raise ConfigError(f"a training subset of {subset:,} is larger than the {n_train:,} training samples "
                          f"of {data.name}")
    if config.optim.batch_size > min(n_train, subset or n_train):
        raise ConfigError(f"batch size {config.optim.batch_size} is larger than the "
                          f"{min(n_train, subset or n_train)} training samples of {data.name}"
                          + (" the run trains on" if subset else ""))


@dataclass
class TrainState:
    """What training has reached: everything a checkpoint holds, and nothing else."""

    model: GenerativeModel
    optimizers: dict[str, torch.optim.Optimizer]
    noise_rng: torch.Generator  # draws z, and eps of a VAE, on the training device
    sampler: BatchSampler
    log: RunningMeans = field(default_factory=RunningMeans)  # step outputs since the last log line
    step: int = 0
    elapsed: float = 0.0  # training seconds, evaluation excluded
    # The learning rates the optimisers were built with, which a schedule scales.
    base_lrs: list[list[float]] = field(init=False)

    def __post_init__(self) -> None:
        self.base_lrs = [[g["lr"] for g in o.param_groups] for o in self.optimizers.values()]

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(),
                "optimizers": {name: o.state_dict() for name, o in self.optimizers.items()},
                "noise_rng": self.noise_rng.get_state(), "torch_rng": torch.get_rng_state(),
                "draws": self.sampler.draws, "step": self.step, "elapsed": self.elapsed,
                "log": self.log.state_dict(), "base_lrs": self.base_lrs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        state = _upgrade(state)
        self.model.load_state_dict(state["model"])
        for name, o in self.optimizers.items():
            o.load_state_dict(state["optimizers"][name])
        self._restore_noise(state["noise_rng"].cpu(), state["step"])
        torch.set_rng_state(state["torch_rng"].cpu())
        self.sampler.draws, self.step, self.elapsed = state["draws"], state["step"], state["elapsed"]
        self.log.load_state_dict(state["log"])
        if "base_lrs" in state:  # not in the earlier layout (see _upgrade)
            self.base_lrs = [list(groups) for groups in state["base_lrs"]]

    def _restore_noise(self, saved: torch.Tensor, step: int) -> None:
        """Continue the noise stream; a run that moves between a CPU and a GPU cannot (their
        generators' states differ), so its noise goes on from the run's seed plus the step."""
        if saved.numel() == self.noise_rng.get_state().numel():
            self.noise_rng.set_state(saved)
        else:
            self.noise_rng.manual_seed(self.noise_rng.initial_seed() + step)

    def set_lr(self, lr: float) -> None:
        """Make `lr` the learning rate of the first network (a GAN's generator, a VAE); the
        others keep their ratio to it. It becomes the schedule's starting rate too."""
        ratio = lr / self.base_lrs[0][0]
        self.base_lrs = [[b * ratio for b in groups] for groups in self.base_lrs]
        self.scale_lr(1.0)

    def scale_lr(self, factor: float) -> None:
        """Set every learning rate to factor x its initial value. For the linear schedule,
        lr_t = lr_0 (1 - t / T): a function of the step alone, so a resume needs no extra state."""
        for o, base in zip(self.optimizers.values(), self.base_lrs):
            for group, lr0 in zip(o.param_groups, base):
                group["lr"] = lr0 * factor


def _upgrade(state: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint in today's layout; those written before TrainState kept the noise RNG
    as "generator" and the log sums at the top level, and no learning-rate bases: theirs
    are the config's, as the fresh optimisers have them (nothing could change them then)."""
    if "noise_rng" in state:
        return state
    return {**state, "noise_rng": state["generator"], "log": {"sums": state["sums"], "count": state["count"]}}


def new_state(config: RunConfig, data: Dataset, device: torch.device) -> TrainState:
    """A freshly initialised model, its optimisers, seeded RNGs and a sampler on `device`."""
    seed = config.schedule.seed
    torch.manual_seed(seed)
    model = build_model(config.model, data.shape, data.n_classes).to(device)
    optimizers = model.make_optimizers(config.optim)
    noise_rng = torch.Generator(device).manual_seed(seed)
    y = data.y_train.to(device) if data.y_train is not None else None
    sampler = BatchSampler(data.x_train.to(device), y, config.optim.batch_size, seed)
    return TrainState(model, optimizers, noise_rng, sampler)


class Trainer:
    """Trains the run in `run`, from scratch or from its checkpoint.

    A worker (`foreground=False`) trains a run the scheduler moved to starting; in the
    foreground (the CLI, the demos, tests) the Trainer first takes a queued or stopped run
    over. Either way it owns the run once it has moved it to running under its pid, and
    writes nothing to a run it no longer owns.

    Stop with `request_stop()` (a signal handler may call it) or by creating the run's
    STOP file: the Trainer finishes the current step, saves a checkpoint and ends the
    run as `cancelled`.
    """

    def __init__(self, run: Run, device: str | None = None, on_progress: ProgressCallback | None = None,
                 foreground: bool = True):
        self.run = run
        try:
            self.config, self.broken = run.config(), None
        except RunError as exc:  # ends the run failed with the reason, once it is this process's
            self.config, self.broken = None, str(exc)
        self.device_name = device or (self.config.schedule.device if self.config else "cpu")
        self.on_progress = on_progress
        self.foreground = foreground
        self.pid = os.getpid()
        self._stop = False
        self._saved_step = 0  # the step of the checkpoint on disk
        self.time_limit_s: float | None = None  # training seconds a class allows this run (status.json)
        self.speedups: tuple[str, ...] = ()  # genlab.training.speedups, chosen for the device

    def request_stop(self) -> None:
        self._stop = True

    def _stopping(self) -> bool:
        return self._stop or self.run.stop_requested()

    def train(self) -> str:
        """Train to the end, a stop, divergence or an error; return the run's final state."""
        try:
            new_lr = self._claim()
        except StateConflict as exc:
            self._note(f"not training: {exc}")
            return self.run.status()["state"]
        if self.broken:
            return self._end("failed", self.broken)
        try:
            self.device = pick_device(self.device_name)
            self.speedups = speedups.chosen_for(self.device)
            data = dataset_for(self.config)
            check_config(self.config, data)
            return self._loop(data, new_lr)
        except StateConflict as exc:  # cancelled or taken over by another process meanwhile
            trace("stop", self.run.id)
            self._note(f"stopped training: {exc}")
            return self.run.status()["state"]
        except torch.OutOfMemoryError:
            pass  # answered below, once the exception's frames (and the tensors they hold) are gone
        except (ConfigError, DatasetError, DatasetUnavailable) as exc:
            return self._end("failed", str(exc))
        except OSError as exc:
            return self._failed_on_disk(exc)
        except Exception as exc:  # the run must end with a state and a message, whatever happened
            self._note(traceback.format_exc())
            return self._end("failed", f"{type(exc).__name__}: {exc} (details in {self.run.log_path.name})")
        return self._out_of_memory()

    def _out_of_memory(self) -> str:
        """End as failed, saying what to lower; the memory is handed back for the other runs."""
        batch = self.config.optim.batch_size
        shared = ""
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
            shared = " or train fewer runs at once on this GPU (GENLAB_RUNS_PER_GPU)"
        return self._end("failed", f"out of memory on {describe(self.device)} at batch size {batch}: try a "
                                   f"smaller batch, e.g. {max(1, batch // 2)}, or a smaller model{shared}")

    def _failed_on_disk(self, exc: OSError) -> str:
        """End as failed with what the disk said (a full disk, most often). When even that
        cannot be written, the run stays running until reconcile finds its worker gone."""
        why = "no space left on the device" if exc.errno == errno.ENOSPC else f"a file could not be written: {exc}"
        self._note(traceback.format_exc())
        try:
            return self._end("failed", f"{why}; the checkpoint of step {self._saved_step} is kept: free space, "
                                       "then resume the run")
        except (OSError, RunError):
            return "failed"

    def _claim(self) -> float | None:
        """Own the run: starting -> running under this process. Returns the learning rate a
        resume asked for, if any; StateConflict when the run is not this process's to train."""
        if self.foreground:
            take_over(self.run)
        with holding(self.run, ("starting",), (None, self.pid)) as held:
            new_lr = held.status.get("lr_on_resume")
            self.time_limit_s = held.status.get("time_limit_s")
            held.update("running", started=time.time(), error=None, lr_on_resume=None, **this_process())
        trace("train", self.run.id)
        fault_point("claimed")
        return new_lr

    def _note(self, text: str) -> None:
        """A line in worker.log, if the disk takes it."""
        with contextlib.suppress(OSError), open(self.run.log_path, "a", encoding="utf-8") as log:
            log.write(text.rstrip() + "\n")

    def _loop(self, data: Dataset, new_lr: float | None) -> str:
        sched = self.config.schedule
        self._data = data
        self._probe_batch = data.x_train[:256].to(self.device)  # the same real points at every log line
        state = self._restore_or_start()
        self._mark_running(state, new_lr)
        snap_at = set(snapshot_steps(sched.steps, sched.n_snapshots))
        with open(self.run.metrics_path, "a", encoding="utf-8") as metrics:
            self._clock = time.perf_counter()  # training time runs from here
            while state.step < sched.steps:
                if self._stopping():
                    return self._stop_now(state)
                if self._over_time_limit(state):
                    return self._stop_now(state, f"stopped after {duration(self.time_limit_s)} of training, the "
                                                 "limit of a student's run in this class; the teacher may resume it")
                self._one_step(state)
                if state.step % sched.log_every == 0 or state.step in snap_at:
                    bad = self._log_line(state, metrics)
                    if bad:
                        return self._diverged(state, bad)
                if state.step in snap_at:
                    self._snapshot(state)
                    self._checkpoint_if_due(state)
                if self.on_progress:
                    self.on_progress(state.step, sched.steps)
        return self._end("completed", step=state.step, elapsed_s=state.elapsed)

    # ---- the named steps of the loop ----------------------------------------------------

    def _restore_or_start(self) -> TrainState:
        """The state of the checkpoint on disk, or a fresh one with its step-0 snapshot
        and checkpoint; metrics lines past the state's step are dropped."""
        state = new_state(self.config, self._data, self.device)
        self._clock = self._last_checkpoint = self._last_status = time.perf_counter()
        with owning(self.run, self.pid):
            if self.run.checkpoint_path.exists():
                state.load_state_dict(load_state(self.run.checkpoint_path, self.device))
            else:
                self._write_dataset_info()
            self._truncate_metrics(state.step)
        speedups.prepare(state.model, state.optimizers, self.speedups)
        self._saved_step = state.step
        if state.step == 0:
            self._snapshot(state)
            self._checkpoint(state)
        return state

    def _mark_running(self, state: TrainState, new_lr: float | None) -> None:
        """Record where training starts; apply a learning rate the resume asked for."""
        with owning(self.run, self.pid) as held:
            fields: dict[str, Any] = {}
            if new_lr is not None:
                state.set_lr(new_lr)
                fields["lr_history"] = [*held.status.get("lr_history", []), {"step": state.step, "lr": new_lr}]
            device = ", ".join([describe(self.device), *self.speedups])
            held.update(step=state.step, total_steps=self.config.schedule.steps, device=device, **fields)

    def _one_step(self, state: TrainState) -> None:
        if self.config.optim.lr_schedule == "linear":
            state.scale_lr(1 - state.step / self.config.schedule.steps)
        with speedups.step_context(self.device, self.speedups):
            out = state.model.train_step(state.sampler, state.optimizers, state.step, state.noise_rng)
        state.step += 1
        state.log.add(out)

    def _tick(self, state: TrainState) -> float:
        """Add the time since the last tick to the training time; return now."""
        now = time.perf_counter()
        state.elapsed, self._clock = state.elapsed + now - self._clock, now
        return now

    def _log_line(self, state: TrainState, metrics: IO[str]) -> list[str]:
        """Append the means since the last line to metrics.jsonl. Returns the names of any
        NaN or infinite means; then nothing is written."""
        now = self._tick(state)
        record = {"step": state.step, "time": round(state.elapsed, 3), **state.log.means(),
                  **state.model.probes(self._probe_batch)}
        bad = non_finite(record)
        if bad:
            return bad
        with owning(self.run, self.pid) as held:
            fault_point("metrics")
            metrics.write(_json_line(record))
            metrics.flush()
            if now - self._last_status >= STATUS_EVERY_S:
                held.update(step=state.step, elapsed_s=state.elapsed)
                self._last_status = now
        state.log.reset()
        return []

    def _snapshot(self, state: TrainState) -> None:
        """Weights and picture at this step, and its evaluation when the schedule asks."""
        real_preview = self._data.x_train[:2000] if self._data.kind == "points" else None
        with owning(self.run, self.pid):
            save_snapshot(self.run, state.model, state.step, snapshot_png(state.model, real_preview))
        if self.config.schedule.evaluate:
            started = time.perf_counter()
            result = evaluate_model(state.model, self._data, self.config.schedule.eval_samples, device=self.device)
            with owning(self.run, self.pid):
                record_evaluation(self.run, state.step, {**result, "train_seconds": round(state.elapsed, 3)})
            state.model.train()
            self._clock += time.perf_counter() - started  # evaluation time is not training time

    def _checkpoint_if_due(self, state: TrainState) -> None:
        last = state.step == self.config.schedule.steps
        if last or time.perf_counter() - self._last_checkpoint >= CHECKPOINT_EVERY_S:
            self._checkpoint(state)

    def _checkpoint(self, state: TrainState) -> None:
        with owning(self.run, self.pid):
            save_state(self.run.checkpoint_path, state.state_dict())
        self._last_checkpoint, self._saved_step = time.perf_counter(), state.step

    def _over_time_limit(self, state: TrainState) -> bool:
        """Whether the run has trained for its time limit (a student's run in a class)."""
        return self.time_limit_s is not None and state.elapsed + time.perf_counter() - self._clock >= self.time_limit_s

    def _stop_now(self, state: TrainState, why: str | None = None) -> str:
        """Save and end as cancelled (saying `why`, when given); but a NaN since the last log
        line ends it as diverged, keeping the last finite checkpoint."""
        self._tick(state)
        bad = non_finite(state.log.means())
        if bad:
            return self._diverged(state, bad)
        self._checkpoint(state)
        self.run.stop_path.unlink(missing_ok=True)
        return self._end("cancelled", why, step=state.step, elapsed_s=state.elapsed)

    def _diverged(self, state: TrainState, bad: list[str]) -> str:
        return self._end("diverged", (
            f"{', '.join(bad)} became NaN or infinite by step {state.step}; the checkpoint of step "
            f"{self._saved_step} is kept. Resume it with a lower learning rate "
            f"(python -m genlab resume {self.run.id} --lr …, or Resume on the Runs page)."))

    def _end(self, state: str, error: str | None = None, **fields: Any) -> str:
        trace("stop", self.run.id)  # training has stopped before the run says so
        with owning(self.run, self.pid) as held:
            held.update(state, error=error, finished=time.time(), pid=None, pgid=None, pid_start=None, **fields)
        return state

    def _write_dataset_info(self) -> None:
        write_json_atomic(self.run.dataset_path, self._data.info())

    def _truncate_metrics(self, step: int) -> None:
        """Keep only the lines logged up to `step` (the checkpoint), for an exact resume."""
        kept = [r for r in read_jsonl(self.run.metrics_path) if r.get("step", 0) <= step]
        write_text_atomic(self.run.metrics_path, "".join(_json_line(r) for r in kept))


def _json_line(record: dict) -> str:
    return json.dumps(record, allow_nan=True) + "\n"
