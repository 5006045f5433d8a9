"""Background training jobs: launch, queue, cancel, resume, delete, reconcile.

A launched run trains in a worker of the executor (genlab.jobs.executors): by default its own
OS process and process group (`python -m genlab worker RUN_DIR`), on a Ray cluster an actor,
so nothing that happens to the app — a rerun, a closed tab, a restart — touches it. The queue
is the runs folder itself (`fair_queue`); every worker starts the next queued run when it
ends (`worker`), so the queue moves with no browser open.

    actions       launch, cancel, resume, delete: what a user asks for, checked here
    fair_queue    which queued run starts next, how many at once, the queue's lock
    reconciler    runs whose worker died become interrupted; ignored cancels are killed
    watcher       the app's one thread that reconciles and lists the runs every few seconds
    evaluation    a run's evaluation in a background process
    worker        what a worker does: train, then start the next queued run
    executors/    where a started run trains: this machine (local) or a Ray cluster (ray_cluster)

This package's names are the ones the app and the command line use.
"""

from genlab.jobs.actions import Upload, cancel, check_run_quota, delete, launch, launch_all, resume
from genlab.jobs.evaluation import evaluation_running, start_evaluation
from genlab.jobs.executors.base import ExecutorUnavailable
from genlab.jobs.fair_queue import fair_order, max_jobs, schedule, where_runs_train, worker_threads
from genlab.jobs.reconciler import reconcile
from genlab.jobs.watcher import RunWatcher
from genlab.jobs.worker import work
from genlab.store.lifecycle import ACTIVE, RESUMABLE

__all__ = ["ACTIVE", "RESUMABLE", "ExecutorUnavailable", "RunWatcher", "Upload", "cancel", "check_run_quota", "delete",
           "evaluation_running", "fair_order", "launch", "launch_all", "max_jobs", "reconcile", "resume", "schedule",
           "start_evaluation", "where_runs_train", "work", "worker_threads"]
