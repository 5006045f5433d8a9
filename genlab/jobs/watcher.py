"""One watcher per app process: it keeps the runs folder true and its listing current, so
that no open page lists or reconciles the folder itself.

Every `interval_s` the watcher's thread refreshes the listing (rereading only the runs whose
files changed, genlab.store.listing), reconciles the live runs against it (dead workers,
ignored cancels; the queue moves when it holds a queued run) and refreshes again when that
changed anything. Pages read `latest`, an immutable numbered listing, and redraw their live
parts only when its version moved for the runs they show. An action (launch, cancel, delete)
calls `refresh` so the page that made it shows the change at once.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from genlab.jobs.reconciler import reconcile
from genlab.store.listing import Lister, Listing

WATCH_INTERVAL_S = 2.0


class RunWatcher:
    """A daemon thread that reconciles and lists one runs folder every `interval_s`."""

    def __init__(self, runs_dir: Path, interval_s: float = WATCH_INTERVAL_S) -> None:
        self.lister = Lister(runs_dir)
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name=f"genlab-watcher {runs_dir}", daemon=True)

    def start(self) -> RunWatcher:
        self.tick()  # the first listing exists before any page asks
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def latest(self) -> Listing:
        return self.lister.latest

    def refresh(self) -> Listing:
        """List the folder now (after an action, or for a page's first view)."""
        listing = self.lister.refresh()
        with self._changed:
            self._changed.notify_all()
        return listing

    def wait_for_change(self, version: int, timeout_s: float) -> Listing:
        """The latest listing once its version passes `version`, or after `timeout_s`."""
        with self._changed:
            self._changed.wait_for(lambda: self.latest.version > version, timeout=timeout_s)
        return self.latest

    def tick(self) -> None:
        """One round: list, settle the live runs and move the queue, list again if that acted."""
        listing = self.refresh()
        ended = reconcile(self.lister.runs_dir, listing.summaries)
        if ended or any(s.state == "queued" for s in listing.summaries):
            self.refresh()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - the watcher outlives any one bad round
                print(f"genlab: the run watcher skipped a round: {exc!r}", file=sys.stderr)
