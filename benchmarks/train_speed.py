"""Training throughput: genlab's Trainer against the usual torchvision pipeline and a bare loop.

Side by side in one process, on Fashion-MNIST, for the same networks (genlab's own
modules, so only the data pipeline and the loop around the update differ):

- torchvision: a Dataset that turns each uint8 image into a tensor with ToTensor()
  (what torchvision.datasets.FashionMNIST does per sample) and a shuffling DataLoader;
- bare: a hand-written loop over the same in-memory tensors, nothing else;
- genlab: the full Trainer, with logging, 20 snapshots and checkpoints on disk.

Each is timed `--repeats` times in interleaved order; the table shows the median images
per second and the ratios. Usage: python benchmarks/train_speed.py [--steps N] [--device D]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader
from torchvision.transforms import ToTensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genlab.data import load_dataset  # noqa: E402
from genlab.models import build_model  # noqa: E402
from genlab.presets import make_config  # noqa: E402
from genlab.store.runs import create_run  # noqa: E402
from genlab.training.batches import BatchSampler  # noqa: E402
from genlab.training.device import describe, pick_device  # noqa: E402
from genlab.training.trainer import Trainer  # noqa: E402


class PerSampleDataset(torch.utils.data.Dataset):
    """The usual pattern: uint8 images in memory, PIL + ToTensor per sample."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        self.images = (images * 255).round().to(torch.uint8).squeeze(1).numpy()
        self.labels = labels.numpy()
        self.transform = ToTensor()

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return self.transform(Image.fromarray(self.images[i], mode="L")), int(self.labels[i])


def setup(config, data, device):
    torch.manual_seed(0)
    model = build_model(config.model, data.shape, data.n_classes).to(device)
    return model, model.make_optimizers(config.optim)


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


class LoaderBatches:
    """The usual DataLoader, cycled, behind the `draw()` face that models draw batches from."""

    def __init__(self, loader: DataLoader, device: torch.device):
        self.loader, self.device, self.it = loader, device, iter(loader)

    def draw(self):
        try:
            x, y = next(self.it)
        except StopIteration:
            self.it = iter(self.loader)
            x, y = next(self.it)
        return x.to(self.device), y.to(self.device)


def time_loop(config, data, device, steps: int, batches) -> float:
    """Seconds for `steps` updates of a fresh model drawing from `batches`."""
    model, optimizers = setup(config, data, device)
    noise_rng = torch.Generator(device).manual_seed(0)
    sync(device)
    start = time.perf_counter()
    for step in range(steps):
        model.train_step(batches, optimizers, step, noise_rng)
    sync(device)
    return time.perf_counter() - start


def time_torchvision(config, data, device, steps: int) -> float:
    loader = DataLoader(PerSampleDataset(data.x_train, data.y_train), batch_size=config.optim.batch_size,
                        shuffle=True, drop_last=True)
    return time_loop(config, data, device, steps, LoaderBatches(loader, device))


def time_bare(config, data, device, steps: int) -> float:
    batches = BatchSampler(data.x_train.to(device), data.y_train.to(device), config.optim.batch_size, 0)
    return time_loop(config, data, device, steps, batches)


def time_trainer(config, device) -> tuple[float, float]:
    """(training seconds as the run records them, wall-clock seconds of the whole train())."""
    with tempfile.TemporaryDirectory() as tmp:
        run = create_run(Path(tmp), config)
        start = time.perf_counter()
        state = Trainer(run, device=str(device)).train()
        wall = time.perf_counter() - start
        assert state == "completed", run.status()
        return run.status()["elapsed_s"], wall


def data_only_rates(data, batch_size: int, batches: int) -> tuple[float, float]:
    """Images per second of the two data pipelines alone, with no model."""
    loader = iter(DataLoader(PerSampleDataset(data.x_train, data.y_train), batch_size=batch_size,
                             shuffle=True, drop_last=True))
    start = time.perf_counter()
    for _ in range(batches):
        next(loader)
    usual = time.perf_counter() - start
    sampler = BatchSampler(data.x_train, data.y_train, batch_size, 0)
    start = time.perf_counter()
    for _ in range(batches):
        sampler.draw()
    slices = time.perf_counter() - start
    return batches * batch_size / usual, batches * batch_size / slices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="steps per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = pick_device(args.device)
    data = load_dataset("fashion-mnist")
    print(f"device: {describe(device)}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    print("| model | steps x batch | torchvision img/s | bare loop img/s | genlab img/s "
          "| genlab / torchvision | genlab / bare |")
    print("|---|---|---|---|---|---|---|")
    for variant, default_steps in (("vae", 468), ("dcgan", 200)):
        steps = args.steps or (default_steps if device.type == "cpu" else 468)
        extra = {"latent_dim": 20} if variant == "vae" else {}  # the VAE of pytorch/examples
        config = make_config(variant, "fashion-mnist", steps=steps, device=str(device), **extra)
        if variant == "vae":
            assert (config.model.hidden, config.model.latent_dim, config.model.depth) == (400, 20, 1)
        times: dict[str, list[float]] = {"torchvision": [], "bare": [], "genlab": []}
        for _ in range(args.repeats):
            times["torchvision"].append(time_torchvision(config, data, device, steps))
            times["bare"].append(time_bare(config, data, device, steps))
            times["genlab"].append(time_trainer(config, device)[1])
        images = steps * config.optim.batch_size
        rate = {k: images / statistics.median(v) for k, v in times.items()}
        label = "MLP VAE 784-400-20" if variant == "vae" else f"DCGAN (base width {config.model.hidden})"
        print(f"| {label} | {steps} x {config.optim.batch_size} | {rate['torchvision']:,.0f} | "
              f"{rate['bare']:,.0f} | {rate['genlab']:,.0f} | {rate['genlab'] / rate['torchvision']:.2f}x | "
              f"{rate['genlab'] / rate['bare']:.2f} |")
    usual, slices = data_only_rates(data, 128, 400)
    print(f"\nData alone (400 batches of 128, no model): per-sample ToTensor + DataLoader {usual:,.0f} img/s, "
          f"genlab's index slices {slices:,.0f} img/s ({slices / usual:,.0f}x).")


if __name__ == "__main__":
    main()
