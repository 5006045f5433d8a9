"""Pictures of samples as arrays and PNG files, with no Streamlit in sight."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image


def image_grid(images: torch.Tensor, nrow: int = 8, scale: int = 1) -> np.ndarray:
    """Images [N, C, H, W] in [0, 1] -> one uint8 RGB array, `nrow` images per row,
    each pixel repeated `scale` times (nearest neighbour, so small images stay crisp)."""
    from torchvision.utils import make_grid  # imported here: torchvision takes seconds to import

    images = images.detach().float().cpu().clamp(0, 1)
    if scale > 1:
        images = images.repeat_interleave(scale, dim=2).repeat_interleave(scale, dim=3)
    grid = make_grid(images, nrow=nrow, padding=2 * max(1, scale // 2), pad_value=1.0)
    return (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def points_image(points: torch.Tensor, real: torch.Tensor | None = None, size: int = 256,
                 limit: float | None = None) -> np.ndarray:
    """2-D points drawn as dots on a white square: real data in grey, samples in blue.
    The view spans [-limit, limit] on both axes (by default, just past the data)."""
    pts = points.detach().float().cpu()
    ref = real if real is not None else pts
    if limit is None:
        limit = float(ref.abs().max()) * 1.15 + 1e-6
    canvas = np.full((size, size, 3), 255, dtype=np.uint8)

    def draw(p: torch.Tensor, color: tuple[int, int, int]) -> None:
        pix = ((p.numpy() / limit + 1) / 2 * (size - 1)).round().astype(int)
        ok = (pix >= 0).all(1) & (pix < size).all(1)
        cols, rows = pix[ok, 0], size - 1 - pix[ok, 1]  # y grows upwards
        for dr, dc in ((0, 0), (0, 1), (1, 0), (1, 1)):
            canvas[np.clip(rows + dr, 0, size - 1), np.clip(cols + dc, 0, size - 1)] = color

    if real is not None:
        draw(real.detach().float().cpu(), (190, 190, 190))
    draw(pts, (31, 119, 180))
    return canvas


def picture(samples: torch.Tensor, nrow: int = 8, real: torch.Tensor | None = None) -> np.ndarray:
    """Whatever a model produced, as an RGB array: an image grid, or a scatter of points.
    Small images are scaled up so that each is at least 32 px wide."""
    if samples.dim() == 4:
        return image_grid(samples, nrow=nrow, scale=max(1, 32 // samples.shape[-1]))
    return points_image(samples, real=real)


def save_png(array: np.ndarray, path: str | Path) -> None:
    # Fast compression: snapshots write one per snapshot step, inside the training loop.
    Image.fromarray(array).save(path, format="PNG", compress_level=1)
