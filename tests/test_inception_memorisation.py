"""The Inception Score and the memorisation ratio, by known answers, and both in `genlab eval`."""

import pytest
import torch

from genlab.metrics.inception import inception_score
from genlab.metrics.memorisation import memorisation


def test_confident_predictions_spread_over_the_classes_score_the_number_of_classes():
    probs = torch.eye(10).repeat(100, 1)  # each sample certain, every class equally often
    mean, std = inception_score(probs)
    assert mean == pytest.approx(10.0) and std == pytest.approx(0.0, abs=1e-9)


def test_the_splits_are_equal_and_the_remainder_left_out():
    # 25 rows in 10 splits: parts of 2, each holding two different sure classes (IS 2 each);
    # the five rows left over would change every score were they shared out as torch.chunk does.
    sure = torch.eye(4, dtype=torch.float64)
    probs = torch.cat([sure[[0, 1]].repeat(10, 1), sure[[2]].repeat(5, 1)])
    assert inception_score(probs) == pytest.approx((2.0, 0.0))


def test_constant_predictions_score_one():
    assert inception_score(torch.full((1000, 10), 0.1))[0] == pytest.approx(1.0)
    one_class = torch.zeros(1000, 10)
    one_class[:, 3] = 1  # a collapsed model: sharp, but one class
    assert inception_score(one_class)[0] == pytest.approx(1.0)


def test_a_model_that_copies_training_images_is_far_closer_to_train_than_to_test():
    gen = torch.Generator().manual_seed(0)
    train, test, held_out = (torch.randn(n, 16, generator=gen) for n in (500, 500, 400))
    assert memorisation(held_out, train, test)["ratio"] == pytest.approx(1.0, abs=0.1)
    copies = train[torch.randint(500, (400,), generator=gen)] + 0.01 * torch.randn(400, 16, generator=gen)
    copied = memorisation(copies, train, test)
    assert copied["ratio"] < 0.05 and copied["closer_to_train"] == 1.0


@pytest.mark.slow  # trains the digits evaluator
def test_eval_on_an_image_run_writes_the_inception_score_and_memorisation(runs_dir, capsys):
    from genlab.cli import main
    from genlab.training.trainer import Trainer
    from tests.support import tiny_run

    run = tiny_run(runs_dir, "gan", "digits", steps=10, train_subset=64)
    assert Trainer(run).train() == "completed"
    assert run.dataset_info()["n_train"] == 64
    assert main(["eval", run.id, "--n", "300", "--runs-dir", str(runs_dir)]) == 0
    assert "inception_score" in capsys.readouterr().out
    [entry] = run.evaluations()
    assert 1 <= entry["inception_score"] <= 10 and 0 < entry["inception_score_std"] < 1
    assert 5 < entry["inception_score_real"] <= 10  # real digits: sharp, spread
    assert entry["memorisation"]["n_reference"] == 64  # the 64 images it trained on, and 64 test images
    assert entry["evaluator_accuracy"] > 0.85  # the evaluator learned from the whole training split


def test_a_training_subset_larger_than_the_data_is_refused():
    from genlab.data import DatasetError, load_dataset

    with pytest.raises(DatasetError, match="between 1 and the 1,500 training samples of digits"):
        load_dataset("digits").first_train(5000)
