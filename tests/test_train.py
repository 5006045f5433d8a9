import json
from dataclasses import replace

import pytest
import torch

from genlab.data import load_dataset
from genlab.models import gan
from genlab.store.runs import read_jsonl
from genlab.store.snapshots import load_model
from genlab.store.statefile import load_state, save_state
from genlab.training.trainer import Trainer, new_state, snapshot_steps
from tests.support import losses, needs_fashion, tiny_config, tiny_run


@pytest.mark.parametrize("variant,dataset,schedule", [("wgan-gp", "ring", "linear"),
                                             pytest.param("cdcgan", "fashion-mnist", "constant",
                                                          marks=[needs_fashion, pytest.mark.slow]),
                                             ("vae", "digits", "linear"), ("cvae", "ring", "constant")])
def test_resume_equals_an_uninterrupted_run(runs_dir, variant, dataset, schedule):
    kwargs = dict(steps=12, log_every=3, n_snapshots=3, seed=5, lr_schedule=schedule)
    straight = tiny_run(runs_dir, variant, dataset, **kwargs)
    assert Trainer(straight).train() == "completed"

    stopped = tiny_run(runs_dir, variant, dataset, **kwargs)
    trainer = Trainer(stopped, on_progress=lambda step, total: step == 7 and trainer.request_stop())
    assert trainer.train() == "cancelled"
    assert stopped.status()["step"] == 7
    assert Trainer(stopped).train() == "completed"

    assert losses(stopped) == losses(straight)
    a, _ = load_model(straight)
    b, _ = load_model(stopped)
    for k, v in a.inference_state_dict().items():
        assert torch.equal(v, b.inference_state_dict()[k]), k
    full_a, full_b = load_state(straight.checkpoint_path), load_state(stopped.checkpoint_path)
    for k, v in full_a["model"].items():
        assert torch.equal(v, full_b["model"][k]), k


def test_stop_file_is_honoured_within_one_step(runs_dir):
    run = tiny_run(runs_dir, steps=100)
    trainer = Trainer(run, on_progress=lambda step, total: step == 4 and run.request_stop())
    assert trainer.train() == "cancelled"
    status = run.status()
    assert status["state"] == "cancelled" and status["step"] == 4
    assert load_state(run.checkpoint_path)["step"] == 4
    assert not run.stop_path.exists()  # consumed, so a resume is not stopped again


def test_snapshots_are_evenly_spaced_with_pictures(runs_dir):
    assert snapshot_steps(1000, 20) == [0] + list(range(50, 1001, 50))
    run = tiny_run(runs_dir, steps=40, n_snapshots=20, log_every=5)
    Trainer(run).train()
    steps = run.snapshot_steps()
    assert steps == [0] + list(range(2, 41, 2))
    assert all(run.snapshot_path(s, ".png").stat().st_size > 0 for s in steps)
    info = json.loads(run.dataset_path.read_text())
    assert info["shape"] == [2] and len(info["classes"]) == 8


def test_metrics_log_named_scalars_every_k_steps(runs_dir):
    gan_run = tiny_run(runs_dir, "wgan-gp", steps=12, log_every=4, n_snapshots=1)
    Trainer(gan_run).train()
    records = gan_run.metrics()
    assert [r["step"] for r in records] == [4, 8, 12]
    assert {"loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g", "critic_gap", "gp",
            "time"} <= set(records[0])
    vae_run = tiny_run(runs_dir, "vae", "digits", steps=4, log_every=2, n_snapshots=1, latent_dim=5)
    Trainer(vae_run).train()
    record = vae_run.metrics()[-1]
    assert {"loss", "recon", "kl"} <= set(record) and len(record["kl_per_dim"]) == 5
    assert record["kl"] == pytest.approx(sum(record["kl_per_dim"]), rel=1e-4)


def test_non_finite_loss_ends_the_run_as_diverged_keeping_the_last_good_checkpoint(runs_dir):
    # Adam moves every weight by about lr per step: lr = 1e30 overflows float32 at once.
    run = tiny_run(runs_dir, "vae", "digits", steps=20, log_every=1, lr=1e30)
    assert Trainer(run).train() == "diverged"
    status = run.status()
    assert "NaN or infinite" in status["error"] and "lower learning rate" in status["error"]
    state = load_state(run.checkpoint_path)
    assert state["step"] == 0
    assert all(torch.isfinite(v).all() for v in state["model"].values())


def test_a_stop_after_a_nan_ends_diverged_and_saves_no_nan_checkpoint(runs_dir):
    # The weights overflow at once, but no line is logged before the stop at step 3.
    run = tiny_run(runs_dir, "vae", "digits", steps=20, log_every=100, n_snapshots=1, lr=1e30)
    trainer = Trainer(run, on_progress=lambda step, total: step == 3 and trainer.request_stop())
    assert trainer.train() == "diverged"
    assert "by step 3; the checkpoint of step 0 is kept" in run.status()["error"]
    state = load_state(run.checkpoint_path)
    assert state["step"] == 0 and all(torch.isfinite(v).all() for v in state["model"].values())


