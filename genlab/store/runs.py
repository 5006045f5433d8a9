"""The run directory: the one place a run's state lives. This listing is the reference;
docs/design.md points here.

    checkpoints/<run_id>/
      config.json             the RunConfig, written once at creation
      status.json             the state and the fields below; replaced atomically
      dataset.json            name, kind, shape, classes, source, split sizes and notes (files
                              skipped in a user's folder) of the data; written once by the Trainer
      metrics.jsonl           one JSON object per logged step: step, training time, and the means of
                              the family's named values since the last line
      snapshots/              step_NNNNNNN.safetensors (inference weights) and step_NNNNNNN.png (the
                              fixed-noise picture), at step 0 and evenly spaced steps
      checkpoint.safetensors  the latest full training state (train.TrainState, via statefile.py)
      eval.json               {"evaluations": [...]}: metrics, one entry per evaluated step
      evaluating.json         pid and start time of a background evaluation (`python -m genlab eval`)
      eval.log                that evaluation's output
      worker.log              the worker's output, and the traceback of an unexpected failure
      demo.json               only in the demo runs that ship with GenLab: title and how they were made
      STOP                    present while a stop is requested
      .lock                   the run's lock file (genlab.store.lifecycle), empty

States: queued -> starting (a worker is being started) -> running -> completed, cancelled,
failed, diverged or interrupted (its worker died); a cancelled, interrupted, failed or
diverged run is queued again by resume and continues from its checkpoint. The legal changes
are listed once, in genlab/store/lifecycle.py, and every change goes through it.

status.json fields (STATUS_FIELDS): state, step, total_steps, created, updated and elapsed_s
(training seconds) always; queued_at when resumed, with lr_on_resume when a new learning rate
was asked for; launched and gpu when a worker is started; pid, pgid and pid_start (the
process's start time, so a recycled pid is not mistaken for it) of the process that owns the
run while it is starting or running; device and started when training starts; finished and
error (why it failed, diverged or was interrupted) when it ends; cancel_requested while a
cancel is pending; lr_history, the learning rates set on resume; user, the name of the
class member who launched it (genlab.classroom.access; absent outside a class and in demo runs);
executor ("ray", or absent for this machine), with ray_actor (the worker actor's name) and
ray_address (its cluster), set when a run is started on a Ray cluster (genlab.jobs.executors);
time_limit_s, the training seconds after which a student's run stops (a class's limit,
GENLAB_STUDENT_MAX_MINUTES; cleared when the teacher resumes it).

Writers replace whole files atomically (genlab.store.atomic) or append whole lines; readers
tolerate a torn last line and report a broken run instead of failing. A run id is a safe
file name.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genlab import settings
from genlab.config import ConfigError, RunConfig, validate
from genlab.store.atomic import write_json_atomic
from genlab.store.jsonfile import read_json_object

STATES = ("queued", "starting", "running", "completed", "cancelled", "failed", "diverged", "interrupted")
_NUMBER = (int, float)
# Each field of status.json and the JSON types it may hold (None: may be null).
STATUS_FIELDS: dict[str, tuple] = {
    "state": (str,), "step": (int,), "total_steps": (int,), "created": _NUMBER, "updated": _NUMBER,
    "elapsed_s": _NUMBER, "queued_at": (*_NUMBER, None), "lr_on_resume": (*_NUMBER, None),
    "launched": (*_NUMBER, None), "gpu": (int, None), "pid": (int, None), "pgid": (int, None),
    "pid_start": (int, None), "device": (str, None), "started": (*_NUMBER, None),
    "finished": (*_NUMBER, None), "error": (str, None), "cancel_requested": (*_NUMBER, None),
    "lr_history": (list,), "user": (str, None), "executor": (str, None), "ray_actor": (str, None),
    "ray_address": (str, None), "time_limit_s": (*_NUMBER, None)}
REQUIRED_STATUS = ("state", "step", "total_steps", "created")
DATASET_FIELDS: dict[str, tuple] = {
    "name": (str,), "kind": (str,), "shape": (list,), "classes": (list, None), "source": (str,),
    "n_train": (int,), "n_test": (int,), "notes": (dict,)}
CREATING = ".creating-"  # a run being written, before it is renamed into place
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
SNAPSHOT_PATTERN = re.compile(r"step_(\d{7})\.safetensors")


class RunError(ValueError):
    """A run id, or a run's files, cannot be used; the message says why."""


def check_run_id(run_id: str) -> str:
    """Return `run_id` if it is a safe file name, else raise RunError."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id) or ".." in run_id:
        raise RunError(f"{run_id!r} is not a run id: letters, digits, '.', '_' and '-' only, "
                       "starting with a letter or digit, at most 100 characters")
    return run_id


def new_run_id(config: RunConfig) -> str:
    """`<name or variant-dataset>-<UTC time>-<4 hex digits>`, e.g. dcgan-fashion-mnist-20261122-101500-3f2a."""
    base = config.name or f"{config.model.variant}-{config.data.name}"
    slug = re.sub(r"[^A-Za-z0-9_]+", "-", base).strip("-")[:60] or "run"
    return f"{slug}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(2)}"


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file of a run; RunError, naming the file and its run, when it is
    missing, unreadable, corrupt or not an object."""
    return read_json_object(path, f"run {path.parent.name}", RunError)


