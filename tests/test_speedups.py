"""The GPU speed-ups (genlab.training.speedups) and the GPU settings, exercised on the CPU:
each speed-up runs on the CPU too when asked, so its code is tested where CI runs. A run
on the CPU is never given one unasked (tests/test_train.py checks its exact resume)."""

from __future__ import annotations

import pytest
import torch

from genlab import settings
from genlab.config import ConfigError
from genlab.data import load_dataset
from genlab.jobs import fair_queue
from genlab.jobs.executors import local
from genlab.jobs.executors.local import LocalExecutor
from genlab.store.snapshots import load_model
from genlab.store.statefile import load_state
from genlab.training import speedups
from genlab.training.trainer import Trainer, new_state
from tests.support import force_status, needs_fashion, tiny_config, tiny_run


def test_the_settings_refuse_what_they_cannot_use(monkeypatch):
    assert settings.cuda_speedups() == ("fused_adam",) and settings.runs_per_gpu(default=5) == 5
    monkeypatch.setenv("GENLAB_CUDA_SPEEDUPS", " bf16, Channels_Last ")
    assert settings.cuda_speedups() == ("bf16", "channels_last")
    monkeypatch.setenv("GENLAB_CUDA_SPEEDUPS", "none")
    assert settings.cuda_speedups() == ()
    monkeypatch.setenv("GENLAB_CUDA_SPEEDUPS", "bf16,fp8")
    with pytest.raises(ConfigError, match="GENLAB_CUDA_SPEEDUPS takes .* not 'fp8'"):
        settings.check_all()
    monkeypatch.delenv("GENLAB_CUDA_SPEEDUPS")
    monkeypatch.setenv("GENLAB_RUNS_PER_GPU", "0")
    with pytest.raises(ConfigError, match="GENLAB_RUNS_PER_GPU"):
        settings.check_all()


def test_the_cpu_gets_no_speedup_unasked(monkeypatch):
    monkeypatch.setenv("GENLAB_CUDA_SPEEDUPS", "fused_adam,channels_last,bf16")
    assert speedups.chosen_for(torch.device("cpu")) == ()
    assert speedups.chosen_for(torch.device("cuda")) == ("fused_adam", "channels_last", "bf16")


@pytest.mark.parametrize("cores,per_gpu", [(1, 1), (2, 1), (6, 3), (16, 8), (64, 8)])
def test_a_gpu_takes_eight_runs_at_most_one_per_two_cores(monkeypatch, cores, per_gpu):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(local, "usable_cores", lambda: cores)
    assert LocalExecutor().capacity() == 2 * per_gpu
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    assert LocalExecutor().capacity() == 1


def test_runs_per_gpu_sets_the_slots_and_runs_go_to_the_least_busy_gpu(monkeypatch, runs_dir):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("GENLAB_RUNS_PER_GPU", "3")
    assert LocalExecutor().capacity() == fair_queue.max_jobs() == 6
    started: list[int | None] = []
    monkeypatch.setattr(LocalExecutor, "start", lambda self, run, runs, gpu: started.append(gpu))
    force_status(tiny_run(runs_dir), state="running", gpu=0)  # GPU 0 is busy already
    for _ in range(6):
        tiny_run(runs_dir)  # queued
    fair_queue.schedule(runs_dir)
    assert started == [1, 0, 1, 0, 1]  # five free slots of six, each to the GPU with fewer runs


@pytest.mark.parametrize("variant,dataset", [("wgan-gp", "ring"), pytest.param("dcgan", "fashion-mnist",
                                                                              marks=needs_fashion),
                                             pytest.param("conv-vae", "fashion-mnist", marks=needs_fashion)])
def test_every_speedup_trains_stops_and_resumes(runs_dir, monkeypatch, variant, dataset):
    monkeypatch.setattr(speedups, "chosen_for", lambda device: ("fused_adam", "channels_last", "bf16"))
    run = tiny_run(runs_dir, variant, dataset, steps=12, log_every=3, n_snapshots=3, device="cpu")
    trainer = Trainer(run, on_progress=lambda step, total: step == 6 and trainer.request_stop())
    assert trainer.train() == "cancelled"
    assert Trainer(run).train() == "completed"
    assert run.status()["device"] == "cpu, fused_adam, channels_last, bf16"
    assert [r["step"] for r in run.metrics()] == [3, 4, 6, 8, 9, 12]  # every 3rd step, and the snapshots
    assert all(v == v for r in run.metrics() for v in r.values())  # no NaN
    model, _ = load_model(run)  # the snapshot is plain float32 weights, in the usual layout
    weights = [t for t in model.state_dict().values() if t.is_floating_point()]
    assert all(t.dtype == torch.float32 and t.is_contiguous() for t in weights)


def test_a_checkpoint_of_fused_adam_resumes_unfused(runs_dir):
    """fused is a property of the optimiser's groups, which a loaded state would bring back:
    the Trainer sets it again for the device the run resumes on."""
    config = tiny_config("gan", "ring")
    state = new_state(config, load_dataset("ring"), torch.device("cpu"))
    speedups.fuse_adam(state.optimizers, True)
    saved = state.state_dict()
    fresh = new_state(config, load_dataset("ring"), torch.device("cpu"))
    fresh.load_state_dict(saved)
    assert fresh.optimizers["generator"].param_groups[0]["fused"] is True
    speedups.prepare(fresh.model, fresh.optimizers, ())
    assert all(g["fused"] is None for o in fresh.optimizers.values() for g in o.param_groups)


@needs_fashion
def test_adam_moments_loaded_from_a_checkpoint_take_the_channels_last_layout(runs_dir):
    """Found on an H200: a channels_last run resumed with fused Adam failed, as the moments
    loaded from the checkpoint were contiguous and the parameters were not."""
    run = tiny_run(runs_dir, "dcgan", "fashion-mnist", steps=4, device="cpu")
    Trainer(run).train()
    from genlab.training.trainer import dataset_for

    state = new_state(run.config(), dataset_for(run.config()), torch.device("cpu"))
    state.load_state_dict(load_state(run.checkpoint_path))
    speedups.prepare(state.model, state.optimizers, ("fused_adam", "channels_last"))
    moments = [(p, st["exp_avg"]) for o in state.optimizers.values() for p, st in o.state.items()]
    assert any(p.dim() == 4 for p, _ in moments)
    assert all(m.stride() == p.stride() and torch.equal(m, m.contiguous()) for p, m in moments)


def test_a_noise_state_from_another_kind_of_device_reseeds_from_the_step(runs_dir):
    """A CUDA generator's state is 16 bytes, a CPU one's 5,056: a run that moves between them
    cannot continue its noise stream, so it goes on from its seed plus the step."""
    run = tiny_run(runs_dir, "gan", "ring", steps=10, seed=3)
    Trainer(run).train()
    saved = load_state(run.checkpoint_path)
    saved["noise_rng"] = torch.zeros(16, dtype=torch.uint8)  # as a CUDA generator saves it
    state = new_state(run.config(), load_dataset("ring"), torch.device("cpu"))
    state.load_state_dict(saved)
    assert state.noise_rng.initial_seed() == 3 + 10
