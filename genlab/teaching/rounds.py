"""Real or generated? A round in which people are the discriminator.

A round shows a fixed list of images, half real test images and half samples of the runs the
teacher chose (spread evenly over them), in an order drawn from the round's seed, the same for
everyone; each person judges each image once, "real" or "generated". The fooling rate of a run
is the share of its images judged real: 50% would mean people cannot tell.

Files, in the runs folder's hidden `.rounds/` (listings skip it):

- `<id>.json`: the round (its runs and the snapshot step of each, the images, who started it,
  whether it is open), replaced atomically under the round's lock;
- `<id>.answers.jsonl`: one line per answer (user, image, answer, time), appended under the
  round's lock after checking that the user has not answered that image: never rewritten, so
  a crash or a restart of the app loses nothing but a line being written (which the reader
  skips).
"""

from __future__ import annotations

import json
import math
import os
import random
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from genlab.classroom import roster
from genlab.classroom.access import NotAllowed, User
from genlab.config import ConfigError
from genlab.data import draws_images
from genlab.models import GenerativeModel
from genlab.store.atomic import write_json_atomic
from genlab.store.locks import exclusive
from genlab.store.runs import RunError, open_run
from genlab.teaching.lessons import Finding

ANSWERS = ("real", "generated")
REAL = "real"
MIN_IMAGES, MAX_IMAGES = 4, 200
Z95 = 1.959964  # the normal quantile of a two-sided 95% interval


class RoundError(ConfigError):
    """A round cannot be started, answered or closed; the message says why."""


@dataclass(frozen=True)
class Item:
    source: str  # "real", or the id of the run that made it
    index: int  # the test image's index, or the seed of the sample


@dataclass(frozen=True)
class Round:
    id: str
    seed: int
    dataset: str
    runs: dict[str, int]  # run id -> the snapshot step its images come from
    items: list[Item]
    started_by: str
    started: float
    state: str = "open"  # or "closed"
    closed: float | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Round:
        return cls(**{**d, "items": [Item(**i) for i in d["items"]]})

    @property
    def is_open(self) -> bool:
        return self.state == "open"


def folder(runs_dir: Path) -> Path:
    return runs_dir / ".rounds"


def _paths(runs_dir: Path, round_id: str) -> tuple[Path, Path, Path]:
    """The round's file, its answers and its lock."""
    base = folder(runs_dir) / round_id
    return base.with_suffix(".json"), base.with_suffix(".answers.jsonl"), base.with_suffix(".lock")


def may_lead(runs_dir: Path, user: User | None) -> bool:
    """Whether this user may start and close rounds: the teacher, or anyone outside a class."""
    return user is None or roster.current(runs_dir, user).teacher


def _check_leader(runs_dir: Path, user: User | None, action: str) -> None:
    if not may_lead(runs_dir, user):
        raise NotAllowed(f"only the teacher can {action} a round")


