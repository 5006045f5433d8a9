"""python -m genlab …: train, resume, list, cancel, delete, eval, sample, interpolate, repair,
datasets, models, class, worker.

Bad arguments get one line on stderr that names what is allowed, exit code 2, and
nothing is written.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import signal
import sys
import time
import typing
from pathlib import Path
from typing import Any, NoReturn

import torch
from tqdm import tqdm

from genlab import jobs, settings
from genlab.classroom import roster
from genlab.config import MAX_STEPS, SECTIONS, ConfigError, RunConfig, check_positive_lr, check_seed, validate
from genlab.data import DATASETS, DatasetError, DatasetUnavailable, availability
from genlab.metrics.evaluate import evaluate_model
from genlab.models import VARIANTS
from genlab.models.latent import interpolate
from genlab.models.repair import HALVES, KINDS, Damage, repair_all
from genlab.presets import make_config, with_settings
from genlab.store.evaluations import record_evaluation
from genlab.store.jsonfile import read_json_object
from genlab.store.lifecycle import StateConflict, take_over, this_process
from genlab.store.runs import Run, RunError, create_run, list_runs, open_run
from genlab.store.snapshots import load_model
from genlab.training.device import CHOICES as DEVICES
from genlab.training.device import pick_device
from genlab.training.trainer import Trainer, check_config, dataset_for
from genlab.views.metric_info import (
    METHOD_NAMES,
    METRICS,
    number,
    repair_rows,
    repair_table,
    shown,
    training_data_lines,
)
from genlab.views.pictures import labelled_rows, picture, save_png

EXIT_CODES = {"completed": 0, "cancelled": 130}


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        fail(message)


def fail(message: str) -> NoReturn:
    print(f"genlab: error: {message}", file=sys.stderr)
    sys.exit(2)


def build_parser() -> Parser:
    p = Parser(prog="python -m genlab", description="Train and compare small GANs and VAEs.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    add_train_parser(sub)
    add_run_parsers(sub)
    add_picture_parsers(sub)
    add_repair_parser(sub)
    add_class_parser(sub)
    return p


def add_class_parser(sub: argparse._SubParsersAction) -> None:
    """class add/list/remove: the roster of a class server (`make serve`)."""
    c = sub.add_parser("class", help="the accounts of a class server: add, list, remove")
    c.add_argument("action", choices=["add", "list", "remove", "locks", "unlock"],
                   help="locks: who may not log in now after wrong passwords; unlock NAME or ADDRESS: let them")
    c.add_argument("name", nargs="?", help="the account's name (add, remove, unlock); with --sso, its e-mail "
                                           "address; unlock also takes a client address")
    c.add_argument("--teacher", action="store_true", help="add: a teacher, who may change every run")
    c.add_argument("--sso", action="store_true",
                   help="add: an account that logs in through the school's OpenID Connect provider "
                        "(configured in .streamlit/secrets.toml), with no password here")
    c.add_argument("--runs-dir", type=Path, default=None)


def add_train_parser(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("train", help="train a model in the foreground",
                       description="Every setting of a run is a flag (generated from genlab.config); "
                                   "--config FILE.json starts from a saved config (a run's config.json "
                                   "reproduces that run), and flags change single settings of it.")
    t.add_argument("model", nargs="?", choices=list(VARIANTS), metavar="MODEL",
                   help=f"one of: {', '.join(VARIANTS)} (not with --config)")
    t.add_argument("--dataset", choices=list(DATASETS), metavar="NAME",
                   help=f"one of: {', '.join(DATASETS)} (not with --config)")
    t.add_argument("--config", type=Path, metavar="FILE.json", help="start from this run config")
    length = t.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=float, help="train for this many passes over the data")
    add_setting_flags(t, length)
    t.add_argument("--name", help="a name for the run (its id starts with it)")
    t.add_argument("--runs-dir", type=Path, default=None)


# Choices a config field cannot name itself (genlab.training.device imports torch's backends).
_FIELD_CHOICES = {"device": DEVICES}


def add_setting_flags(parser: argparse.ArgumentParser, steps_group: argparse._MutuallyExclusiveGroup) -> None:
    """A flag for every field of the config sections (--latent-dim, --lr-d, --spectral-norm /
    --no-spectral-norm, ...), so the command line cannot drift from genlab.config. Every
    default is None: a flag not given keeps the preset's (or the --config file's) value."""
    for klass in SECTIONS.values():
        hints = typing.get_type_hints(klass)
        for f in dataclasses.fields(klass):
            if not f.metadata.get("cli", True):
                continue
            flag = "--" + f.metadata.get("flag", f.name).replace("_", "-")
            target = steps_group if f.name == "steps" else parser
            kind = next(t for t in (typing.get_args(hints[f.name]) or (hints[f.name],)) if t is not type(None))
            if kind is bool:
                target.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, help=f.metadata["help"])
                continue
            choices = f.metadata.get("choices") or _FIELD_CHOICES.get(f.name)
            target.add_argument(flag, dest=f.name, type=kind, choices=choices, help=f.metadata["help"],
                                metavar=None if choices else f.name.upper())


def add_run_parsers(sub: argparse._SubParsersAction) -> None:
    """resume, list, cancel, delete, eval, datasets, models and worker."""
    r = sub.add_parser("resume", help="continue a stopped run from its checkpoint")
    r.add_argument("run")
    r.add_argument("--device", choices=DEVICES, metavar="DEVICE")
    r.add_argument("--lr", type=float, help="a new learning rate for the rest of the run (the discriminator's "
                                            "keeps its ratio to it); recorded in its status")
    r.add_argument("--runs-dir", type=Path, default=None)

    ls = sub.add_parser("list", help="list runs")
    ls.add_argument("--runs-dir", type=Path, default=None)

    for name, what in (("cancel", "stop a queued or training run (it keeps its checkpoint)"),
                       ("delete", "remove a stopped run and its files")):
        c = sub.add_parser(name, help=f"{what}; the command line acts as the teacher")
        c.add_argument("run")
        c.add_argument("--runs-dir", type=Path, default=None)

    e = sub.add_parser("eval", help="compute metrics for a run and write its eval.json")
    e.add_argument("run")
    e.add_argument("--step", type=int, help="snapshot step (default: the latest)")
    e.add_argument("--n", type=int, default=2000, help="samples to generate")
    e.add_argument("--iwae-k", type=int, default=50, help="VAE: importance samples per test point")
    e.add_argument("--device", choices=DEVICES, metavar="DEVICE")
    e.add_argument("--quick", action="store_true",
                   help="leave out repairing images and training a classifier on samples (tens of seconds)")
    e.add_argument("--runs-dir", type=Path, default=None)

    sub.add_parser("datasets", help="list datasets and whether they are here")
    sub.add_parser("models", help="list model variants")

    w = sub.add_parser("worker", help="train a prepared run directory (what the app launches)")
    w.add_argument("run_dir", type=Path)
    w.add_argument("--device", choices=DEVICES, metavar="DEVICE")


def add_picture_parsers(sub: argparse._SubParsersAction) -> None:
    """sample and interpolate: pictures of a run's model written to PNG files."""
    s = sub.add_parser("sample", help="write a grid of samples to a PNG")
    s.add_argument("run")
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--step", type=int, help="snapshot step (default: the latest)")
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--runs-dir", type=Path, default=None)

    i = sub.add_parser("interpolate", help="write a latent interpolation strip to a PNG")
    i.add_argument("run")
    i.add_argument("--steps", type=int, default=10)
    i.add_argument("--slerp", action="store_true", help="spherical instead of linear")
    i.add_argument("--seed-a", type=int, default=0)
    i.add_argument("--seed-b", type=int, default=1)
    i.add_argument("--label", type=int, default=0, help="class, for a conditional model")
    i.add_argument("--step", type=int, help="snapshot step (default: the latest)")
    i.add_argument("--out", type=Path, required=True)
    i.add_argument("--runs-dir", type=Path, default=None)


