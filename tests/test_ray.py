"""Runs on a Ray cluster (GENLAB_EXECUTOR=ray): a local cluster of 2 CPUs started by the test
trains real runs through genlab.jobs, which cancels, resumes and reconciles them as it does
local workers."""

from pathlib import Path

import pytest
import ray
import torch

from genlab import jobs
from genlab.classroom.access import NotAllowed, OverQuota, User
from genlab.config import ConfigError
from genlab.jobs import executors, reconciler
from genlab.jobs.executors.ray_cluster import check_shared
from genlab.store.lifecycle import change
from genlab.store.runs import list_runs
from genlab.store.snapshots import load_model
from tests.pages import open_page
from tests.support import enrol, ray_cluster, state, steps_logged, tiny_config, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray")]  # a Ray cluster; one at a time


def same_weights(a, b) -> bool:
    model_a, _ = load_model(a)
    model_b, _ = load_model(b)
    state_b = model_b.inference_state_dict()
    return all(torch.equal(v, state_b[k]) for k, v in model_a.inference_state_dict().items())


def test_an_unreachable_cluster_leaves_the_run_queued_with_one_message(runs_dir, monkeypatch):
    # Before the cluster below exists: this process has not joined any.
    assert not ray.is_initialized()
    monkeypatch.setenv("GENLAB_EXECUTOR", "ray")
    monkeypatch.setenv("GENLAB_RAY_ADDRESS", "127.0.0.1:1")  # nothing listens there
    with pytest.raises(jobs.ExecutorUnavailable, match=r"queued but not started: the Ray cluster at "
                                                            r"127\.0\.0\.1:1 \(GENLAB_RAY_ADDRESS\) could not"):
        jobs.launch(tiny_config(), runs_dir)
    [summary] = list_runs(runs_dir)
    assert summary.state == "queued"
    assert jobs.reconcile(runs_dir) == [] and state(summary.run) == "queued"  # reconcile goes on
    assert jobs.where_runs_train().startswith("Runs cannot start now: the Ray cluster at 127.0.0.1:1")


def test_launching_from_the_app_with_no_cluster_says_so_and_keeps_the_run(runs_dir, monkeypatch):
    monkeypatch.setenv("GENLAB_EXECUTOR", "ray")
    monkeypatch.setenv("GENLAB_RAY_ADDRESS", "127.0.0.1:1")
    at = open_page("train")
    assert "Runs cannot start now: the Ray cluster at 127.0.0.1:1" in "\n".join(c.value for c in at.sidebar.caption)
    at.button(key="launch").click().run()
    [summary] = list_runs(runs_dir)
    [error] = at.error
    assert error.value.startswith(f"run {summary.run.id} is queued but not started: the Ray cluster at 127.0.0.1:1")
    assert "start the cluster (ray start --head) or correct the address" in error.value
    assert summary.state == "queued" and at.title[0].value == "Train a model"  # it stays on the page that said so


def test_a_wrong_executor_setting_is_refused_before_a_run_is_queued(runs_dir, monkeypatch):
    monkeypatch.setenv("GENLAB_EXECUTOR", "slurm")
    with pytest.raises(ConfigError, match="GENLAB_EXECUTOR must be local or ray, not 'slurm'"):
        jobs.launch(tiny_config(), runs_dir)
    monkeypatch.setenv("GENLAB_EXECUTOR", "ray")
    with pytest.raises(ConfigError, match="GENLAB_EXECUTOR=ray needs GENLAB_RAY_ADDRESS"):
        jobs.launch(tiny_config(), runs_dir)
    assert not runs_dir.exists() or not list_runs(runs_dir)


@pytest.fixture(scope="module")
def cluster():
    yield from ray_cluster(num_cpus=2, object_store_memory=100 * 2**20)


@pytest.fixture
def on_ray(cluster, monkeypatch):
    monkeypatch.setenv("GENLAB_EXECUTOR", "ray")
    monkeypatch.setenv("GENLAB_RAY_ADDRESS", "auto")


