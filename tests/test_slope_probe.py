"""D's slope with respect to its input (#25 item 4): what the regularisation lesson's claim is
about, measured at each log line on fixed real points and fixed generated ones."""

from __future__ import annotations

import torch

from genlab.data import load_dataset
from genlab.models import gan
from genlab.store.statefile import load_state
from genlab.training.trainer import Trainer, new_state
from tests.support import tiny_run


def test_the_slope_is_logged_on_toys_and_changes_no_step_of_training(runs_dir, monkeypatch):
    probed = tiny_run(runs_dir, "hinge-sn", "grid", steps=12, log_every=4, seed=2)
    Trainer(probed).train()
    records = probed.metrics()
    assert all(r["slope_d_real"] > 0 and r["slope_d_fake"] > 0 for r in records)
    monkeypatch.setattr(gan.GAN, "probes", lambda self, real: {})
    plain = tiny_run(runs_dir, "hinge-sn", "grid", steps=12, log_every=4, seed=2)
    Trainer(plain).train()
    drop = {"time", "slope_d_real", "slope_d_fake"}
    assert [{k: v for k, v in r.items() if k not in drop} for r in records] == \
        [{k: v for k, v in r.items() if k != "time"} for r in plain.metrics()]
    a, b = load_state(probed.checkpoint_path)["model"], load_state(plain.checkpoint_path)["model"]
    assert all(torch.equal(v, b[k]) for k, v in a.items())  # spectral norm's u vectors too


def test_the_slope_is_the_input_gradient_norm_and_spectral_norm_keeps_it_under_one(runs_dir):
    run = tiny_run(runs_dir, "hinge-sn", "grid", steps=30, log_every=10)
    Trainer(run).train()
    data = load_dataset("grid")
    state = new_state(run.config(), data, torch.device("cpu"))
    state.load_state_dict(load_state(run.checkpoint_path))
    model = state.model.eval()
    real = data.x_train[:256].clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model.discriminator(real, None).sum(), real)
    assert abs(model.probes(data.x_train[:256])["slope_d_real"] - grad.norm(dim=1).mean().item()) < 1e-6
    assert run.metrics()[-1]["slope_d_real"] <= 1.05 and run.metrics()[-1]["slope_d_fake"] <= 1.05


def test_images_and_vaes_log_no_slope(runs_dir):
    vae = tiny_run(runs_dir, "vae", "digits", steps=4, log_every=2)
    Trainer(vae).train()
    assert "slope_d_real" not in vae.metrics()[-1]