def add_repair_parser(sub: argparse._SubParsersAction) -> None:
    """repair: damage real test images and repair them with a run's model, as a PNG and errors."""
    r = sub.add_parser("repair", help="damage test images, repair them with the model, write a PNG and the errors")
    r.add_argument("run")
    r.add_argument("--damage", choices=KINDS, default="box", help="what is missing or wrong (default: box)")
    r.add_argument("--size", type=float, default=0.5, help="box: its side as a share of the image's (0-1)")
    r.add_argument("--x", type=float, default=0.5, help="box: its centre across, as a share of the width")
    r.add_argument("--y", type=float, default=0.5, help="box: its centre down, as a share of the height")
    r.add_argument("--half", choices=HALVES, default="left", help="half: which half is missing")
    r.add_argument("--rate", type=float, default=0.5, help="pixels: the share of pixels missing (0-1)")
    r.add_argument("--sigma", type=float, default=0.3, help="noise: its standard deviation (images in 0-1)")
    r.add_argument("--seed", type=int, default=0, help="pixels and noise: which pixels, which noise")
    r.add_argument("--n", type=int, default=8, help="test images to repair (1-64)")
    r.add_argument("--first", type=int, default=0, help="the first test image's index")
    r.add_argument("--step", type=int, help="snapshot step (default: the latest)")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--runs-dir", type=Path, default=None)


