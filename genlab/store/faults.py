"""Fault injection for tests: named points where a test can make GenLab fail on purpose.

A test sets GENLAB_FAULTS to `point=action[@n][,point=action[@n]...]` in the environment of
the process it wants to break: at the n-th time (default the first) that process reaches
`fault_point(point)`, it does `action`:

    kill     SIGKILL itself (a crash, the OOM killer, a power cut for that process)
    enospc   raise OSError(ENOSPC), as a full disk does

Points: `write:<file name>` in genlab.store.atomic after a file's new contents are written to its
temporary name and before it replaces the old one; `status` before status.json is replaced;
`metrics` before a metrics line is appended; `claimed` right after a worker owns its run.
Unset (always, outside tests) it costs one dictionary lookup.

`trace(event, run_id)` appends `time pid event run_id` to the file GENLAB_TRACE names, if
any: the stress test reads when each worker started and stopped training.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from collections import Counter

from genlab import settings

_hits: Counter[str] = Counter()


def fault_point(point: str) -> None:
    spec = settings.fault_spec()
    if not spec:
        return
    _hits[point] += 1
    for rule in spec.split(","):
        name, _, action = rule.partition("=")
        action, _, nth = action.partition("@")
        if name == point and _hits[point] == int(nth or 1):
            if action == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if action == "enospc":
                raise OSError(errno.ENOSPC, "No space left on device (injected)", point)


def reset() -> None:
    """Forget how often each point was reached (between tests in one process)."""
    _hits.clear()


def trace(event: str, run_id: str) -> None:
    path = settings.trace_path()
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{time.time():.6f} {os.getpid()} {event} {run_id}\n")
