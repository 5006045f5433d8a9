"""Repairing images: the damage and its masks, the two repairs by known answers, the
evaluation's benchmark and `genlab repair`."""

import pytest
import torch

from genlab.cli import main
from genlab.config import ConfigError
from genlab.data import load_dataset
from genlab.metrics.evaluate import repair_scores
from genlab.models.repair import (
    Damage,
    damage,
    damaged_errors,
    encoder_imputation,
    mse_psnr,
    repair,
    repair_errors,
    search,
)
from genlab.store.runs import open_run
from genlab.store.snapshots import load_model
from genlab.training.trainer import Trainer
from tests.support import SHIPPED, needs_fashion, tiny_run

IMAGES = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def shipped_model(run_id):
    return load_model(open_run(SHIPPED, run_id))[0]


def hidden_pixels(how):
    return int(damage(IMAGES, how).hidden[0].sum())


def test_a_box_hides_its_square_where_it_is_asked_and_stays_inside_the_image():
    d = damage(IMAGES, Damage("box", size=0.5))
    assert d.hidden[0, 0, 7:21, 7:21].all() and int(d.hidden[0].sum()) == 14 * 14
    corner = damage(IMAGES, Damage("box", size=0.5, x=0.0, y=1.0)).hidden[0, 0]
    assert corner[14:, :14].all() and int(corner.sum()) == 14 * 14  # pushed inside, not cut off
    assert (d.images[d.hidden.bool().expand_as(d.images)] == 0.5).all()  # missing pixels show grey
    assert torch.equal(d.images * d.trusted, IMAGES * d.trusted) and torch.equal(d.observed, d.trusted)


def test_halves_pixels_and_noise_damage_what_they_say():
    left = damage(IMAGES, Damage("half", half="left")).hidden[0, 0]
    assert left[:, :14].all() and not left[:, 14:].any()
    bottom = damage(IMAGES, Damage("half", half="bottom")).hidden[0, 0]
    assert bottom[14:].all() and not bottom[:14].any()
    assert hidden_pixels(Damage("pixels", rate=0.3)) == pytest.approx(0.3 * 784, abs=40)
    assert hidden_pixels(Damage("pixels", rate=0.0)) == 0
    noisy = damage(IMAGES, Damage("noise", sigma=0.2))
    assert noisy.observed.all() and not noisy.trusted.any()  # every pixel seen, none trusted
    assert 0 <= noisy.images.min() and noisy.images.max() <= 1 and (noisy.images - IMAGES).abs().mean() > 0.05


@pytest.mark.parametrize("how, message", [
    (Damage("smudge"), "damage must be one of box, half, pixels, noise"),
    (Damage("box", size=1.5), "size must be between 0 and 1, not 1.5"),
    (Damage("half", half="top"), "must be left or bottom"),
    (Damage("noise", sigma=-0.1), "sigma must be between 0 and 1"),
])
def test_bad_damage_is_refused_with_what_is_allowed(how, message):
    with pytest.raises(ConfigError, match=message):
        damage(IMAGES, how)


def test_errors_count_only_the_pixels_they_are_about():
    truth = torch.zeros(1, 1, 4, 4)
    d = damage(truth, Damage("half", half="left"))
    guess = torch.zeros(1, 1, 4, 4)
    guess[..., :2] = 0.1  # wrong by 0.1 on the hidden half only
    errors = repair_errors(truth, d, guess)
    assert errors["hidden_mse"] == pytest.approx(0.01) and errors["hidden_psnr"] == pytest.approx(20.0)
    assert errors["whole_mse"] == pytest.approx(0.005) and errors["fit_mse"] == 0
    assert damaged_errors(truth, d)["hidden_mse"] == pytest.approx(0.25)  # the grey 0.5 of a missing pixel
    assert mse_psnr(truth, truth, torch.zeros_like(truth)) == (None, None)


@needs_fashion
def test_the_gan_search_recovers_an_image_the_gan_itself_made():
    model = shipped_model("demo-dcgan-fashion")
    z = model.codes(2, seed=7)
    with torch.no_grad():
        made = model.generate(z)
    d = damage(made, Damage("pixels", rate=0.3, seed=1))
    start = z + 0.1 * torch.randn(z.shape, generator=torch.Generator().manual_seed(2))
    errors = repair_errors(made, d, search(model, d, start=start))
    assert errors["hidden_mse"] < 0.03 * damaged_errors(made, d)["hidden_mse"]


