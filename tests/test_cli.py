import os
import subprocess
import sys

import pytest
import torch
from PIL import Image

from genlab.cli import main
from genlab.store.runs import list_runs, open_run
from genlab.store.statefile import load_state
from genlab.training.trainer import Trainer
from tests.support import force_status, tiny_run


def run_cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def train_tiny(capsys, runs_dir, *extra):
    code, out, err = run_cli(capsys, "train", "gan", "--dataset", "ring", "--steps", "6",
                             "--log-every", "2", "--runs-dir", str(runs_dir), *extra)
    assert code == 0, err
    return out.strip()


def test_train_prints_the_run_id_and_finishes(capsys, runs_dir):
    run_id = train_tiny(capsys, runs_dir)
    [summary] = list_runs(runs_dir)
    assert summary.run.id == run_id and summary.state == "completed"
    assert summary.status["step"] == 6


def test_epochs_set_the_number_of_steps(capsys, runs_dir):
    code, _, err = run_cli(capsys, "train", "vae", "--dataset", "digits", "--epochs", "0.5",
                           "--batch-size", "100", "--runs-dir", str(runs_dir))
    assert code == 0, err
    [summary] = list_runs(runs_dir)
    assert summary.status["total_steps"] == 8  # 1500 training images / 100 per batch / 2


def test_list_sample_and_interpolate(capsys, runs_dir, tmp_path):
    run_id = train_tiny(capsys, runs_dir)
    code, out, _ = run_cli(capsys, "list", "--runs-dir", str(runs_dir))
    assert code == 0 and run_id in out and "completed" in out
    code, _, _ = run_cli(capsys, "sample", run_id, "--n", "16", "--seed", "3", "--out",
                         str(tmp_path / "s.png"), "--runs-dir", str(runs_dir))
    assert code == 0 and Image.open(tmp_path / "s.png").size == (256, 256)
    code, _, err = run_cli(capsys, "interpolate", run_id, "--steps", "5", "--slerp", "--out",
                           str(tmp_path / "i.png"), "--runs-dir", str(runs_dir))
    assert code == 0, err


def test_interpolate_an_image_model_gives_a_strip(capsys, runs_dir, tmp_path):
    code, out, err = run_cli(capsys, "train", "vae", "--dataset", "digits", "--steps", "4",
                             "--runs-dir", str(runs_dir))
    assert code == 0, err
    code, _, err = run_cli(capsys, "interpolate", out.strip(), "--steps", "7", "--out",
                           str(tmp_path / "i.png"), "--runs-dir", str(runs_dir))
    width, height = Image.open(tmp_path / "i.png").size
    assert code == 0 and width > 6 * height  # one row of 7 images


def test_resume_continues_a_cancelled_run(capsys, runs_dir):
    run_id = train_tiny(capsys, runs_dir)
    [summary] = list_runs(runs_dir)
    force_status(summary.run, state="cancelled")
    code, _, err = run_cli(capsys, "resume", run_id, "--runs-dir", str(runs_dir))
    assert code == 0 and "completed" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["resume", run_id, "--runs-dir", str(runs_dir)])
    assert exit_info.value.code == 2 and "is completed" in capsys.readouterr().err


def test_a_gan_trains_on_a_uniform_prior_from_the_command_line(capsys, runs_dir):
    run_id = train_tiny(capsys, runs_dir, "--prior", "uniform", "--steps", "50")
    [summary] = list_runs(runs_dir)
    assert summary.run.id == run_id and summary.state == "completed" and summary.config.model.prior == "uniform"


def test_a_runs_config_json_reproduces_it_and_flags_change_single_settings(capsys, runs_dir):
    from genlab.store.snapshots import load_model

    def from_config(*flags: str) -> str:
        code, out, err = run_cli(capsys, "train", "--config", str(runs_dir / first / "config.json"),
                                 "--runs-dir", str(runs_dir), *flags)
        assert code == 0, err
        return out.strip()

    first = train_tiny(capsys, runs_dir, "--hidden", "32", "--n-critic", "2", "--l1-weight", "1e-4")
    second = from_config()
    [a, b] = (load_model(open_run(runs_dir, run_id))[0].inference_state_dict() for run_id in (first, second))
    assert second != first and all(torch.equal(a[k], b[k]) for k in a)  # the same weights, bit for bit
    config = open_run(runs_dir, from_config("--no-spectral-norm", "--spectral-norm", "--lr", "0.01")).config()
    assert config.model.spectral_norm and config.optim.lr == 0.01 and config.model.hidden == 32