def check_fields(value: dict[str, Any], schema: dict[str, tuple], required: tuple[str, ...], what: str) -> None:
    """RunError naming the first field of `value` that is missing or of a type `schema` does
    not allow (a bool is not a number; fields the schema does not name are let through)."""
    for key in required:
        if key not in value:
            raise RunError(f"{what} has no {key!r}")
    for key, allowed in schema.items():
        if key not in value:
            continue
        v = value[key]
        ok = (v is None and None in allowed) or (not isinstance(v, bool) and isinstance(
            v, tuple(t for t in allowed if t is not None)))
        if not ok:
            names = " or ".join("null" if t is None else t.__name__ for t in allowed)
            raise RunError(f"{what}: {key!r} must be {names}, not {v!r}")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every whole JSON line of a file; a torn (half-written) or corrupt line is skipped."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise RunError(f"{path.name} of run {path.parent.name} cannot be read ({exc.strerror})") from exc
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


@dataclass(frozen=True)
class Run:
    """A handle on one run directory; every read goes to disk."""

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    config_path = property(lambda self: self.path / "config.json")
    dataset_path = property(lambda self: self.path / "dataset.json")
    status_path = property(lambda self: self.path / "status.json")
    metrics_path = property(lambda self: self.path / "metrics.jsonl")
    snapshots_dir = property(lambda self: self.path / "snapshots")
    checkpoint_path = property(lambda self: self.path / "checkpoint.safetensors")
    eval_path = property(lambda self: self.path / "eval.json")
    stop_path = property(lambda self: self.path / "STOP")
    log_path = property(lambda self: self.path / "worker.log")
    evaluating_path = property(lambda self: self.path / "evaluating.json")
    eval_log_path = property(lambda self: self.path / "eval.log")
    lock_path = property(lambda self: self.path / ".lock")
    # Present in the demo runs that ship with GenLab (made by `make demo-checkpoints`).
    demo_path = property(lambda self: self.path / "demo.json")

    @property
    def is_demo(self) -> bool:
        return self.demo_path.is_file()

    def config(self) -> RunConfig:
        """config.json, checked by the config's own rules (a hand-edited `hidden: -4` or an
        unknown family is a broken run, not a crash in a view); RunError when it does not fit."""
        try:
            config = RunConfig.from_dict(read_json(self.config_path))
            validate(config)
            return config
        except (ConfigError, TypeError) as exc:
            raise RunError(f"config.json of run {self.id} is not a valid config: {exc}") from exc

    def dataset_info(self) -> dict[str, Any]:
        info = read_json(self.dataset_path)
        check_fields(info, DATASET_FIELDS, ("shape", "kind"), f"dataset.json of run {self.id}")
        if not info["shape"] or not all(isinstance(n, int) and n > 0 for n in info["shape"]):
            raise RunError(f"dataset.json of run {self.id}: 'shape' must be a list of positive whole numbers")
        return info

    def status(self) -> dict[str, Any]:
        """status.json, checked against STATUS_FIELDS; RunError when it does not fit."""
        status = read_json(self.status_path)
        check_fields(status, STATUS_FIELDS, REQUIRED_STATUS, f"status.json of run {self.id}")
        if status["state"] not in STATES:
            raise RunError(f"status.json of run {self.id}: unknown state {status['state']!r}")
        return status

    def evaluations(self) -> list[dict[str, Any]]:
        """eval.json's evaluations in step order ([] when there is none); RunError when it is corrupt."""
        if not self.eval_path.exists():
            return []
        raw = read_json(self.eval_path).get("evaluations")
        if not isinstance(raw, list) or not all(isinstance(e, dict) and type(e.get("step")) is int for e in raw):
            raise RunError(f"eval.json of run {self.id} is not a list of evaluations with their steps")
        return sorted(raw, key=lambda e: e["step"])

    def metrics(self) -> list[dict[str, Any]]:
        return read_jsonl(self.metrics_path)

    def snapshot_steps(self) -> list[int]:
        """Steps that have a weights snapshot, in order."""
        try:
            names = os.listdir(self.snapshots_dir)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise RunError(f"snapshots of run {self.id} cannot be listed ({exc.strerror})") from exc
        return sorted(int(m.group(1)) for n in names if (m := SNAPSHOT_PATTERN.fullmatch(n)))

    def snapshot_path(self, step: int, suffix: str = ".safetensors") -> Path:
        return self.snapshots_dir / f"step_{step:07d}{suffix}"

    def latest_picture(self) -> tuple[int, Path] | None:
        """The newest snapshot's step and its sample picture, or None when there is none yet."""
        steps = self.snapshot_steps()
        picture = self.snapshot_path(steps[-1], ".png") if steps else None
        return (steps[-1], picture) if picture is not None and picture.exists() else None

    def request_stop(self) -> None:
        self.stop_path.touch()

    def stop_requested(self) -> bool:
        return self.stop_path.exists()


