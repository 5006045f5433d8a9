"""A Ray cluster of several nodes on this machine (Ray's own cluster_utils: a raylet per
node): a run whose node is lost becomes interrupted and, resumed, finishes on another node;
the app's Runs page cancels a run that trains on the cluster."""

import re

import pytest
import ray
from ray.cluster_utils import Cluster

from genlab import jobs
from tests.pages import open_page
from tests.support import state, steps_logged, tiny_config, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray")]  # Ray nodes; one cluster at a time


@pytest.fixture(scope="module")
def cluster():
    # The head takes no runs (it holds the Dispatcher, which asks for nothing); nodes do.
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    ray.init(address=cluster.address, log_to_driver=False)
    yield cluster
    ray.shutdown()
    cluster.shutdown()


@pytest.fixture
def on_cluster(cluster, monkeypatch):
    monkeypatch.setenv("GENLAB_EXECUTOR", "ray")
    monkeypatch.setenv("GENLAB_RAY_ADDRESS", cluster.address)
    return cluster


def nodes_of(run) -> list[str]:
    """The node each of the run's workers ran on, from worker.log."""
    return re.findall(r"Ray actor on node (\w+)", run.log_path.read_text())


def test_a_run_whose_node_is_lost_resumes_on_another_node(runs_dir, on_cluster):
    first = on_cluster.add_node(num_cpus=1)
    run = jobs.launch(tiny_config(steps=100_000, log_every=50, n_snapshots=2), runs_dir)
    wait_for(lambda: state(run) == "running" and run.status()["step"] > 0)
    second = on_cluster.add_node(num_cpus=1)
    on_cluster.remove_node(first, allow_graceful=False)  # the machine is gone, mid-run
    wait_for(lambda: run.id in jobs.reconcile(runs_dir) or state(run) == "interrupted")
    assert state(run) == "interrupted" and "resume it" in run.status()["error"]
    jobs.resume(runs_dir, run.id)
    wait_for(lambda: state(run) == "running" and run.status()["step"] > 0)
    jobs.cancel(runs_dir, run.id)
    wait_for(lambda: state(run) == "cancelled")
    assert nodes_of(run) == [first.node_id, second.node_id]
    logged = steps_logged(run)
    assert logged == sorted(set(logged))  # it went on from its checkpoint, each step logged once


def test_the_runs_page_cancels_a_run_on_the_cluster(runs_dir, on_cluster):
    on_cluster.add_node(num_cpus=1)
    run = jobs.launch(tiny_config(steps=100_000, log_every=50), runs_dir)
    wait_for(lambda: state(run) == "running" and run.status()["step"] > 0)
    at = open_page("runs", run=run.id)
    assert "Ray cluster at" in "\n".join(c.value for c in at.sidebar.caption)
    at.button(key="cancel").click().run()
    assert not at.exception
    wait_for(lambda: state(run) == "cancelled")  # the worker read the STOP file
    assert run.status()["error"] is None and 0 < run.status()["step"] < 100_000