def runs_dir(args: argparse.Namespace) -> Path:
    """--runs-dir, else $GENLAB_RUNS or ./checkpoints; refused when it is not a folder."""
    path = args.runs_dir or settings.runs_dir()
    if path.exists() and not path.is_dir():
        raise RunError(f"the runs folder {path} is a file, not a folder")
    return path


def setting_values(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line, by config field name."""
    names = {f.name for klass in SECTIONS.values() for f in dataclasses.fields(klass)} | {"name"}
    return {k: v for k, v in vars(args).items() if k in names and v is not None}


def train_config(args: argparse.Namespace) -> RunConfig:
    """The run's config: MODEL on --dataset through the presets, or the --config file, with
    the flags given on top."""
    if args.config is None:
        if args.model is None or args.dataset is None:
            raise ConfigError("train needs MODEL and --dataset, or --config FILE.json")
        return make_config(args.model, args.dataset, **setting_values(args))
    if args.model is not None or args.dataset is not None:
        raise ConfigError("--config gives the model and the dataset; change them in the file, "
                          "not with MODEL or --dataset")
    try:
        raw = read_json_object(args.config)
    except ValueError as exc:
        raise ConfigError(f"--config {exc}") from exc
    return with_settings(RunConfig.from_dict(raw), setting_values(args))


def cmd_train(args: argparse.Namespace) -> int:
    config = train_config(args)
    validate(config)  # before the data is loaded: a bad value is refused at once
    folder = runs_dir(args)
    data = dataset_for(config)
    if args.epochs is not None:
        if not (math.isfinite(args.epochs) and args.epochs > 0):
            raise ConfigError(f"--epochs must be a finite number > 0, not {args.epochs}")
        batches = len(data.x_train) // max(1, config.optim.batch_size)
        config.schedule.steps = max(1, math.ceil(min(args.epochs * batches, MAX_STEPS + 1)))
    check_config(config, data)
    # Created starting under this process, so no scheduler hands it to a worker.
    run = create_run(folder, config, state="starting", launched=time.time(), **this_process())
    print(run.id, flush=True)
    return run_in_foreground(run, None)


def run_in_foreground(run: Run, device: str | None) -> int:
    """Train with a progress bar; Ctrl-C or SIGTERM stops cleanly with a checkpoint.
    The run must be starting under this process (create_run or take_over)."""
    bar = tqdm(total=run.config().schedule.steps, unit="step", file=sys.stderr, dynamic_ncols=True)
    bar.update(run.status().get("step", 0))

    def progress(step: int, total: int) -> None:
        bar.update(step - bar.n)

    trainer = Trainer(run, device, progress)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: trainer.request_stop())
    state = trainer.train()
    bar.close()
    status = run.status()
    message = f"{run.id}: {state} at step {status.get('step')}/{status.get('total_steps')}"
    if status.get("error"):
        message += f": {status['error']}"
    if state in ("cancelled", "interrupted"):
        message += f"; continue with: python -m genlab resume {run.id}"
    print(message, file=sys.stderr)
    return EXIT_CODES.get(state, 1)


def cmd_resume(args: argparse.Namespace) -> int:
    folder = runs_dir(args)
    jobs.reconcile(folder)  # a run whose worker died is interrupted, and so resumable
    run = open_run(folder, args.run)
    if args.device:
        pick_device(args.device)  # refused before the run is touched
    if args.lr is not None:
        check_positive_lr(args.lr)
    try:
        take_over(run, lr_on_resume=args.lr)
    except StateConflict as exc:
        raise RunError(f"{exc}; only a {', '.join(jobs.RESUMABLE)} run resumes") from exc
    run.stop_path.unlink(missing_ok=True)
    return run_in_foreground(run, args.device)


def cmd_cancel(args: argparse.Namespace) -> int:
    """The command line is the server's own: it acts as the teacher (every run is theirs)."""
    was = jobs.cancel(runs_dir(args), args.run)
    print(f"{args.run}: cancelled (it was {was})" if was != "running" else
          f"{args.run}: asked to stop; it saves a checkpoint and ends as cancelled")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    jobs.delete(runs_dir(args), args.run)
    print(f"{args.run}: deleted")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    folder = runs_dir(args)
    jobs.reconcile(folder)  # so a run whose worker died shows as interrupted
    rows = [("RUN", "MODEL", "DATASET", "STATE", "STEP", "DEVICE")]
    for s in list_runs(folder):
        if s.error:
            rows.append((s.run.id, "-", "-", "broken", "-", s.error))
            continue
        rows.append((s.run.id, s.config.model.variant, s.config.data.name, s.state,
                     f"{s.status.get('step', 0)}/{s.status.get('total_steps', '?')}",
                     str(s.status.get("device") or "-")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])
    return 0


def check_out(out: Path) -> None:
    """Refuse an --out that cannot become a PNG file, before any work."""
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; name a .png file")
    folder = next((p for p in [out.parent, *out.parent.parents] if p.exists()), Path("."))
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"--out {out} cannot be written: {folder} is not a writable folder")