def create_run(runs_dir: Path, config: RunConfig, state: str = "queued", **fields: Any) -> Run:
    """Make a new run directory holding config.json, status.json (with `fields`) and its lock
    file. It is written under a hidden name (which listings skip) and renamed into place
    whole: a launch that cannot be written (a full disk) leaves nothing behind."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    scratch = Run(Path(tempfile.mkdtemp(prefix=CREATING, dir=runs_dir)))
    try:
        os.chmod(scratch.path, 0o755)  # as a run folder made by mkdir (mkdtemp makes it 0700)
        scratch.lock_path.touch()
        write_json_atomic(scratch.config_path, config.to_dict())
        now = time.time()
        write_json_atomic(scratch.status_path, {"state": state, "step": 0, "total_steps": config.schedule.steps,
                                                "created": now, "updated": now, "elapsed_s": 0.0, **fields})
        while True:
            run = Run(runs_dir / new_run_id(config))
            if not run.path.exists():  # ids carry the second and 16 random bits: a clash is rare
                os.rename(scratch.path, run.path)
                return run
    except BaseException:
        shutil.rmtree(scratch.path, ignore_errors=True)
        raise


def open_run(runs_dir: Path, run_id: str) -> Run:
    """The run called `run_id` (in `runs_dir`, else a shipped demo run of that name); RunError
    when the id is unsafe or no such run exists."""
    run = Run(runs_dir / check_run_id(run_id))
    if run.config_path.is_file():
        return run
    demo = Run(settings.demos_dir() / run_id) if settings.demos_dir() else None
    if demo is not None and demo.is_demo and demo.config_path.is_file():
        return demo
    raise RunError(f"no run {run_id!r} in {runs_dir}")


@dataclass
class RunSummary:
    """What a listing shows of a run; `error` is set when the run's files are broken."""

    run: Run
    config: RunConfig | None
    status: dict[str, Any]
    error: str | None = None
    steps: tuple[int, ...] = ()  # the snapshots' steps when it was listed

    @property
    def state(self) -> str:
        return str(self.status.get("state", "broken" if self.error else "unknown"))


def summarize(run: Run) -> RunSummary:
    """The run's config and status, or what is wrong with its files: every file a listing
    or a view relies on is checked here, once, so a broken run shows as broken."""
    try:
        config = run.config()
    except RunError as exc:
        return RunSummary(run, None, {}, str(exc))
    try:
        status = run.status()
    except RunError as exc:
        return RunSummary(run, config, {}, str(exc))
    try:
        steps = check_layout(run)
    except RunError as exc:
        return RunSummary(run, config, status, str(exc))
    return RunSummary(run, config, status, steps=tuple(steps))


def check_layout(run: Run) -> list[int]:
    """RunError when a file the views read is of the wrong kind or corrupt; else the snapshots' steps."""
    if run.dataset_path.exists():
        run.dataset_info()
    steps = run.snapshot_steps()
    if run.metrics_path.exists() and not run.metrics_path.is_file():
        raise RunError(f"metrics.jsonl of run {run.id} is not a file")
    run.evaluations()
    return steps


def run_folders(folder: Path) -> list[Run]:
    """The runs of one folder (real folders with a run id for a name; hidden scratch skipped)."""
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    # DirEntry.is_dir without following links reads the entry's type, not the disk (a stat each was
    # a third of a class server's listing).
    return [Run(Path(e.path)) for e in entries
            if e.is_dir(follow_symlinks=False) and RUN_ID_PATTERN.fullmatch(e.name)]


def shipped_demos(runs_dir: Path) -> list[Run]:
    """The demo runs that ship with GenLab ($GENLAB_DEMOS), shown read-only wherever the runs
    folder is, so lessons have their evidence on a fresh class server; a run of the same id in
    `runs_dir` wins."""
    demos = settings.demos_dir()
    if not demos or not demos.is_dir() or (runs_dir.is_dir() and demos.resolve() == runs_dir.resolve()):
        return []
    return [r for r in run_folders(demos) if r.is_demo and not (runs_dir / r.id).exists()]


def list_runs(runs_dir: Path) -> list[RunSummary]:
    """Every run in `runs_dir` and the shipped demos, newest first; broken ones included
    with their error."""
    summaries = [summarize(r) for r in run_folders(runs_dir) + shipped_demos(runs_dir)]
    return sorted(summaries, key=lambda s: s.status.get("created", 0), reverse=True)