def test_every_config_field_has_a_flag_that_sets_it(capsys):
    """The flags are generated from genlab.config, so a new field cannot be missing."""
    import dataclasses

    from genlab.cli import build_parser
    from genlab.config import SECTIONS

    parser = build_parser()
    for klass in SECTIONS.values():
        for f in dataclasses.fields(klass):
            if not f.metadata.get("cli", True):
                continue
            flag = "--" + f.metadata.get("flag", f.name).replace("_", "-")
            choices = f.metadata.get("choices") or {"device": ["cpu"]}.get(f.name)
            value = None if isinstance(f.default, bool) else choices[0] if choices else "3"
            argv = ["train", "gan", "--dataset", "ring", flag] + ([] if value is None else [str(value)])
            assert getattr(parser.parse_args(argv), f.name) is not None, flag
    args = parser.parse_args(["train", "gan", "--dataset", "ring", "--kl-warmup", "5", "--lr-d", "1e-3"])
    assert args.kl_warmup_steps == 5 and args.lr_d == 1e-3  # the short spellings


def test_datasets_and_models_are_listed(capsys):
    _, out, _ = run_cli(capsys, "datasets")
    assert "ring" in out and "fashion-mnist" in out and "cifar10" in out
    _, out, _ = run_cli(capsys, "models")
    assert "wgan-gp" in out and "conv-vae" in out and "Gulrajani" in out


