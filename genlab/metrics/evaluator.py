"""The evaluator: a small classifier GenLab trains on a dataset's training split.

Its penultimate layer is the feature space of FID, KID and precision/recall; its
predictions give the class histogram of generated samples. It is stored (safetensors, with
its test accuracy in the header) under $GENLAB_DATA/evaluators/ and trained when missing.
The evaluators of the shipped demos' datasets ship beside this module (`evaluators/`, made
by `make demo-checkpoints`), so no visitor waits the better part of a minute while one
trains; one in the data folder takes precedence.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file
from torch import nn

from genlab.data import Dataset, data_dir
from genlab.store.statefile import save_tensors

SHIPPED = Path(__file__).resolve().parent / "evaluators"
FEATURES = 128
TRAIN_STEPS = 800
BATCH = 128


class Classifier(nn.Module):
    """Three strided convolutions, global average pooling, a 128-wide feature layer, then
    classes. Global pooling lets one design serve 8, 28, 32 and 64 px images; the strides
    keep it cheap enough to train in well under a minute on a laptop CPU."""

    def __init__(self, channels: int, n_classes: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(64, 128, 3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(128, FEATURES), nn.ReLU())
        self.head = nn.Linear(FEATURES, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    @torch.no_grad()
    def embed(self, x: torch.Tensor, batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
        """Features [N, 128] and class probabilities p(y|x) [N, classes] of images in [0, 1]."""
        self.eval()
        feats, probs = [], []
        for i in range(0, len(x), batch):
            f = self.features(x[i:i + batch])
            feats.append(f)
            probs.append(self.head(f).softmax(1))
        return torch.cat(feats), torch.cat(probs)


def evaluator_key(data: Dataset) -> str:
    """A file name for the evaluator of this dataset (a user's folder: by path and shape)."""
    if data.name != "folder":
        return data.name
    digest = hashlib.sha256(f"{data.source}|{data.shape}".encode()).hexdigest()[:12]
    return f"folder-{digest}"


def evaluator_path(data: Dataset) -> Path:
    return data_dir() / "evaluators" / f"{evaluator_key(data)}.safetensors"


def train_evaluator(data: Dataset, device: torch.device, seed: int = 0) -> tuple[Classifier, float]:
    """Train the classifier on the training split; return it and its test accuracy."""
    with torch.random.fork_rng(devices=[]):  # leave the caller's random stream alone
        torch.manual_seed(seed)
        model = Classifier(data.shape[0], data.n_classes).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    x, y = data.x_train.to(device), data.y_train.to(device)
    with torch.enable_grad():  # a view may ask for the evaluator from inside torch.no_grad
        _fit(model, optimizer, x, y, seed)
    _, probs = model.embed(data.x_test.to(device))
    return model, (probs.argmax(1).cpu() == data.y_test).double().mean().item()


def _fit(model: Classifier, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, seed: int) -> None:
    """TRAIN_STEPS of cross-entropy on seeded random batches."""
    rng = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(TRAIN_STEPS):
        idx = torch.randint(len(x), (min(BATCH, len(x)),), generator=rng).to(x.device)
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def _load(path: Path, data: Dataset) -> tuple[Classifier, float] | None:
    """The evaluator stored at `path` and its test accuracy; None when the file cannot be one."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {})["genlab_evaluator"])
        model = Classifier(data.shape[0], data.n_classes)
        model.load_state_dict(load_file(str(path)))
        return model, float(meta["test_accuracy"])
    except (SafetensorError, OSError, KeyError, TypeError, ValueError, RuntimeError):
        return None


def load_or_train(data: Dataset, device: torch.device) -> tuple[Classifier, float]:
    """The evaluator of this dataset: the one in the data folder, else the one that ships,
    else trained and stored in the data folder first (a corrupt or foreign file is replaced)."""
    data = data.whole or data  # a run on a training subset is judged by the whole dataset's evaluator
    if data.y_train is None or data.n_classes < 2:
        raise ValueError(f"{data.name} has no class labels to train an evaluator on")
    path = evaluator_path(data)
    for candidate in (path, SHIPPED / path.name):
        stored = _load(candidate, data) if candidate.exists() else None
        if stored is not None:
            return stored[0].to(device), stored[1]
    model, accuracy = train_evaluator(data, device)
    store_evaluator(model, accuracy, data, path)
    return model, accuracy


def store_evaluator(model: Classifier, accuracy: float, data: Dataset, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"dataset": data.name, "source": data.source, "test_accuracy": accuracy, "steps": TRAIN_STEPS}
    save_tensors({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, path,
                 {"genlab_evaluator": json.dumps(meta)})


def ship_evaluator(data: Dataset) -> Path:
    """Train this dataset's evaluator afresh (on the CPU, seed 0) and keep it with the code."""
    model, accuracy = train_evaluator(data, torch.device("cpu"))
    path = SHIPPED / f"{evaluator_key(data)}.safetensors"
    store_evaluator(model, accuracy, data, path)
    return path
