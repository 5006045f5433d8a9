"""Run-store integrity: every state change is a legal compare-and-set, a worker never trains
a run it does not own, dead workers are noticed by every entry point, one broken run never
breaks the others, and a full disk ends a run cleanly."""

import json
import os
import subprocess
import sys

import pytest

from genlab import jobs
from genlab.cli import main
from genlab.config import ConfigError
from genlab.store.lifecycle import TRANSITIONS, StateConflict, change, process_alive, process_start, this_process
from genlab.store.runs import STATES, RunError, list_runs
from genlab.store.statefile import load_state
from genlab.training.trainer import Trainer
from tests.pages import open_page
from tests.support import ROOT, force_status, tiny_config, tiny_run

# ---- the legal changes -------------------------------------------------------------------


def test_the_transitions_name_every_state_and_only_states():
    assert set(TRANSITIONS) == set(STATES)
    assert all(set(targets) <= set(STATES) for targets in TRANSITIONS.values())
    assert TRANSITIONS["completed"] == ()


@pytest.mark.parametrize("start,to", [("completed", "running"), ("completed", "cancelled"), ("queued", "running"),
                                      ("running", "queued"), ("cancelled", "running")])
def test_an_illegal_change_is_refused_and_nothing_is_written(runs_dir, start, to):
    run = tiny_run(runs_dir)
    force_status(run, state=start)
    before = run.status_path.read_bytes()
    with pytest.raises(StateConflict, match=f"cannot go from {start} to {to}"):
        change(run, to)
    assert run.status_path.read_bytes() == before


def test_a_cancel_never_overwrites_a_run_that_completed_meanwhile(runs_dir):
    """The observed race: cancel read `running`, the worker wrote `completed`, cancel's write
    put `running` back and reconcile then called it cancelled. Now cancel's write is a
    compare-and-set: it fails, and the run stays completed."""
    run = tiny_run(runs_dir)
    assert Trainer(run).train() == "completed"
    with pytest.raises(StateConflict, match="is completed, not running"):
        change(run, expect=("running",), cancel_requested=1.0)
    with pytest.raises(RunError, match="is completed; only a queued, starting or running run"):
        jobs.cancel(runs_dir, run.id)
    assert jobs.reconcile(runs_dir) == [] and run.status()["state"] == "completed"


def test_a_worker_never_trains_a_run_cancelled_while_it_was_starting(runs_dir):
    run = tiny_run(runs_dir)
    change(run, "starting", expect=("queued",))
    jobs.cancel(runs_dir, run.id)
    assert run.status()["state"] == "cancelled"
    assert Trainer(run, foreground=False).train() == "cancelled"  # what `genlab worker` runs
    assert not run.metrics_path.exists() and not run.checkpoint_path.exists()
    assert "not training" in run.log_path.read_text()
    # Resumed at once (queued again): the old worker still does not train it; a new start does.
    change(run, "queued", expect=("cancelled",))
    assert Trainer(run, foreground=False).train() == "queued"
    change(run, "starting", expect=("queued",))
    assert Trainer(run, foreground=False).train() == "completed"


def test_a_worker_that_loses_its_run_writes_nothing_more(runs_dir):
    run = tiny_run(runs_dir, steps=40, log_every=2, n_snapshots=2)

    def taken_at_step_10(step, total):
        if step == 10:  # another process decides the run is no longer this worker's
            change(run, "interrupted", expect=("running",))
            change(run, "queued", expect=("interrupted",))

    assert Trainer(run, on_progress=taken_at_step_10).train() == "queued"
    assert max(r["step"] for r in run.metrics()) <= 10
    assert load_state(run.checkpoint_path)["step"] == 0
    assert run.status()["state"] == "queued" and run.snapshot_steps() == [0]


def test_a_recycled_pid_is_not_taken_for_the_worker():
    me = this_process()
    assert process_alive(me["pid"], me["pid_start"])
    assert not process_alive(me["pid"], me["pid_start"] + 1)  # same pid, another process
    assert not process_alive(2**22 - 1, None) and process_start(2**22 - 1) is None


