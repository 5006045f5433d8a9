"""The app's one watcher (genlab.jobs.watcher) and the versioned listing it keeps
(genlab.store.listing): what changes moves the version, what does not reads nothing."""

from __future__ import annotations

import json
import shutil
import threading
from unittest import mock

from genlab import jobs
from genlab.store import listing as listing_module
from genlab.store.listing import Lister
from genlab.store.runs import list_runs
from tests.support import force_status, state, tiny_run, wait_for


def ids(listing) -> list[str]:
    return [s.run.id for s in listing.summaries]


def test_a_listing_is_list_runs_and_an_unchanged_folder_reads_no_file_again(runs_dir):
    runs = [tiny_run(runs_dir) for _ in range(3)]
    lister = Lister(runs_dir)
    first = lister.refresh()
    assert ids(first) == [s.run.id for s in list_runs(runs_dir)]
    assert sorted(ids(first)) == sorted(r.id for r in runs)
    with mock.patch.object(listing_module, "summarize", side_effect=AssertionError("read again")):
        again = lister.refresh()
    assert again is first and again.version == first.version


def test_a_change_moves_the_version_for_that_run_only(runs_dir):
    a, b = tiny_run(runs_dir), tiny_run(runs_dir)
    lister = Lister(runs_dir)
    first = lister.refresh()
    force_status(a, state="running", step=3)
    with mock.patch.object(listing_module, "summarize", wraps=listing_module.summarize) as spy:
        second = lister.refresh()
    assert [call.args[0].id for call in spy.call_args_list] == [a.id]
    assert second.version > first.version
    assert second.get(a.id).status["step"] == 3 and second.get(a.id).state == "running"
    assert second.get(b.id) is first.get(b.id)  # not read again


def test_a_line_appended_to_the_metrics_or_a_new_snapshot_is_a_change(runs_dir):
    run = tiny_run(runs_dir)
    lister = Lister(runs_dir)
    v0 = lister.refresh().version
    with open(run.metrics_path, "a") as f:
        f.write(json.dumps({"step": 2, "loss_d": 1.0}) + "\n")
    v1 = lister.refresh().version
    assert v1 > v0
    run.snapshots_dir.mkdir()
    assert lister.refresh().version > v1


def test_two_status_writes_of_the_same_size_within_the_clock_tick_are_two_changes(runs_dir):
    run = tiny_run(runs_dir)
    lister = Lister(runs_dir)
    force_status(run, step=1)
    v1 = lister.refresh().version
    force_status(run, step=2)  # same size, perhaps the same mtime: a new inode all the same
    listing = lister.refresh()
    assert listing.version > v1 and listing.get(run.id).status["step"] == 2


def test_a_removed_run_and_a_broken_run_are_changes(runs_dir):
    a, b = tiny_run(runs_dir), tiny_run(runs_dir)
    lister = Lister(runs_dir)
    first = lister.refresh()
    shutil.rmtree(b.path)
    second = lister.refresh()
    assert ids(second) == [a.id] and second.version > first.version
    a.status_path.write_text("{not json")
    third = lister.refresh()
    assert third.get(a.id).error and third.version > second.version


def test_concurrent_refreshes_agree(runs_dir):
    for _ in range(5):
        tiny_run(runs_dir)
    lister = Lister(runs_dir)
    seen, errors = [], []

    def refresh():
        try:
            for _ in range(20):
                seen.append(len(lister.refresh().summaries))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and set(seen) == {5}


def test_the_watcher_finds_a_dead_worker_by_itself(runs_dir):
    run = tiny_run(runs_dir)
    force_status(run, state="completed")  # nothing queued: no worker starts
    watcher = jobs.RunWatcher(runs_dir, interval_s=0.2).start()
    try:
        before = watcher.latest
        # As after a reboot: the status says running, the pid is long gone.
        force_status(run, state="running", pid=2 ** 22 - 1, pgid=2 ** 22 - 1)
        wait_for(lambda: state(run) == "interrupted", timeout=10)
        wait_for(lambda: watcher.latest.get(run.id).state == "interrupted", timeout=10)
        assert watcher.latest.version > before.version
    finally:
        watcher.stop()


def test_the_watcher_moves_the_queue_only_when_something_is_queued(runs_dir):
    tiny_run(runs_dir)  # queued
    watcher = jobs.RunWatcher(runs_dir, interval_s=3600)
    with mock.patch("genlab.jobs.reconciler.schedule") as schedule:
        watcher.tick()
        assert schedule.call_count == 1
        for s in watcher.latest.summaries:
            force_status(s.run, state="completed")
        watcher.tick()
        assert schedule.call_count == 1  # nothing queued: the queue lock is not taken


def test_a_bad_round_does_not_stop_the_watcher(runs_dir, capsys):
    force_status(tiny_run(runs_dir), state="completed")
    watcher = jobs.RunWatcher(runs_dir, interval_s=0.1)
    rounds = []
    real = watcher.tick

    def flaky():
        rounds.append(1)
        if len(rounds) == 2:
            raise OSError("no space left on device")
        real()

    watcher.tick = flaky
    watcher.start()
    try:
        wait_for(lambda: len(rounds) >= 4, timeout=10)
    finally:
        watcher.stop()
    assert "skipped a round" in capsys.readouterr().err