def _write_picture(args: argparse.Namespace, samples: torch.Tensor, nrow: int, role: str = "generated",
                   real: torch.Tensor | None = None) -> int:
    return _write_array(args.out, picture(samples, nrow=nrow, role=role, real=real))


def _write_array(out: Path, array: Any) -> int:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        save_png(array, out)
    except OSError as exc:
        raise ConfigError(f"--out {out} cannot be written: {exc.strerror}") from exc
    print(out)
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    if not 1 <= args.n <= 1024:
        raise ConfigError(f"--n must be between 1 and 1024, not {args.n}")
    check_seed(args.seed, "--seed")
    check_out(args.out)
    model, _ = load_model(open_run(runs_dir(args), args.run), args.step)
    return _write_picture(args, model.sample(args.n, args.seed), nrow=math.ceil(math.sqrt(args.n)))


def cmd_interpolate(args: argparse.Namespace) -> int:
    if not 2 <= args.steps <= 64:
        raise ConfigError(f"--steps must be between 2 and 64, not {args.steps}")
    check_seed(args.seed_a, "--seed-a")
    check_seed(args.seed_b, "--seed-b")
    check_out(args.out)
    run = open_run(runs_dir(args), args.run)
    model, _ = load_model(run, args.step)
    if model.n_classes and not 0 <= args.label < model.n_classes:
        raise ConfigError(f"--label must be between 0 and {model.n_classes - 1}, not {args.label}")
    z = interpolate(model.codes(1, args.seed_a), model.codes(1, args.seed_b), args.steps, args.slerp)
    labels = torch.full((args.steps,), args.label) if model.n_classes else None
    with torch.no_grad():
        images = model.generate(z, labels)
    real = None if model.is_image else dataset_for(run.config()).x_test[:2000]  # ten dots alone read as blank
    return _write_picture(args, images, nrow=args.steps, role="walk", real=real)


def cmd_eval(args: argparse.Namespace) -> int:
    if not 100 <= args.n <= 50_000:
        raise ConfigError(f"--n must be between 100 and 50000, not {args.n}")
    if not 1 <= args.iwae_k <= 5000:
        raise ConfigError(f"--iwae-k must be between 1 and 5000, not {args.iwae_k}")
    run = open_run(runs_dir(args), args.run)
    device = pick_device(args.device or "auto")
    model, step = load_model(run, args.step, device)
    print(f"evaluating {run.id} at step {step} ({args.n} samples)…", file=sys.stderr)
    result = evaluate_model(model, dataset_for(run.config()), args.n, args.iwae_k, device, uses=not args.quick)
    record_evaluation(run, step, result)
    print(f"feature space: {result['feature_space']}")
    for key, metric in METRICS.items():
        if isinstance(number(result, key), (int, float)):
            print(f"{key:20} {shown(result, key):>14}  {metric.meaning}")  # as every view prints it
    if "likelihood" in result:
        print(result["likelihood"])
    print_table(repair_rows(result))
    for line in training_data_lines(result):
        print(line)
    print(f"written to {run.eval_path}", file=sys.stderr)
    return 0