def test_train_state_saves_every_field_it_restores(runs_dir):
    config = tiny_config("wgan-gp", "ring", lr_schedule="linear")
    data = load_dataset("ring")
    trained = new_state(config, data, torch.device("cpu"))
    for _ in range(3):
        trained.log.add(trained.model.train_step(trained.sampler, trained.optimizers, trained.step,
                                                 trained.noise_rng))
        trained.step += 1
    trained.elapsed = 1.5
    runs_dir.mkdir()
    save_state(runs_dir / "c.safetensors", trained.state_dict())
    torch.manual_seed(123)  # restoring must bring the global stream back too
    fresh = new_state(replace(config, schedule=replace(config.schedule, seed=9)), data, torch.device("cpu"))
    fresh.load_state_dict(load_state(runs_dir / "c.safetensors"))
    assert_same_state(fresh.state_dict(), trained.state_dict())
    assert fresh.base_lrs == trained.base_lrs


def assert_same_state(a, b, where="state"):
    assert type(a) is type(b), where
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_same_state(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_state(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    else:
        assert a == b, where


def test_a_checkpoint_in_the_earlier_layout_resumes_exactly(runs_dir):
    """Checkpoints written before TrainState kept the noise RNG as "generator" and the log sums at the top."""
    kwargs = dict(steps=12, log_every=5, n_snapshots=3, seed=2)
    straight = tiny_run(runs_dir, **kwargs)
    assert Trainer(straight).train() == "completed"
    stopped = tiny_run(runs_dir, **kwargs)
    trainer = Trainer(stopped, on_progress=lambda step, total: step == 7 and trainer.request_stop())
    assert trainer.train() == "cancelled"
    state = load_state(stopped.checkpoint_path)
    assert state["log"]["count"] == 2  # steps 6 and 7 are not logged yet
    log, noise_rng = state.pop("log"), state.pop("noise_rng")
    save_state(stopped.checkpoint_path, {**state, "generator": noise_rng, **log})
    assert Trainer(stopped).train() == "completed"
    assert losses(stopped) == losses(straight)


def test_out_of_memory_fails_with_a_smaller_batch_suggestion(runs_dir, monkeypatch):
    def no_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(gan.GAN, "train_step", no_memory)
    run = tiny_run(runs_dir, batch_size=64)
    assert Trainer(run).train() == "failed"
    assert "out of memory" in run.status()["error"] and "e.g. 32" in run.status()["error"]


def test_an_unexpected_error_fails_the_run_with_a_message_and_a_log(runs_dir, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("something no one planned for")

    monkeypatch.setattr(gan.GAN, "train_step", broken)
    run = tiny_run(runs_dir)
    assert Trainer(run).train() == "failed"
    assert "something no one planned for (details in worker.log)" in run.status()["error"]
    assert "Traceback" in run.log_path.read_text()


def test_a_config_edited_into_nonsense_fails_the_run_with_a_message(runs_dir):
    run = tiny_run(runs_dir)
    raw = json.loads(run.config_path.read_text())
    raw["optim"]["lr"] = -1  # as if the file had been edited by hand
    run.config_path.write_text(json.dumps(raw))
    assert Trainer(run).train() == "failed"
    assert "learning rate must be a finite number > 0, not -1" in run.status()["error"]


def nearest_mode_distance(samples, modes):
    return torch.cdist(samples, modes).min(dim=1).values.mean().item()


@pytest.mark.slow
def test_a_gan_on_the_ring_learns(runs_dir):
    run = tiny_run(runs_dir, "gan", "ring", steps=600, log_every=50, n_snapshots=2, batch_size=128,
                   hidden=128, depth=3, lr=1e-3)
    assert Trainer(run).train() == "completed"
    modes = load_dataset("ring").modes
    start, _ = load_model(run, 0)
    end, _ = load_model(run)
    before = nearest_mode_distance(start.sample(2000, seed=1), modes)
    after = nearest_mode_distance(end.sample(2000, seed=1), modes)
    assert after < before / 3, (before, after)


@pytest.mark.slow
def test_a_vae_on_digits_learns(runs_dir):
    run = tiny_run(runs_dir, "vae", "digits", steps=300, log_every=50, n_snapshots=2, batch_size=64,
                   hidden=128, depth=2, lr=1e-3)
    assert Trainer(run).train() == "completed"
    test = load_dataset("digits").x_test
    start, _ = load_model(run, 0)
    end, _ = load_model(run)

    def recon_error(model):
        return ((model.reconstruct(test) - test) ** 2).mean().item()

    assert recon_error(end) < 0.6 * recon_error(start)
    first, last = run.metrics()[0]["loss"], run.metrics()[-1]["loss"]
    assert last < 0.9 * first


def test_metrics_lines_after_the_checkpoint_are_dropped_on_resume(runs_dir):
    run = tiny_run(runs_dir, steps=10, log_every=1, n_snapshots=1)
    trainer = Trainer(run, on_progress=lambda step, total: step == 6 and trainer.request_stop())
    trainer.train()
    with open(run.metrics_path, "a") as f:
        f.write('{"step": 9, "loss_d": 1.0}\n{"step": 10, "lo')  # a stray line and a torn one
    Trainer(run).train()
    assert [r["step"] for r in read_jsonl(run.metrics_path)] == list(range(1, 11))


def test_linear_schedule_decays_the_learning_rate_to_zero(runs_dir):
    run = tiny_run(runs_dir, "vae", "digits", steps=10, lr_schedule="linear", lr=1e-3)
    Trainer(run).train()
    [group] = load_state(run.checkpoint_path)["optimizers"]["vae"]["param_groups"]
    assert group["lr"] == pytest.approx(1e-3 / 10)  # set before the last step: lr_0 (1 - 9/10)
