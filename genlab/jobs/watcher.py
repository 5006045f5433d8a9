"""One watcher per app process: it keeps the runs folder true and its listing current, so
that no open page lists or reconciles the folder itself.

Every `interval_s` the watcher's thread refreshes the listing (rereading only the runs whose
files changed, genlab.store.listing), reconciles the live runs against it (dead workers,
ignored cancels; the queue moves when it holds a queued run) and refreshes again when that
changed anything. A page's full run asks for `refresh` (which rereads only the runs whose
files changed); its live parts read `latest`, an immutable numbered listing, and read nothing.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from genlab.jobs.reconciler import reconcile
from genlab.store.listing import Lister, Listing


class RunWatcher:
    """A daemon thread that reconciles and lists one runs folder every `interval_s`."""

    def __init__(self, runs_dir: Path, interval_s: float) -> None:
        """`interval_s`: the app passes $GENLAB_WATCH_SECONDS (genlab.settings.watch_seconds)."""
        self.lister = Lister(runs_dir)
        self.interval_s = interval_s
        self._stop = threading.Event()
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
        """List the folder now (a page's full run)."""
        return self.lister.refresh()

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