def print_table(rows: list[dict[str, str]]) -> None:
    """Rows of equal keys as aligned columns under their names (nothing for no rows)."""
    if not rows:
        return
    table = [list(rows[0]), *(list(r.values()) for r in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def cmd_repair(args: argparse.Namespace) -> int:
    how = Damage(args.damage, args.size, args.x, args.y, args.half, args.rate, args.sigma, args.seed)
    how.check()
    check_seed(args.seed, "--seed")
    if not 1 <= args.n <= 64:
        raise ConfigError(f"--n must be between 1 and 64, not {args.n}")
    check_out(args.out)
    run = open_run(runs_dir(args), args.run)
    model, step = load_model(run, args.step)
    if not model.is_image:
        raise ConfigError(f"{run.id} draws 2-D points; repair needs a model of images")
    data = dataset_for(run.config())
    if not 0 <= args.first <= len(data.x_test) - args.n:
        raise ConfigError(f"--first must be between 0 and {len(data.x_test) - args.n}, not {args.first}")
    window = slice(args.first, args.first + args.n)
    labels = data.y_test[window] if model.n_classes else None
    print(f"repairing {args.n} test images with {run.id} at step {step}…", file=sys.stderr)
    done = repair_all(model, data.x_test[window], how, labels)
    print_table(repair_table({"damage": how.describe(), "damaged": done.damaged_errors, **done.errors}))
    rows = [("true", done.truth), ("damaged", done.damaged.images),
            *((f"repaired: {METHOD_NAMES[m]}", images) for m, images in done.repaired.items())]
    return _write_array(args.out, labelled_rows(rows))


def cmd_datasets(_: argparse.Namespace) -> int:
    for name, spec in DATASETS.items():
        ok, why = availability(name)
        shape = "x".join(map(str, spec.shape)) if spec.shape else "any"
        size = f"{spec.size:,}" if spec.size else "-"
        print(f"{name:14} {spec.kind:7} {shape:8} {size:>8}  {'yes' if ok else 'no ':3}  "
              f"{spec.description}; {why}")
    return 0


def cmd_models(_: argparse.Namespace) -> int:
    for v in VARIANTS.values():
        print(f"{v.name:14} {v.family:4} {v.arch:5} {v.description}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Train a run the scheduler started; its process is its own group leader."""
    if not args.run_dir.is_dir():
        raise RunError(f"{args.run_dir} is not a run folder")
    run = Run(args.run_dir.resolve())
    run.config()  # a clear error now if the directory is not a run
    state = jobs.work(run.path, jobs.worker_threads(), args.device, stop_on_sigterm=True)
    return EXIT_CODES.get(state, 1)


def cmd_class(args: argparse.Namespace) -> int:
    folder = runs_dir(args)
    if args.action == "list":
        for user in roster.members(folder):
            print(f"{user.name}\t{'teacher' if user.teacher else 'student'}")
        return 0
    if args.action == "locks":
        for who, minutes in roster.locked_out(folder):
            print(f"{who}\t{minutes} min")
        return 0
    if not args.name:
        raise ConfigError(f"class {args.action} needs a NAME")
    if args.action == "unlock":
        print(f"unlocked {args.name} ({roster.unlock(folder, args.name)} count(s) of wrong passwords cleared)")
        return 0
    if args.action == "remove":
        roster.remove(folder, args.name)
        print(f"removed {args.name}")
        return 0
    role = "teacher" if args.teacher else "student"
    if args.sso:
        roster.add_sso(folder, args.name, teacher=args.teacher)
        print(f"{args.name} ({role}) logs in through the school's provider (no password here).")
        return 0
    password = roster.add(folder, args.name, teacher=args.teacher)
    print(f"{args.name} ({role}): password {password}\n"
          f"Shown only now and stored only as a hash; `class add {args.name}` again makes a new one.")
    return 0


COMMANDS = {"train": cmd_train, "resume": cmd_resume, "list": cmd_list, "sample": cmd_sample,
            "interpolate": cmd_interpolate, "repair": cmd_repair, "eval": cmd_eval, "datasets": cmd_datasets,
            "models": cmd_models, "worker": cmd_worker, "class": cmd_class, "cancel": cmd_cancel, "delete": cmd_delete}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings.check_all()  # a bad GENLAB_* setting is one line, before anything is done
        return COMMANDS[args.command](args)
    except (ConfigError, DatasetError, DatasetUnavailable, RunError) as exc:
        fail(str(exc))
    except OSError as exc:  # a full disk, a folder that cannot be written
        fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
