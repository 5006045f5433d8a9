"""Who may do what to a run, for a class on one server.

Without a user (`None`: `make run` on a laptop, the command line) every action is allowed.
In a class every visitor is a `User`: a student sees every run but may cancel,
resume or delete only their own; the teacher may do all. A run records the user who
launched it (status.json's `user`; "owner" in genlab.store.lifecycle means the process that trains
it); a run without one (a demo, or a run made before the class) belongs to nobody, so only
the teacher may change it. The checks live here and in
`genlab.jobs`, not in the pages, so a crafted request cannot skip them; each refusal is a
line in the runs folder's `.access.log`.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from genlab.config import ConfigError
from genlab.store.runs import Run, RunError

ACCESS_LOG = ".access.log"


@dataclass(frozen=True)
class User:
    name: str
    teacher: bool = False


class NotAllowed(RunError):
    """The user may not do this to this run; the message says why."""


class OverQuota(ConfigError):
    """A launch would take a student past a limit; the message names it and how to free room."""


def owner_of(run: Run) -> str | None:
    """The name of the user who launched the run, or None (a demo, or a run from before the class)."""
    return run.status().get("user")


def may_change(user: User | None, run: Run) -> bool:
    """Whether `user` may cancel, resume or delete the run: anyone outside a class, the
    teacher, and the user who launched it."""
    return user is None or user.teacher or owner_of(run) == user.name


def check_allowed(user: User | None, run: Run, action: str) -> None:
    """NotAllowed (and a line in the access log) unless `user` may `action` the run."""
    if may_change(user, run):
        return
    whose = f"{owner_of(run)}'s" if owner_of(run) else "nobody's (only the teacher may change it)"
    log_refusal(run.path.parent, user, action, run.id)
    raise NotAllowed(f"{user.name} may not {action} run {run.id}: it is {whose}")


def log_refusal(runs_dir: Path, user: User, action: str, target: str) -> None:
    """One JSON line per refused request, for the teacher; a full disk does not stop the refusal."""
    line = json.dumps({"time": time.time(), "user": user.name, "action": action, "target": target})
    with contextlib.suppress(OSError), open(runs_dir / ACCESS_LOG, "a", encoding="utf-8") as log:
        log.write(line + "\n")