def test_runs_train_cancel_and_resume_exactly_on_ray(runs_dir, on_ray):
    assert jobs.max_jobs() == 2  # the cluster's CPUs
    gan = tiny_config(steps=3000, log_every=50, n_snapshots=2, seed=3)
    straight = jobs.launch(gan, runs_dir)
    vae = jobs.launch(tiny_config("vae", "digits", steps=200, log_every=20), runs_dir)
    wait_for(lambda: {state(straight), state(vae)} == {"completed"}, timeout=180)
    for run in (straight, vae):
        status = run.status()
        assert status["executor"] == "ray" and status["ray_actor"].startswith(run.id)
        assert "Ray actor on" in run.log_path.read_text()
        assert steps_logged(run)[-1] == run.config().schedule.steps

    stopped = jobs.launch(gan, runs_dir)
    wait_for(lambda: state(stopped) == "running" and stopped.status()["step"] > 0)
    jobs.cancel(runs_dir, stopped.id)
    wait_for(lambda: state(stopped) == "cancelled")
    assert 0 < stopped.status()["step"] < 3000
    jobs.resume(runs_dir, stopped.id)
    wait_for(lambda: state(stopped) == "completed", timeout=180)
    assert steps_logged(stopped) == steps_logged(straight)  # one line per step across the stop
    assert same_weights(straight, stopped)  # exact resume: as if it had never stopped
    wait_for(lambda: [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)] == ["dispatcher"])
    # every run's worker ended with its run; the dispatcher that starts them stays


def test_runs_that_ask_for_the_whole_cluster_take_turns_with_no_browser(runs_dir, on_ray):
    # Each run asks Ray for both CPUs; two are handed to Ray (two CPUs, two slots), one waits
    # in GenLab's queue. Each ending worker starts the next queued run, with no reconcile.
    runs = [jobs.launch(tiny_config(steps=300, log_every=50, seed=i, cpus=2), runs_dir) for i in range(3)]
    assert [state(r) for r in runs] == ["starting", "starting", "queued"]
    wait_for(lambda: all(state(r) == "completed" for r in runs), timeout=120)
    spans = sorted((r.status()["started"], r.status()["finished"]) for r in runs)
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))  # one at a time


def test_ownership_and_the_run_limit_hold_on_ray(runs_dir, on_ray, monkeypatch):
    amy, ben, teacher = User("amy"), User("ben"), User("ms-lee", teacher=True)
    enrol(runs_dir, amy, ben, teacher)
    monkeypatch.setenv("GENLAB_STUDENT_MAX_STEPS", "1000000")  # runs long enough to still train when cancelled
    long = tiny_config(steps=200_000, log_every=100)
    first, second = jobs.launch(long, runs_dir, user=amy), jobs.launch(long, runs_dir, user=amy)
    with pytest.raises(OverQuota, match="amy already has 2 runs queued or training"):
        jobs.launch(long, runs_dir, user=amy)
    wait_for(lambda: state(first) == "running")
    with pytest.raises(NotAllowed):
        jobs.cancel(runs_dir, first.id, user=ben)
    assert state(first) == "running" and not first.stop_path.exists()
    for run in (first, second):
        jobs.cancel(runs_dir, run.id, user=teacher)
    wait_for(lambda: {state(first), state(second)} == {"cancelled"})


def test_a_killed_worker_becomes_interrupted_and_resumes_on_ray(runs_dir, on_ray, monkeypatch):
    # The worker kills itself (SIGKILL, as a lost node or the OOM killer) at its third log line.
    monkeypatch.setenv("GENLAB_FAULTS", "metrics=kill@3")
    run = jobs.launch(tiny_config(steps=400, log_every=20, n_snapshots=4), runs_dir)
    wait_for(lambda: run.id in jobs.reconcile(runs_dir) or state(run) == "interrupted")
    assert state(run) == "interrupted" and "resume it" in run.status()["error"]
    monkeypatch.delenv("GENLAB_FAULTS")
    jobs.resume(runs_dir, run.id)
    wait_for(lambda: state(run) == "completed", timeout=120)
    assert steps_logged(run) == list(range(20, 401, 20))  # each logged step once, across the crash


def test_a_worker_that_ignores_a_cancel_is_killed_through_ray(runs_dir, on_ray, monkeypatch):
    monkeypatch.setattr(reconciler, "CANCEL_GRACE_S", 0.0)
    run = jobs.launch(tiny_config(steps=200_000, log_every=50), runs_dir)
    wait_for(lambda: state(run) == "running")
    status = change(run, cancel_requested=1.0)  # asked long ago, and its STOP file never came
    assert executors.of(status).alive(status)
    wait_for(lambda: run.id in jobs.reconcile(runs_dir) or state(run) == "cancelled")
    assert state(run) == "cancelled" and "killed after not stopping" in run.status()["error"]
    wait_for(lambda: executors.of(status).alive(status) is False)


def test_a_runs_folder_the_nodes_cannot_write_is_refused(cluster, runs_dir):
    runs_dir.mkdir(parents=True)
    check_shared(runs_dir)
    assert list(runs_dir.iterdir()) == []  # the check leaves nothing behind
    with pytest.raises(jobs.ExecutorUnavailable, match=r"must be storage every node writes .* could not "
                                                            r"write into /sys/kernel: PermissionError"):
        check_shared(Path("/sys/kernel"))  # a folder that exists and nobody, root included, writes into