# ---- dead workers are noticed everywhere -------------------------------------------------


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_cli_list_and_resume_notice_a_dead_worker_at_once(runs_dir, capsys):
    run = tiny_run(runs_dir)
    assert Trainer(run, on_progress=lambda step, total: step == 4 and run.request_stop()).train() == "cancelled"
    pid = dead_pid()
    force_status(run, state="running", pid=pid, pgid=pid, pid_start=None)  # as after a SIGKILL
    assert main(["list", "--runs-dir", str(runs_dir)]) == 0
    assert "interrupted" in capsys.readouterr().out
    force_status(run, state="running", pid=pid, pgid=pid)
    assert main(["resume", run.id, "--runs-dir", str(runs_dir)]) == 0
    assert run.status()["state"] == "completed"


def genlab_cli(*argv, env=None):
    return subprocess.run([sys.executable, "-m", "genlab", *argv], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def losses(run):
    return [{k: v for k, v in r.items() if k != "time"} for r in run.metrics()]


TRAIN = ["train", "gan", "--dataset", "ring", "--steps", "40", "--log-every", "4", "--snapshots", "4",
         "--seed", "3"]


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["metrics=kill@3", "write:checkpoint.safetensors=kill@2", "status=kill@4"])
def test_killed_at_a_chosen_point_the_cli_resumes_to_the_same_run(runs_dir, fault):
    straight = genlab_cli(*TRAIN, "--runs-dir", str(runs_dir / "a"))
    assert straight.returncode == 0, straight.stderr
    killed = genlab_cli(*TRAIN, "--runs-dir", str(runs_dir / "b"), env={"GENLAB_FAULTS": fault})
    assert killed.returncode == -9, killed.stderr
    [run] = [s.run for s in list_runs(runs_dir / "b")]
    assert run.status()["state"] == "running"  # as the SIGKILL left it
    if "checkpoint" in fault:  # killed inside the write: the new checkpoint is a temporary file
        assert [p.name for p in run.path.glob(".checkpoint.safetensors.*.tmp")]
    resumed = genlab_cli("resume", run.id, "--runs-dir", str(runs_dir / "b"))
    assert resumed.returncode == 0, resumed.stderr
    assert not list(run.path.rglob("*.tmp")), "a stale temporary file was left"
    [done] = [s.run for s in list_runs(runs_dir / "a")]
    assert run.status()["state"] == "completed" and losses(run) == losses(done)


# ---- one bad configuration value, one message ----------------------------------------------


