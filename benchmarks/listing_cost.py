"""What one sidebar tick costs the app with a class's runs on disk: `jobs.reconcile` and
`list_runs` over N runs (hard links to the demo runs, as in class_load.py), with the config
field types resolved once per class (today) against resolving them on every config read (the
baseline, by clearing that cache before each read), alternating in the same process.

    .venv/bin/python benchmarks/listing_cost.py [--runs 100] [--repeats 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.class_load import class_runs  # noqa: E402
from genlab import config, jobs  # noqa: E402
from genlab.store.runs import list_runs  # noqa: E402


def seconds(work, repeats: int, uncached: bool) -> list[float]:
    """Each call's time; `uncached` resolves the field types again on every config read."""
    types = config._field_types
    resolve = (lambda klass: types.__wrapped__(klass)) if uncached else types
    times = []
    with mock.patch.object(config, "_field_types", resolve):
        for _ in range(repeats):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs_dir = Path(tmp) / "runs"
        class_runs(runs_dir, args.runs, [f"student{i:02d}" for i in range(30)])
        table(runs_dir, args)


def table(runs_dir: Path, args: argparse.Namespace) -> None:
    print(f"{args.runs} runs on disk, median of {args.repeats} calls each, alternating")
    print("| call | types resolved per read: ms | resolved once: ms | ratio |")
    print("|---|---|---|---|")
    for name, work in (("jobs.reconcile", lambda: jobs.reconcile(runs_dir)),
                       ("list_runs", lambda: list_runs(runs_dir))):
        before, after = [], []
        for _ in range(3):  # alternate, so neither side gets the quieter moment
            before += seconds(work, args.repeats, uncached=True)
            after += seconds(work, args.repeats, uncached=False)
        b, a = statistics.median(before) * 1000, statistics.median(after) * 1000
        print(f"| {name} | {b:.1f} | {a:.1f} | {b / a:.1f}x |")


if __name__ == "__main__":
    main()
