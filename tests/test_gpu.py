"""GenLab on a CUDA GPU: every model trains, resumes, is evaluated and is opened there, a
worker the queue starts picks the GPU, and a run that runs out of GPU memory fails with a
message. Skipped where CUDA is absent (CI has no GPU); on a GPU server run
`python -m pytest tests/test_gpu.py` (benchmarks/gpu_session.sh does, with the benchmarks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from genlab import jobs
from genlab.data import load_dataset
from genlab.jobs.executors.local import default_runs_per_gpu
from genlab.metrics.evaluate import evaluate_model
from genlab.metrics.evaluator import train_evaluator
from genlab.models import VARIANTS
from genlab.presets import make_config
from genlab.store.runs import Run
from genlab.store.snapshots import load_model
from genlab.teaching.demos import demo_runs
from genlab.training.step_log import non_finite
from genlab.training.trainer import Trainer
from tests.support import ROOT, SHIPPED, losses, needs_fashion, state, tiny_run, wait_for

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")

ALL_SPEEDUPS = "fused_adam,channels_last,bf16"


def dataset_of(variant: str) -> str:
    return "fashion-mnist" if VARIANTS[variant].arch == "conv" else "digits"


def numbers(records: list[dict]) -> list[float]:
    """Every logged number, in order (a per-dimension KL is a list of them)."""
    flat = []
    for r in records:
        for value in r.values():
            flat += value if isinstance(value, list) else [value]
    return flat


def max_relative_difference(a: list[dict], b: list[dict]) -> float:
    assert [r["step"] for r in a] == [r["step"] for r in b]
    return max(abs(x - y) / (abs(x) + 1e-3) for x, y in zip(numbers(a), numbers(b), strict=True))


@pytest.mark.parametrize("variant", [pytest.param(v, marks=needs_fashion if dataset_of(v) == "fashion-mnist" else ())
                                     for v in sorted(VARIANTS)])
def test_every_variant_trains_on_cuda(runs_dir, variant):
    run = tiny_run(runs_dir, variant, dataset_of(variant), steps=20, log_every=5, device="cuda")
    assert Trainer(run).train() == "completed", run.status().get("error")
    assert run.status()["device"].startswith("cuda (")
    assert not any(non_finite(r) for r in run.metrics())
    model, step = load_model(run)
    assert step == 20 and model.device.type == "cpu"  # a snapshot opens anywhere


def train_stopped_and_straight(runs_dir: Path, variant: str, dataset: str) -> tuple[Run, Run]:
    """One run straight to step 12, one stopped at step 7 and resumed; both on CUDA."""
    kwargs = dict(steps=12, log_every=3, n_snapshots=3, seed=5, device="cuda")
    straight = tiny_run(runs_dir, variant, dataset, **kwargs)
    assert Trainer(straight).train() == "completed"
    stopped = tiny_run(runs_dir, variant, dataset, **kwargs)
    trainer = Trainer(stopped, on_progress=lambda step, total: step == 7 and trainer.request_stop())
    assert trainer.train() == "cancelled"
    assert Trainer(stopped).train() == "completed"
    return straight, stopped


@pytest.mark.parametrize("variant,dataset", [("gan", "ring"), ("wgan-gp", "ring"), ("vae", "digits"),
                                             ("cgan", "digits")])
def test_resume_on_cuda_is_exact_for_mlp_models(runs_dir, variant, dataset):
    straight, stopped = train_stopped_and_straight(runs_dir, variant, dataset)
    assert losses(stopped) == losses(straight)
    a, b = load_model(straight)[0].inference_state_dict(), load_model(stopped)[0].inference_state_dict()
    assert all(torch.equal(v, b[k]) for k, v in a.items())


@needs_fashion
@pytest.mark.parametrize("speedups", ["fused_adam", ALL_SPEEDUPS])
@pytest.mark.parametrize("variant", ["dcgan", "conv-vae"])
def test_resume_on_cuda_matches_within_cudnn_rounding_for_conv_models(runs_dir, monkeypatch, variant, speedups):
    """cuDNN's backward convolutions may add partial sums in any order (atomics), so two runs
    of the same steps differ in the last bits: the resumed run is checked against the straight
    one to a tolerance, and the difference is printed."""
    monkeypatch.setenv("GENLAB_CUDA_SPEEDUPS", speedups)
    straight, stopped = train_stopped_and_straight(runs_dir, variant, "fashion-mnist")
    difference = max_relative_difference(losses(stopped), losses(straight))
    print(f"{variant} with {speedups}: largest relative difference of a logged loss {difference:.2e}")
    assert difference < (5e-2 if "bf16" in speedups else 1e-3)
    assert stopped.status()["device"].endswith(speedups.replace(",", ", "))


@needs_fashion
def test_evaluation_runs_on_cuda(runs_dir):
    gan = tiny_run(runs_dir, "dcgan", "fashion-mnist", steps=30, n_snapshots=1, device="cuda", evaluate=True,
                   eval_samples=500)
    vae = tiny_run(runs_dir, "conv-vae", "fashion-mnist", steps=30, n_snapshots=1, device="cuda",
                   evaluate=True, eval_samples=500)
    assert Trainer(gan).train() == Trainer(vae).train() == "completed"
    result = gan.evaluations()[-1]
    for name in ("fid", "kid", "precision", "recall", "density", "coverage", "inception_score"):
        assert name in result and result[name] == result[name], name  # present and not NaN
    assert result["memorisation"]
    assert vae.evaluations()[-1]["iwae"] < 0
    evaluator, accuracy = train_evaluator(load_dataset("digits"), torch.device("cuda"))
    assert accuracy > 0.9 and next(evaluator.parameters()).is_cuda


def genlab_without_cuda(*argv: str, runs: Path) -> subprocess.CompletedProcess:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", GENLAB_RUNS=str(runs), PYTHONPATH=path)
    return subprocess.run([sys.executable, "-m", "genlab", *argv], env=env, capture_output=True, text=True,
                          timeout=300)


@needs_fashion
def test_a_run_trained_on_cuda_opens_and_resumes_on_a_machine_without_one(runs_dir, tmp_path):
    run = tiny_run(runs_dir, "dcgan", "fashion-mnist", steps=20, device="auto")
    trainer = Trainer(run, on_progress=lambda step, total: step == 10 and trainer.request_stop())
    assert trainer.train() == "cancelled" and run.status()["device"].startswith("cuda")
    sample = genlab_without_cuda("sample", run.id, "--out", str(tmp_path / "grid.png"), runs=runs_dir)
    assert sample.returncode == 0, sample.stderr
    assert (tmp_path / "grid.png").stat().st_size > 0
    resumed = genlab_without_cuda("resume", run.id, "--device", "auto", runs=runs_dir)
    assert resumed.returncode == 0, resumed.stderr
    assert state(run) == "completed" and run.status()["device"] == "cpu"
    assert [r["step"] for r in run.metrics()][-1] == 20


def test_a_run_trained_on_the_cpu_continues_on_cuda(runs_dir):
    run = tiny_run(runs_dir, "wgan-gp", "ring", steps=20, device="cpu")
    trainer = Trainer(run, on_progress=lambda step, total: step == 10 and trainer.request_stop())
    assert trainer.train() == "cancelled"
    assert Trainer(run, device="cuda").train() == "completed"
    assert run.status()["device"].startswith("cuda (")
    assert not any(non_finite(r) for r in run.metrics())


@needs_fashion
def test_the_shipped_demos_open_and_evaluate_on_cuda():
    demos = demo_runs(SHIPPED)
    assert demos
    for run_id in demos:
        model, _ = load_model(Run(SHIPPED / run_id), device="cuda")
        assert model.device.type == "cuda"
        assert torch.isfinite(model.generate(model.codes(16, seed=0))).all(), run_id
    dcgan = next(Run(SHIPPED / r) for r in demos if Run(SHIPPED / r).config().model.arch == "conv")
    model, _ = load_model(dcgan, device="cuda")
    result = evaluate_model(model, load_dataset("fashion-mnist"), n=500, device="cuda")
    assert 0 < result["fid"] < 200


def test_a_worker_started_by_jobs_trains_on_the_gpu(runs_dir):
    config = make_config("gan", "ring", steps=200, hidden=32, depth=1, batch_size=64, device="auto")
    run = jobs.launch(config, runs_dir)
    wait_for(lambda: state(run) in ("completed", "failed"), timeout=180)
    assert state(run) == "completed", run.status().get("error")
    assert run.status()["device"].startswith("cuda (")
    assert jobs.max_jobs() == torch.cuda.device_count() * default_runs_per_gpu()


@needs_fashion
def test_running_out_of_gpu_memory_fails_the_run_and_spares_the_next(runs_dir):
    """The process may use 400 MB of the GPU (as if other runs held the rest): the data fits,
    a batch of 16,384 does not; the run after it trains in what the first gave back."""
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.empty_cache()
    torch.cuda.set_per_process_memory_fraction(400e6 / total)
    try:
        big = tiny_run(runs_dir, "dcgan", "fashion-mnist", steps=5, batch_size=16_384, hidden=64, device="cuda")
        assert Trainer(big).train() == "failed"
        error = big.status()["error"]
        assert error.startswith("out of memory on cuda (") and "batch size 16384" in error, error
        assert "Traceback" not in error and "GENLAB_RUNS_PER_GPU" in error
        small = tiny_run(runs_dir, "dcgan", "fashion-mnist", steps=5, device="cuda")
        assert Trainer(small).train() == "completed"
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        torch.cuda.empty_cache()