def rounds(runs_dir: Path) -> list[Round]:
    """Every round here, newest first (a file that cannot be read is left out)."""
    found = []
    for path in folder(runs_dir).glob("*.json"):
        try:
            found.append(Round.from_dict(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError, KeyError):
            continue
    return sorted(found, key=lambda r: r.started, reverse=True)


def current_round(runs_dir: Path) -> Round | None:
    """The open round, else the newest closed one, else None."""
    every = rounds(runs_dir)
    return next((r for r in every if r.is_open), every[0] if every else None)


def usable_runs(runs_dir: Path, run_ids: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The chosen runs that can make images for a round, as {id: Run}, and a message for
    each one left out (missing, broken, without a snapshot, or not a model of images)."""
    usable, skipped = {}, []
    for run_id in run_ids:
        try:
            run = open_run(runs_dir, run_id)
            config = run.config()
        except RunError as exc:
            skipped.append(f"{run_id} is left out: {exc}")
            continue
        if not run.snapshot_steps():
            skipped.append(f"{run_id} is left out: it has no snapshot yet")
        elif not draws_images(config.data.name):
            skipped.append(f"{run_id} is left out: it draws 2-D points, not images")
        else:
            usable[run_id] = run
    return usable, skipped


def start_round(runs_dir: Path, run_ids: list[str], images: int, seed: int, user: User | None,
                test_size: int) -> tuple[Round, list[str]]:
    """Start a round of `images` images (half real, half from the runs) drawn from `seed`,
    the real ones among the first `test_size` test images; with the messages of the runs
    left out. Refused to a student, while another round is open, with no usable run, or with
    runs of different datasets."""
    _check_leader(runs_dir, user, "start")
    if not MIN_IMAGES <= images <= MAX_IMAGES or images % 2:
        raise RoundError(f"a round has an even number of images between {MIN_IMAGES} and {MAX_IMAGES}, not {images}")
    usable, skipped = usable_runs(runs_dir, run_ids)
    if not usable:
        raise RoundError("a round needs at least one run of images with a snapshot" +
                         (f" ({'; '.join(skipped)})" if skipped else ""))
    datasets = {run.config().data.name for run in usable.values()}
    if len(datasets) > 1:
        raise RoundError(f"the runs of a round must share their data, not {', '.join(sorted(datasets))}: the real "
                         "images are that data's test images")
    folder(runs_dir).mkdir(parents=True, exist_ok=True)
    with exclusive(folder(runs_dir) / ".start.lock"):
        if any(r.is_open for r in rounds(runs_dir)):
            raise RoundError("a round is already open: close it before starting another")
        new = Round(f"round-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(2)}", seed,
                    datasets.pop(), {i: run.snapshot_steps()[-1] for i, run in usable.items()},
                    draw_items(list(usable), images, seed, test_size), user.name if user else "", time.time())
        round_path, answers_path, _ = _paths(runs_dir, new.id)
        answers_path.touch()
        write_json_atomic(round_path, asdict(new))
    return new, skipped


def draw_items(run_ids: list[str], images: int, seed: int, test_size: int) -> list[Item]:
    """Half real test images (distinct), half samples shared out over the runs in turn (each
    its own seed), in an order shuffled by `seed`."""
    rng = random.Random(seed)
    half = images // 2
    real = [Item(REAL, i) for i in rng.sample(range(test_size), min(half, test_size))]
    made = [Item(run_ids[k % len(run_ids)], rng.randrange(2**31)) for k in range(images - len(real))]
    items = real + made
    rng.shuffle(items)
    return items


def close_round(runs_dir: Path, round_id: str, user: User | None) -> Round:
    """Close an open round: answers stop being taken; everyone may see the results."""
    _check_leader(runs_dir, user, "close")
    round_path, _, lock = _paths(runs_dir, round_id)
    with exclusive(lock):
        found = load_round(runs_dir, round_id)
        if not found.is_open:
            return found
        closed = Round(**{**asdict(found), "items": found.items, "state": "closed", "closed": time.time()})
        write_json_atomic(round_path, asdict(closed))
    return closed


def load_round(runs_dir: Path, round_id: str) -> Round:
    round_path = _paths(runs_dir, round_id)[0]
    try:
        return Round.from_dict(json.loads(round_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise RoundError(f"round {round_id} cannot be read: {exc}") from exc


def answer(runs_dir: Path, round_id: str, player: str, item: int, said: str, member: User | None = None) -> bool:
    """Record that `player` judged image `item` real or generated; False (nothing written) for
    a second answer to the same image. Refused for a closed round or an image it does not have.
    In a class the player is the class `member`, checked against the roster as it is now: a
    removed account answers nothing."""
    if member is not None:
        player = roster.current(runs_dir, member).name
    if said not in ANSWERS:
        raise RoundError(f"an answer is one of {', '.join(ANSWERS)}, not {said!r}")
    _, answers_path, lock = _paths(runs_dir, round_id)
    with exclusive(lock):
        found = load_round(runs_dir, round_id)
        if not found.is_open:
            raise RoundError("this round is closed: its answers are counted")
        if not 0 <= item < len(found.items):
            raise RoundError(f"round {round_id} has no image {item}")
        if any(a["user"] == player and a["item"] == item for a in read_answers(runs_dir, round_id)):
            return False
        line = json.dumps({"user": player, "item": item, "answer": said, "time": time.time()}) + "\n"
        with answers_path.open("a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
    return True


def read_answers(runs_dir: Path, round_id: str) -> list[dict[str, Any]]:
    """Every answer of the round, in order; a line that is not a whole answer (one being
    written when the machine stopped) is skipped."""
    out = []
    try:
        lines = _paths(runs_dir, round_id)[1].read_text(encoding="utf-8").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            a = json.loads(line)
        except ValueError:
            continue
        if isinstance(a, dict) and {"user", "item", "answer"} <= set(a):
            out.append(a)
    return out


def next_item(found: Round, answers: list[dict[str, Any]], user: str, skipped: frozenset[int] = frozenset()
              ) -> int | None:
    """The first image of the round this user has neither judged nor skipped (an image whose
    run broke after the round started); None when none is left."""
    done = {a["item"] for a in answers if a["user"] == user} | skipped
    return next((i for i in range(len(found.items)) if i not in done), None)


@dataclass(frozen=True)
class Share:
    """How many of some answers said "real"."""

    judged_real: int
    answers: int

    @property
    def rate(self) -> float | None:
        return self.judged_real / self.answers if self.answers else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The Wilson score interval at 95% (it stays within [0, 1] and is sound for few answers):
        (p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)."""
        n, p = self.answers, self.rate
        if not n:
            return None
        centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
        half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n**2)) / (1 + Z95**2 / n)
        return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Results:
    runs: dict[str, Share]  # each run: its images judged real (the fooling rate)
    real: Share  # the real images judged real
    correct: int
    answers: int
    players: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answers if self.answers else None


