"""Generated images as training data: CAS and augmentation by known answers (stand-in
"models" that draw real images), and the scores of a real conditional model."""

import pytest
import torch

from genlab.data import load_dataset
from genlab.metrics import training_data
from genlab.metrics.training_data import augmentation, classification_accuracy_score, model_drawer, training_data_scores
from genlab.store.snapshots import load_model
from genlab.training.trainer import Trainer
from tests.support import needs_fashion, tiny_run


@pytest.fixture(scope="module")
def fashion():
    return load_dataset("fashion-mnist")


@pytest.fixture(autouse=True)
def shorter_training(monkeypatch):
    """The known answers hold for any fair training of the classifier: 150 steps, not 500."""
    monkeypatch.setattr(training_data, "STEPS", 150)


def real_images_of(data, labels, seed):
    """A perfect conditional "model": real training images of each class asked for (drawn
    apart from CAS's own real subset by their seed)."""
    rng = torch.Generator().manual_seed(10_000 + seed)
    picks = [torch.nonzero(data.y_train == c).squeeze(1) for c in range(data.n_classes)]
    return torch.stack([data.x_train[p[torch.randint(len(p), (1,), generator=rng)]][0] for p in
                        (picks[int(c)] for c in labels)])


@needs_fashion
def test_a_model_that_draws_real_images_of_the_asked_class_scores_the_real_accuracy(fashion):
    scores = classification_accuracy_score(lambda labels, seed: real_images_of(fashion, labels, seed), fashion)
    assert scores["cas_images"] == 5000 and scores["cas_real"] > 0.75
    assert scores["cas"] == pytest.approx(scores["cas_real"], abs=0.03)


@needs_fashion
def test_a_model_that_ignores_the_label_scores_near_chance(fashion):
    def any_class(labels, seed):
        rng = torch.Generator().manual_seed(seed)
        return fashion.x_train[torch.randint(len(fashion.x_train), (len(labels),), generator=rng)]
    scores = classification_accuracy_score(any_class, fashion)
    assert scores["cas"] < 0.2 and scores["cas_real"] > 0.75  # chance is 0.1


@needs_fashion
def test_adding_real_looking_images_of_the_right_class_to_a_small_set_helps(fashion):
    result = augmentation(lambda labels, seed: real_images_of(fashion, labels, seed), fashion, small=200,
                          per_class=100, seeds=(3,))
    assert result["real_images"] == 200 and result["generated_images"] == 1000 and result["seeds"] == [3]
    assert result["with_generated"][0] > result["real_only"][0] + 0.02
    assert result["gain"] == pytest.approx(result["with_generated_mean"] - result["real_only_mean"])


def test_a_conditional_runs_scores_are_accuracies_on_the_real_test_set(runs_dir):
    run = tiny_run(runs_dir, "cvae", "digits", steps=60)
    Trainer(run).train()
    model, _ = load_model(run)
    scores = training_data_scores(model, load_dataset("digits"))
    aug = scores["augmentation"]
    assert 0 <= scores["cas"] <= 1 and scores["cas_real"] > 0.5 and scores["cas_images"] == 5000
    assert len(aug["with_generated"]) == len(aug["seeds"]) == 3 and aug["gain_std"] >= 0
    drawn = model_drawer(model)(torch.tensor([3, 3, 7]), seed=0)
    assert drawn.shape == (3, 1, 8, 8) and torch.equal(drawn, model_drawer(model)(torch.tensor([3, 3, 7]), seed=0))
