"""The class queue taking turns: N students each launch K tiny runs through genlab.jobs (the
same call the Train page makes, as that student), one run trains at a time, and the order in
which the runs start is read back from their status files. Baseline, side by side: the
order first-come-first-served would have given (launch order).

Usage: python benchmarks/fair_queue.py [--students 30] [--runs-each 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genlab import jobs  # noqa: E402
from genlab.classroom.access import User  # noqa: E402
from genlab.presets import make_config  # noqa: E402


def distinct_before_repeat(users: list[str]) -> int:
    """How many runs start before some student gets a second one."""
    seen: set[str] = set()
    for i, user in enumerate(users):
        if user in seen:
            return i
        seen.add(user)
    return len(users)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--runs-each", type=int, default=2)
    args = parser.parse_args()
    runs_dir = Path(tempfile.mkdtemp()) / "runs"
    os.environ.update(GENLAB_MAX_JOBS="1", GENLAB_MAX_RUNS_PER_USER=str(args.runs_each))
    config = make_config("gan", "ring", steps=20, n_snapshots=1, hidden=32)
    launched = []
    # Each student in turn queues all their runs at once: first come, first served would
    # start one student's runs back to back.
    for s in range(args.students):
        for _ in range(args.runs_each):
            launched.append(jobs.launch(config, runs_dir, user=User(f"student{s:02d}")))
    while any(r.status()["state"] in jobs.ACTIVE for r in launched):
        time.sleep(0.5)
    started = sorted(launched, key=lambda r: r.status()["started"])
    order = [r.status()["user"] for r in started]
    fifo = [r.status()["user"] for r in launched]
    print(f"{len(launched)} runs from {args.students} students, {args.runs_each} each, one slot")
    print("| order | runs started before a student's second run | first 8 starts |\n|---|---|---|")
    print(f"| first come, first served (launch order) | {distinct_before_repeat(fifo)} | {', '.join(fifo[:8])} |")
    print(f"| GenLab's queue | {distinct_before_repeat(order)} | {', '.join(order[:8])} |")


if __name__ == "__main__":
    main()