@torch.no_grad()
def item_image(item: Item, test_images: torch.Tensor | None, model: GenerativeModel | None = None) -> torch.Tensor:
    """An image of the round [C, H, W]: the real test image, or the run's sample from the
    item's seed (a conditional model asked for the class seed mod its classes)."""
    if item.source == REAL:
        return test_images[item.index]
    labels = torch.tensor([item.index % model.n_classes], device=model.device) if model.n_classes else None
    return model.sample(1, item.index, labels=labels)[0]


def results(found: Round, answers: list[dict[str, Any]]) -> Results:
    """What the answers say: per run and for the real images, the share judged real; how many
    answers were right; how many people answered."""
    said_real: dict[str, list[int]] = {source: [0, 0] for source in [*found.runs, REAL]}
    correct = 0
    for a in answers:
        source = found.items[a["item"]].source if 0 <= a["item"] < len(found.items) else None
        if source not in said_real:
            continue
        said_real[source][0] += a["answer"] == REAL
        said_real[source][1] += 1
        correct += (a["answer"] == REAL) == (source == REAL)
    shares = {source: Share(*counts) for source, counts in said_real.items()}
    real = shares.pop(REAL)
    return Results(shares, real, correct, real.answers + sum(s.answers for s in shares.values()),
                   len({a["user"] for a in answers}))


def fid_agreement(found: Results, fids: dict[str, float]) -> Finding | None:
    """Whether people and FID rank the round's runs alike: the Spearman rank correlation of
    the fooling rate with FID (lower FID should fool more people: a negative correlation).
    None with fewer than two runs that have both."""
    both = [run for run, share in found.runs.items() if share.answers and run in fids]
    if len(both) < 2:
        return None
    rates, scores = [found.runs[r].rate for r in both], [fids[r] for r in both]
    text = f"Across the {len(both)} runs, the fooling rate against FID: rank correlation "
    if len(set(rates)) == 1 or len(set(scores)) == 1:
        return Finding(text + "undefined: every run fooled people equally (or has the same FID), so there is no "
                       "ranking to compare.", False)
    from scipy.stats import spearmanr  # here: importing scipy.stats takes a while, and only results need it

    rho = float(spearmanr(rates, scores).statistic)
    text += f"{rho:+.2f}. "
    if rho < 0:
        return Finding(text + "People and FID agree: the runs with the lower FID fooled people more often.", True)
    return Finding(text + "People and FID disagree here: the runs FID ranks better did not fool people more often. "
                   "FID compares feature statistics of thousands of samples; a person judges one image at a time, "
                   "by its flaws.", False)
