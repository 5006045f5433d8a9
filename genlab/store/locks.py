"""The one file lock GenLab uses: an exclusive `flock` on a lock file, held for a block.

A run's state (`<run>/.lock`), the queue (`<runs>/.queue.lock`) and the class roster
(`<runs>/.roster.lock`) are each changed by read-check-write under their own lock, so two
processes (the app, a worker, the command line) never both act on what they read. The lock
file itself stays empty and in place; the kernel drops the lock when its holder dies.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (created when missing) for the block."""
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
