"""Building blocks shared by both families: MLPs and the DCGAN-style conv stacks.

Conv nets work on 28, 32 and 64 px: they start from a 7x7 (28 px) or 4x4 map and double
its side with each transposed convolution, as in DCGAN (Radford et al. 2016).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _sn


def maybe_sn(layer: nn.Module, on: bool) -> nn.Module:
    return _sn(layer) if on else layer


def mlp(sizes: list[int], act: type[nn.Module], batch_norm: bool = False,
        sn: bool = False) -> nn.Sequential:
    """Linear layers with an activation (and optional batch norm) between them; the last
    layer is left linear so each model chooses its own output activation."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        layers.append(maybe_sn(nn.Linear(a, b), sn))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(act(0.2) if act is nn.LeakyReLU else act())
    return nn.Sequential(*layers)


def conv_plan(image_size: int, base: int) -> tuple[int, list[int]]:
    """The side of the smallest feature map and the channel widths from there up.

    28 px: 7 -> 14 -> 28 (2 doublings); 32: 4 -> 8 -> 16 -> 32; 64: 4 -> ... -> 64.
    Widths halve as the map grows, ending at `base` next to the image.
    """
    start = 7 if image_size == 28 else 4
    n_up = int(math.log2(image_size // start))
    return start, [base * 2 ** (n_up - 1 - i) for i in range(n_up)]


class UpConvStack(nn.Module):
    """A vector -> an image: linear to a small map, then transposed convs (DCGAN generator)."""

    def __init__(self, in_dim: int, channels: int, image_size: int, base: int):
        super().__init__()
        self.start, widths = conv_plan(image_size, base)
        self.fc = nn.Sequential(nn.Linear(in_dim, widths[0] * self.start ** 2),
                                nn.BatchNorm1d(widths[0] * self.start ** 2), nn.ReLU())
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:], strict=False):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1), nn.BatchNorm2d(b), nn.ReLU()]
        layers.append(nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1))
        self.up = nn.Sequential(*layers)
        self.width0 = widths[0]

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return self.up(self.fc(v).view(-1, self.width0, self.start, self.start))


class DownConvStack(nn.Module):
    """An image -> a feature vector: strided convs with leaky ReLU (DCGAN discriminator,
    conv VAE encoder). No batch norm, so per-sample gradient penalties stay valid."""

    def __init__(self, channels: int, image_size: int, base: int, sn: bool = False):
        super().__init__()
        start, widths = conv_plan(image_size, base)
        widths = widths[::-1]
        layers: list[nn.Module] = []
        for a, b in zip([channels] + widths[:-1], widths, strict=False):
            layers += [maybe_sn(nn.Conv2d(a, b, 4, 2, 1), sn), nn.LeakyReLU(0.2)]
        self.down = nn.Sequential(*layers, nn.Flatten())
        self.out_dim = widths[-1] * start ** 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(x)