@pytest.mark.parametrize("argv,allowed", [
    (["train", "transformer", "--dataset", "ring"], "choose from"),
    (["train", "gan", "--dataset", "imagenet"], "choose from"),
    (["train", "gan", "--dataset", "ring", "--lr", "-0.1"], "learning rate must be a finite number > 0"),
    (["train", "gan", "--dataset", "ring", "--lr", "inf"], "learning rate must be a finite number > 0, not inf"),
    (["train", "gan", "--dataset", "ring", "--lr", "1e309"], "learning rate must be a finite number > 0, not inf"),
    (["train", "gan", "--dataset", "ring", "--lr", "nan"], "learning rate must be a finite number > 0, not nan"),
    (["train", "vae", "--dataset", "ring", "--beta", "inf"], "beta must be a finite number >= 0"),
    (["train", "gan", "--dataset", "ring", "--seed", str(2**64)], f"seed must be between 0 and {2**31 - 1}"),
    (["train", "gan", "--dataset", "ring", "--seed", "-1"], "seed must be between 0"),
    (["train", "gan", "--dataset", "ring", "--steps", str(2**70)], "steps must be between 1 and 10,000,000"),
    (["train", "gan", "--dataset", "ring", "--epochs", str(2**70)], "steps must be between 1 and 10,000,000"),
    (["train", "gan", "--dataset", "ring", "--epochs", "nan"], "--epochs must be a finite number > 0"),
    (["train", "gan", "--dataset", "ring", "--epochs", "inf"], "--epochs must be a finite number > 0"),
    (["train", "gan", "--dataset", "ring", "--epochs", "0"], "--epochs must be a finite number > 0"),
    (["train", "gan", "--dataset", "ring", "--latent-dim", "0"], "latent size must be between 1 and 1024"),
    (["train", "vae", "--dataset", "digits", "--batch-size", "5000"], "larger than the 1500 training samples"),
    (["train", "dcgan", "--dataset", "digits"], "needs 28, 32 or 64 px"),
    (["train", "gan", "--dataset", "ring", "--steps", "0"], "steps must be between 1 and"),
    (["train", "gan", "--dataset", "folder"], "needs a path"),
    (["train", "gan"], "train needs MODEL and --dataset, or --config FILE.json"),
    (["train", "gan", "--dataset", "ring", "--prior", "cauchy"], "choose from"),
    (["train", "gan", "--config", "/no/such/config.json"], "--config gives the model and the dataset"),
    (["train", "--config", "/no/such/config.json"], "--config /no/such/config.json"),
    (["sample", "../../etc", "--out", "x.png"], "not a run id"),
    (["sample", "no-such-run", "--out", "x.png"], "no run"),
    (["sample", "some-run", "--seed", str(2**63), "--out", "x.png"], "--seed must be between 0 and"),
    (["interpolate", "some-run", "--seed-a", str(2**63), "--out", "x.png"], "--seed-a must be between 0 and"),
    (["sample", "some-run", "--out", "/"], "is a folder; name a .png file"),
    (["sample", "some-run", "--out", "/dev/null/x.png"], "cannot be written"),
    pytest.param(["train", "gan", "--dataset", "ring", "--device", "cuda"], "no usable CUDA GPU",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")),
])
def test_bad_arguments_get_one_line_exit_2_and_write_nothing(capsys, runs_dir, argv, allowed):
    with pytest.raises(SystemExit) as exit_info:
        main(argv + ["--runs-dir", str(runs_dir)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and err.startswith("genlab: error:") and allowed in err
    assert not runs_dir.exists()


@pytest.mark.slow
def test_a_runs_dir_that_is_a_file_and_a_worker_on_a_file_are_refused(capsys, tmp_path):
    a_file = tmp_path / "runs"
    a_file.write_text("not a folder")
    for argv in (["list", "--runs-dir", str(a_file)], ["train", "gan", "--dataset", "ring", "--runs-dir", str(a_file)],
                 ["worker", str(a_file)]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and err.count("\n") == 1, err
        assert "is a file, not a folder" in err or "is not a run folder" in err
    assert a_file.read_text() == "not a folder"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_resume_on_a_missing_device_leaves_the_run_as_it_was(capsys, runs_dir):
    run_id = train_tiny(capsys, runs_dir)
    [summary] = list_runs(runs_dir)
    force_status(summary.run, state="interrupted")
    with pytest.raises(SystemExit) as exit_info:
        main(["resume", run_id, "--device", "cuda", "--runs-dir", str(runs_dir)])
    assert exit_info.value.code == 2 and "no usable CUDA GPU" in capsys.readouterr().err
    assert summary.run.status()["state"] == "interrupted"


def test_resume_with_a_new_learning_rate_applies_and_records_it(capsys, runs_dir):
    run = tiny_run(runs_dir, steps=8, log_every=2, lr=1e-3, lr_d=4e-3)
    trainer = Trainer(run, on_progress=lambda step, total: step == 4 and trainer.request_stop())
    assert trainer.train() == "cancelled"
    with pytest.raises(SystemExit):
        main(["resume", run.id, "--lr", "inf", "--runs-dir", str(runs_dir)])
    assert "learning rate must be a finite number > 0" in capsys.readouterr().err
    assert run.status()["state"] == "cancelled"
    code, _, err = run_cli(capsys, "resume", run.id, "--lr", "5e-5", "--runs-dir", str(runs_dir))
    assert code == 0 and "completed" in err, err
    status = run.status()
    assert status["lr_history"] == [{"step": 4, "lr": 5e-5}] and status.get("lr_on_resume") is None
    state = load_state(run.checkpoint_path)
    # The discriminator keeps its ratio (4x) to the generator's new rate.
    assert state["base_lrs"] == [[5e-5], [pytest.approx(2e-4)]]
    assert state["optimizers"]["generator"]["param_groups"][0]["lr"] == 5e-5


def test_python_dash_m_genlab_runs(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    result = subprocess.run([sys.executable, "-m", "genlab", "models"], capture_output=True,
                            text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0 and "dcgan" in result.stdout


def test_train_with_evaluate_records_metrics_at_each_snapshot(capsys, runs_dir):

    train_tiny(capsys, runs_dir, "--evaluate", "--snapshots", "2")
    [summary] = list_runs(runs_dir)
    assert [e["step"] for e in summary.run.evaluations()] == [0, 3, 6]