@needs_fashion
def test_the_search_sees_only_the_observed_pixels_and_each_image_alone():
    model = shipped_model("demo-vae-fashion")
    truth = load_dataset("fashion-mnist").x_test[:3]
    d = damage(truth, Damage("box"))
    scribbled = type(d)(d.images + d.hidden * torch.rand(d.images.shape), d.observed, d.trusted)
    both = search(model, d, steps=40), search(model, scribbled, steps=40)
    assert torch.allclose(*both, atol=1e-6)  # what is hidden changes nothing
    alone = search(model, type(d)(d.images[1:2], d.observed[1:2], d.trusted[1:2]), steps=40,
                   start=model.codes(3, 0)[1:2])
    assert torch.allclose(alone, both[0][1:2], atol=1e-5)  # nor do the other images of the batch


@needs_fashion
def test_with_nothing_hidden_the_encoders_error_is_the_vaes_reconstruction_error():
    model = shipped_model("demo-vae-fashion")
    truth = load_dataset("fashion-mnist").x_test[:16]
    d = damage(truth, Damage("pixels", rate=0.0))
    errors = repair_errors(truth, d, encoder_imputation(model, d))
    assert errors["hidden_mse"] is None
    assert errors["fit_mse"] == pytest.approx(((model.reconstruct(truth) - truth) ** 2).mean().item(), rel=1e-6)


@needs_fashion
def test_the_encoder_fills_a_box_far_better_than_grey_and_a_gan_has_no_encoder():
    vae = shipped_model("demo-vae-fashion")
    truth = load_dataset("fashion-mnist").x_test[:16]
    d = damage(truth, Damage("box"))
    assert repair_errors(truth, d, encoder_imputation(vae, d))["hidden_mse"] < 0.5 * damaged_errors(truth, d)[
        "hidden_mse"]
    with pytest.raises(ConfigError, match="a GAN repairs by search, not 'encoder'"):
        repair(shipped_model("demo-dcgan-fashion"), d, "encoder")


def test_the_evaluations_repair_benchmark_compares_every_method_with_the_damage(runs_dir):
    run = tiny_run(runs_dir, "vae", "digits", steps=40)
    Trainer(run).train()
    model, _ = load_model(run)
    scores = repair_scores(model, load_dataset("digits"), n=32)
    assert scores["images"] == 32 and set(scores) >= {"box", "noise"}
    for name in ("box", "noise"):
        assert set(scores[name]) == {"damage", "damaged", "search", "encoder"}
        assert all(scores[name][m]["hidden_mse"] > 0 for m in ("damaged", "search", "encoder"))
    assert scores["noise"]["damaged"]["hidden_mse"] == scores["noise"]["damaged"]["whole_mse"]  # all pixels hidden


@needs_fashion
def test_the_repair_command_writes_rows_of_pictures_and_prints_the_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GENLAB_RUNS", str(SHIPPED))
    out = tmp_path / "repair.png"
    assert main(["repair", "demo-vae-fashion", "--damage", "pixels", "--rate", "0.6", "--n", "3",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "60% of the pixels missing" in printed and "encoder imputation" in printed
    from PIL import Image
    picture = Image.open(out)
    assert picture.width == 3 * (28 * 4 + 4) + 4 and picture.height > 4 * 28 * 4  # 3 images; 4 rows of them


@pytest.mark.parametrize("args, message", [
    (["demo-gan-ring"], "demo-gan-ring draws 2-D points; repair needs a model of images"),
    (["demo-vae-fashion", "--n", "65"], "--n must be between 1 and 64, not 65"),
    (["demo-vae-fashion", "--rate", "1.2", "--damage", "pixels"], "rate must be between 0 and 1, not 1.2"),
    (["demo-vae-fashion", "--first", "9999"], "--first must be between 0 and 9992, not 9999"),
])
def test_the_repair_command_refuses_what_it_cannot_do(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.setenv("GENLAB_RUNS", str(SHIPPED))
    with pytest.raises(SystemExit) as exited:
        main(["repair", *args, "--out", str(tmp_path / "r.png")])
    assert exited.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "r.png").exists()


def test_the_error_cells_say_when_nothing_was_hidden_and_when_a_picture_is_exact():
    from genlab.views.metric_info import error_cells

    repaired = {"hidden_mse": None, "hidden_psnr": None, "whole_mse": 0.0, "whole_psnr": None, "fit_mse": 0.0118}
    assert error_cells(repaired) == {"hidden-pixel MSE": "—", "hidden-pixel PSNR": "—", "whole-image PSNR": "exact",
                                     "fit to the seen pixels (MSE)": "0.0118"}
    damaged = {"hidden_mse": 0.25, "hidden_psnr": 6.0206, "whole_mse": 0.125, "whole_psnr": 9.0309}
    assert error_cells(damaged) == {"hidden-pixel MSE": "0.2500", "hidden-pixel PSNR": "6.0 dB",
                                    "whole-image PSNR": "9.0 dB", "fit to the seen pixels (MSE)": "—"}
