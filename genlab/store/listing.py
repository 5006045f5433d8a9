"""A versioned listing of the runs folder that rereads only what changed.

`list_runs` reads and checks every file of every run (90 ms for 100 runs on a 2-core
machine). A class server lists the folder for every open page, so `Lister` keeps each run's
summary with the file stamps it was read from (size, modification time and inode of the
files that change after a run is made) and summarizes a run again only when a stamp moved: a
listing of 100 unchanged runs is six `stat` calls a run (6.6 ms on that machine). Each
`Listing` is immutable and numbered, and the number moves when anything in it changed, so
what is made from a listing (the Class page's rows) is made once per version.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from genlab.store.runs import Run, RunSummary, run_folders, shipped_demos, summarize

# The files a summary (status, layout check) or a live view's line reads that change after a
# run is made; config.json and dataset.json are written once, and their making moves the
# folder's own stamp, which moves whenever a file in it is made, renamed or removed (STOP).
# Files replaced atomically change inode, so two writes within the clock's resolution differ.
_STAMPED = ("", "/status.json", "/metrics.jsonl", "/eval.json", "/evaluating.json", "/snapshots")

FileStamp = tuple[int, int, int]
Stamp = tuple[FileStamp | None, ...]


def file_stamp(path: str | os.PathLike) -> FileStamp | None:
    """A file's (size, mtime in ns, inode), None where it is missing: what a cache of something
    made from the file is keyed by. An atomic replace makes a new inode, so two writes within
    the clock's resolution still differ."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ino


def stamp(run: Run) -> Stamp:
    """The file stamp of each file in _STAMPED."""
    folder = os.fspath(run.path)
    return tuple(file_stamp(folder + name) for name in _STAMPED)


@dataclass(frozen=True)
class Listing:
    """The runs as one reading saw them, newest first; `version` moves when anything changed."""

    version: int
    summaries: tuple[RunSummary, ...]

    def get(self, run_id: str) -> RunSummary | None:
        return next((s for s in self.summaries if s.run.id == run_id), None)


class Lister:
    """Lists one runs folder (and the shipped demos) again and again, rereading only the runs
    whose files changed. Safe to share between threads."""

    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = runs_dir
        self._lock = threading.Lock()
        self._known: dict[str, tuple[Stamp, RunSummary]] = {}  # run id -> the stamp it was read at, its summary
        self._listing = Listing(0, ())

    @property
    def latest(self) -> Listing:
        """The last listing made, without looking at the disk."""
        return self._listing

    def refresh(self) -> Listing:
        """Look at the disk now: a new listing, with a new version only if something changed."""
        with self._lock:
            known: dict[str, tuple[Stamp, RunSummary]] = {}
            moved = False
            for run in run_folders(self.runs_dir) + shipped_demos(self.runs_dir):
                now = stamp(run)
                seen = self._known.get(run.id)
                if seen is not None and seen[0] == now and seen[1].run == run:
                    known[run.id] = seen
                else:
                    known[run.id] = (now, summarize(run))
                    moved = True
            moved = moved or known.keys() != self._known.keys()
            self._known = known
            if moved:
                summaries = sorted((k[1] for k in known.values()), key=lambda s: s.status.get("created", 0),
                                   reverse=True)
                self._listing = Listing(self._listing.version + 1, tuple(summaries))
            return self._listing
