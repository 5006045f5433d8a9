"""Pictures of what a model makes: image grids and scatters of 2-D points as RGB arrays,
PNG and GIF bytes, and the fixed-noise picture every snapshot carries."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from genlab.models import GenerativeModel
from genlab.views import palette

GRID_SEED = 0  # every run draws its snapshots' fixed-noise batch from this seed, so runs compare like for like


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
                 limit: float | None = None, role: str = "generated") -> np.ndarray:
    """2-D points drawn as dots on a white square in GenLab's palette, with a legend in the
    top-left corner: `points` in the colour of their role ("generated" red, "real" blue, or
    "walk", the dark codes of a walk through latent space) over optional `real` points.
    A few points (a walk) get big dots. The view spans [-limit, limit] on both axes (by
    default, just past the data)."""
    pts = points.detach().float().cpu()
    ref = real if real is not None else pts
    if limit is None:
        limit = float(ref.abs().max()) * 1.15 + 1e-6
    canvas = np.full((size, size, 3), 255, dtype=np.uint8)

    def draw(p: torch.Tensor, color: tuple[int, int, int]) -> None:
        pix = ((p.numpy() / limit + 1) / 2 * (size - 1)).round().astype(int)
        ok = (pix >= 0).all(1) & (pix < size).all(1)
        cols, rows = pix[ok, 0], size - 1 - pix[ok, 1]  # y grows upwards
        radius = 1 if len(p) > 100 else 3  # a handful of points (a walk) gets big dots
        for dr in range(-radius + 1, radius + 1):
            for dc in range(-radius + 1, radius + 1):
                canvas[np.clip(rows + dr, 0, size - 1), np.clip(cols + dc, 0, size - 1)] = color

    legend = []
    if real is not None:
        draw(real.detach().float().cpu(), palette.REAL_RGB)
        legend.append(("real", palette.REAL_RGB))
    draw(pts, palette.ROLES[role])
    legend.append((role, palette.ROLES[role]))
    return _with_legend(canvas, legend)


def _with_legend(canvas: np.ndarray, entries: list[tuple[str, tuple[int, int, int]]]) -> np.ndarray:
    """The canvas with a small key in its top-left corner: a coloured square and a name per entry."""
    from PIL import ImageDraw

    image = Image.fromarray(canvas)
    pen = ImageDraw.Draw(image)
    for i, (name, rgb) in enumerate(entries):
        top = 4 + 13 * i
        pen.rectangle([4, top + 2, 11, top + 9], fill=rgb)
        pen.text((15, top), name, fill=(60, 60, 60))
    return np.asarray(image)


def picture(samples: torch.Tensor, nrow: int = 8, real: torch.Tensor | None = None,
            width: int | None = None, role: str = "generated") -> np.ndarray:
    """Whatever a model produced (or real data), as an RGB array: an image grid, or a
    scatter of points in the colour of their role (see points_image).
    Images are scaled up by a whole factor (at most 8): to about `width` pixels across when
    given, else until each image is at least 32 px wide."""
    if samples.dim() == 4:
        side, across = samples.shape[-1], min(nrow, len(samples))
        scale = width // (across * side) if width else 32 // side
        return image_grid(samples, nrow=nrow, scale=min(8, max(1, scale)))
    return points_image(samples, real=real, size=min(512, width or 256), role=role)


def save_png(array: np.ndarray, path: str | Path) -> None:
    # Fast compression: snapshots write one per snapshot step, inside the training loop.
    Image.fromarray(array).save(path, format="PNG", compress_level=1)


def png_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def gif_bytes(frames: list[tuple[Path, str]], seconds_per_frame: float = 0.25) -> bytes:
    """An animated GIF from (PNG file, label) pairs, in order, looping forever, each frame
    with its label (its step) in a white band above it; a file that cannot be read, missing
    or damaged, is left out."""
    images = [labelled(Image.open(io.BytesIO(png)).convert("RGB"), label) for p, label in frames
              if (png := readable_png(p))]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:],
                   duration=int(seconds_per_frame * 1000), loop=0)
    return buf.getvalue()




def grid_size(model: GenerativeModel) -> int:
    """A snapshot's picture: 64 images (an 8x8 grid), or 2,000 points for a 2-D model."""
    return 64 if model.is_image else 2000


def snapshot_png(model: GenerativeModel, real: torch.Tensor | None = None) -> bytes:
    """The picture a snapshot carries: the model's fixed-noise batch (over `real` points, if given)."""
    return png_bytes(picture(model.sample(grid_size(model), GRID_SEED), real=real))


def labelled(image: Image.Image, label: str, band: int = 16, font_size: int | None = None) -> Image.Image:
    """The image below a white band that says `label` (in PIL's small bitmap font, or at
    `font_size` px in its scalable one)."""
    from PIL import ImageDraw, ImageFont

    out = Image.new("RGB", (image.width, image.height + band), (255, 255, 255))
    out.paste(image, (0, band))
    font = ImageFont.load_default(size=font_size) if font_size else None
    ImageDraw.Draw(out).text((4, 2), label, fill=(40, 40, 40), font=font)
    return out


def labelled_rows(rows: list[tuple[str, torch.Tensor]], scale: int = 4) -> np.ndarray:
    """Rows of images [N, C, H, W], each one line of a grid below a band naming it (its type
    sized to the images), stacked."""
    font = max(12, 4 * scale)
    parts = [labelled(Image.fromarray(image_grid(images, nrow=len(images), scale=scale)), label, band=font + 6,
                      font_size=font) for label, images in rows]
    out = Image.new("RGB", (max(p.width for p in parts), sum(p.height for p in parts)), (255, 255, 255))
    top = 0
    for part in parts:
        out.paste(part, (0, top))
        top += part.height
    return np.asarray(out)


def readable_png(path: Path) -> bytes | None:
    """A picture file's bytes when PIL can decode the whole image, else None (a truncated or
    damaged file, which a browser would show as a broken image or a page would fail on)."""
    try:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return data