@pytest.mark.parametrize("value", ["abc", "2.5", "0", "-1"])
def test_a_bad_max_jobs_is_one_clear_message_everywhere(runs_dir, monkeypatch, capsys, value):
    monkeypatch.setenv("GENLAB_MAX_JOBS", value)
    with pytest.raises(SystemExit) as exit_info:
        main(["list", "--runs-dir", str(runs_dir)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1
    assert f"GENLAB_MAX_JOBS must be a whole number of at least 1 (runs trained at once), not '{value}'" in err
    at = open_page("home")
    assert [e.value for e in at.error] == [f"GenLab cannot start: GENLAB_MAX_JOBS must be a whole number of at "
                                           f"least 1 (runs trained at once), not '{value}'."]


def test_a_bad_worker_thread_count_stops_the_app_and_the_queue_with_one_message(runs_dir, monkeypatch):
    monkeypatch.setenv("GENLAB_WORKER_THREADS", "many")
    message = "GENLAB_WORKER_THREADS must be a whole number of at least 1, not 'many'"
    assert [e.value for e in open_page("home").error] == [f"GenLab cannot start: {message}."]
    with pytest.raises(ConfigError, match=message):
        jobs.launch(tiny_config(), runs_dir)
    assert not list_runs(runs_dir)  # nothing queued that no worker could train


def test_temporary_files_of_dead_processes_are_removed_and_live_ones_kept(runs_dir):
    run = tiny_run(runs_dir)
    dead, alive = dead_pid(), os.getpid()
    (run.path / f".checkpoint.safetensors.{dead}.140000.tmp").write_bytes(b"half a checkpoint")
    (run.path / f".status.json.{dead}.tmp").write_text("{")  # the older name, without a thread
    (run.path / f".checkpoint.safetensors.{alive}.1.tmp").write_bytes(b"being written")
    jobs.reconcile(runs_dir)
    assert sorted(p.name for p in run.path.glob(".*.tmp")) == [f".checkpoint.safetensors.{alive}.1.tmp"]


# ---- one bad run never breaks the others ---------------------------------------------------


def replace_with_folder(path):
    path.unlink()
    path.mkdir()


BREAKAGES = {
    "created is a word": (lambda run: force_status(run, created="yesterday"),
                          "'created' must be int or float, not 'yesterday'"),
    "pid is a letter": (lambda run: force_status(run, pid="z"), "'pid' must be int or null, not 'z'"),
    "status.json is a folder": (lambda run: replace_with_folder(run.status_path), "status.json of run"),
    "snapshots is a file": (lambda run: (__import__("shutil").rmtree(run.snapshots_dir),
                                         run.snapshots_dir.write_text("x")), "snapshots of run"),
    "metrics.jsonl is a folder": (lambda run: replace_with_folder(run.metrics_path), "metrics.jsonl of run"),
    "config has a wrong type": (lambda run: run.config_path.write_text(json.dumps(
        {**json.loads(run.config_path.read_text()), "optim": {"lr": "fast"}})), "optim.lr must be float"),
    "dataset.json has a wrong type": (lambda run: run.dataset_path.write_text(json.dumps(
        {**json.loads(run.dataset_path.read_text()), "shape": "big"})), "'shape' must be list"),
    "eval.json is corrupt": (lambda run: run.eval_path.write_text('{"evaluations": [{"step": "x"'),
                             "eval.json of run"),
}


@pytest.fixture(scope="module")
def broken_runs(tmp_path_factory):
    """A runs folder with one good run and one run per kind of damage."""
    root = tmp_path_factory.mktemp("broken") / "runs"
    good = tiny_run(root, name="good")
    assert Trainer(good).train() == "completed"
    broken = {}
    for kind, (damage, _) in BREAKAGES.items():
        run = tiny_run(root, name=kind.replace(" ", "-").replace(".", "-"))
        assert Trainer(run).train() == "completed"
        damage(run)
        broken[kind] = run
    return root, good, broken


def test_each_broken_run_is_listed_with_its_reason_and_the_good_one_works(broken_runs, capsys):
    root, good, broken = broken_runs
    summaries = {s.run.id: s for s in list_runs(root)}
    assert summaries[good.id].error is None and summaries[good.id].state == "completed"
    for kind, run in broken.items():
        assert BREAKAGES[kind][1] in (summaries[run.id].error or ""), kind
    assert main(["list", "--runs-dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert out.count("broken") >= 3 and good.id in out
    out_png = root.parent / "good.png"
    assert main(["sample", good.id, "--out", str(out_png), "--runs-dir", str(root)]) == 0 and out_png.exists()


@pytest.mark.parametrize("kind", ["snapshots is a file", "config has a wrong type", "dataset.json has a wrong type"])
def test_viewing_a_broken_run_is_one_clear_refusal(broken_runs, capsys, kind):
    root, _, broken = broken_runs
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", broken[kind].id, "--out", str(root.parent / "x.png"), "--runs-dir", str(root)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and BREAKAGES[kind][1] in err


@pytest.mark.parametrize("page", ["home", "runs", "samples", "compare", "latent"])
def test_every_page_works_beside_broken_runs(broken_runs, monkeypatch, page):
    root, good, broken = broken_runs
    monkeypatch.setenv("GENLAB_RUNS", str(root))
    at = open_page(page)  # fails on any exception
    if page == "runs":  # the table flags each problem, and the line under it says it whole
        flags = dict(zip(at.dataframe[0].value["run"], at.dataframe[0].value["problem"]))
        assert flags[good.id] == ""
        for kind, run in broken.items():
            assert flags[run.id] == "⚠", kind
            [said] = [c.value for c in at.caption if f"**{run.id}**" in c.value]
            assert BREAKAGES[kind][1] in said, kind
            open_page("runs", run=run.id)  # and each broken run's own view opens


def test_eval_of_a_run_with_a_corrupt_eval_json_refuses_and_keeps_the_file(broken_runs, capsys):
    root, _, broken = broken_runs
    run = broken["eval.json is corrupt"]
    before = run.eval_path.read_bytes()
    with pytest.raises(SystemExit):
        main(["eval", run.id, "--n", "100", "--runs-dir", str(root)])
    assert "eval.json of run" in capsys.readouterr().err and run.eval_path.read_bytes() == before


@pytest.mark.slow
def test_a_corrupt_evaluator_is_trained_again(runs_dir, isolated_dirs):
    from genlab.data import load_dataset
    from genlab.metrics.evaluator import evaluator_path, load_or_train

    data = load_dataset("digits")
    path = evaluator_path(data)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not safetensors at all")
    model, accuracy = load_or_train(data, "cpu")
    assert accuracy > 0.8 and path.stat().st_size > 10_000
    assert load_or_train(data, "cpu")[1] == accuracy  # now read back, not retrained


# ---- a full disk -----------------------------------------------------------------------------


def test_a_full_disk_ends_the_run_failed_with_the_reason(runs_dir, monkeypatch):
    run = tiny_run(runs_dir, steps=8, n_snapshots=2)
    monkeypatch.setenv("GENLAB_FAULTS", "write:checkpoint.safetensors=enospc@2")  # the checkpoint at the end
    assert Trainer(run).train() == "failed"
    status = run.status()
    assert status["error"].startswith("no space left on the device; the checkpoint of step 0 is kept")
    assert load_state(run.checkpoint_path)["step"] == 0 and not list(run.path.glob(".*.tmp"))
    assert "No space left on device" in run.log_path.read_text()


def test_reconcile_never_raises_when_a_status_cannot_be_written(runs_dir, monkeypatch, capsys):
    first, second = tiny_run(runs_dir), tiny_run(runs_dir)
    for run in (first, second):
        pid = dead_pid()
        force_status(run, state="running", pid=pid, pgid=pid)
    monkeypatch.setenv("GENLAB_FAULTS", "status=enospc@1")
    ended = jobs.reconcile(runs_dir)
    assert len(ended) == 1 and "No space left on device" in capsys.readouterr().err
    states = sorted(run.status()["state"] for run in (first, second))
    assert states == ["interrupted", "running"]  # the other run was settled; a later reconcile gets this one
    monkeypatch.delenv("GENLAB_FAULTS")
    assert len(jobs.reconcile(runs_dir)) == 1


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs, mounted for the test (it needs root; skipped where it cannot be had)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"a tmpfs cannot be mounted here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder) -> None:
    """Fill the file system of `folder` to the last byte."""
    with open(folder / "filler", "wb", buffering=0) as f:
        for size in (1 << 16, 1 << 10, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError:
                continue


@pytest.mark.slow
def test_a_real_full_disk_fails_runs_cleanly_and_pages_keep_working(small_disk, monkeypatch, capsys):
    runs = small_disk / "runs"
    # A GAN whose checkpoint (about 3 MB with Adam's moments) cannot fit on the 2 MiB disk.
    big = genlab_cli("train", "gan", "--dataset", "ring", "--steps", "20", "--runs-dir", str(runs))
    assert big.returncode == 1
    [s] = list_runs(runs)
    assert s.state == "failed" and s.status["error"].startswith("no space left on the device")
    jobs.delete(runs, s.run.id)
    # A small run trains while the disk fills to the last byte under it.
    small = subprocess.Popen([sys.executable, "-m", "genlab", "train", "gan", "--dataset", "ring", "--hidden", "16",
                              "--steps", "1000000", "--runs-dir", str(runs), "--name", "small"], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run = wait_for_run(runs, "small")
    fill(small_disk)
    _, err = small.communicate(timeout=120)
    assert small.returncode == 1 and "Traceback" not in err, err
    # Nothing on the disk can change now; everything that reads still works, and reconcile does not fail.
    jobs.reconcile(runs)
    assert main(["list", "--runs-dir", str(runs)]) == 0 and "small" in capsys.readouterr().out
    monkeypatch.setenv("GENLAB_RUNS", str(runs))
    for page in ("home", "runs", "samples"):
        open_page(page)
    # Space again: the run is found interrupted (or failed, if it could say so) and resumes.
    (small_disk / "filler").unlink()
    jobs.reconcile(runs)
    status = run.status()
    # It says "failed: no space left" when that could still be written; else it is found interrupted.
    expected = [("failed", "no space left on th"), ("interrupted", "its worker stopped ")]
    assert (status["state"], status["error"][:19]) in expected
    assert "No space left on device" in run.log_path.read_text() or status["state"] == "interrupted"


def wait_for_run(runs, name, timeout=120.0):
    import time
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = [s for s in list_runs(runs) if s.run.id.startswith(name) and s.status.get("step", 0) > 0]
        if found:
            return found[0].run
        time.sleep(0.2)
    raise AssertionError(f"run {name} did not start training")
