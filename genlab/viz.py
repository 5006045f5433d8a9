"""Pictures and Plotly figures of samples, latents and curves, with no Streamlit in sight."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import torch
from PIL import Image

from genlab import palette


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


def gif_bytes(frames: list[Path], seconds_per_frame: float = 0.25) -> bytes:
    """An animated GIF from PNG files, in order, looping forever."""
    images = [Image.open(p).convert("RGB") for p in frames]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:],
                   duration=int(seconds_per_frame * 1000), loop=0)
    return buf.getvalue()


def ema(values: list[float], alpha: float) -> list[float]:
    """Exponential moving average with bias correction (as in Adam):
    s_t = alpha s_{t-1} + (1 - alpha) x_t, shown as s_t / (1 - alpha^t)."""
    out, s = [], 0.0
    for t, x in enumerate(values, start=1):
        s = alpha * s + (1 - alpha) * x
        out.append(s / (1 - alpha ** t) if alpha > 0 else x)
    return out


LABELS = {"loss_d": "loss D", "loss_g": "loss G", "d_real": "D(x)", "d_fake": "D(G(z))",
          "grad_norm_d": "|grad D|", "grad_norm_g": "|grad G|", "critic_gap": "E[D(x)] - E[D(G(z))]",
          "gp": "gradient penalty", "r1": "R1", "loss": "-ELBO (with beta)", "recon": "reconstruction -log p(x|z)",
          "kl": "KL(q(z|x) || p(z))", "beta": "beta"}


def curves_figure(records: list[dict], keys: list[str], smoothing: float = 0.0, log_y: bool = False,
                  x: str = "step", title: str = "") -> go.Figure:
    """Line chart of logged scalars against step or training time (seconds)."""
    traces = [_logged_line(records, key, x, smoothing, LABELS.get(key, key)) for key in keys]
    return _lines_figure(traces, title, "step" if x == "step" else "training time (s)", log_y)


def _logged_line(records: list[dict], key: str, x: str, smoothing: float, name: str) -> go.Scatter | None:
    """One logged value against `x`, EMA-smoothed; None when no line has it."""
    points = [(r.get(x), r[key]) for r in records if isinstance(r.get(key), (int, float))]
    if not points:
        return None
    return go.Scatter(x=[p[0] for p in points], y=ema([p[1] for p in points], smoothing), mode="lines", name=name)


def _lines_figure(traces: list[go.Scatter | None], title: str, x_title: str, log_y: bool) -> go.Figure:
    fig = go.Figure([t for t in traces if t is not None])
    fig.update_layout(title=title, height=320, margin=dict(l=10, r=10, t=40, b=10), xaxis_title=x_title,
                      legend=dict(orientation="h", y=-0.25))
    fig.update_yaxes(type="log" if log_y else "linear")
    return fig


def kl_per_dim_figure(records: list[dict]) -> go.Figure | None:
    """Bar chart of the last logged KL of each latent dimension: the active dimensions."""
    last = next((r["kl_per_dim"] for r in reversed(records) if "kl_per_dim" in r), None)
    if last is None:
        return None
    fig = go.Figure(go.Bar(x=list(range(len(last))), y=last))
    fig.update_layout(title="KL per latent dimension (last log)", height=260, xaxis_title="dimension",
                      yaxis_title="nats", margin=dict(l=10, r=10, t=40, b=10))
    return fig


def scatter_figure(points: torch.Tensor, labels: torch.Tensor | None, classes: list[str] | None,
                   title: str = "", axis_names: tuple[str, str] = ("z1", "z2")) -> go.Figure:
    """2-D points coloured by class."""
    pts = points.detach().cpu().numpy()
    fig = go.Figure()
    if labels is None:
        fig.add_trace(go.Scattergl(x=pts[:, 0], y=pts[:, 1], mode="markers", marker=dict(size=4)))
    else:
        lab = labels.cpu().numpy()
        for c in np.unique(lab):
            name = classes[c] if classes and c < len(classes) else str(c)
            mask = lab == c
            fig.add_trace(go.Scattergl(x=pts[mask, 0], y=pts[mask, 1], mode="markers", name=name,
                                       marker=dict(size=4)))
    fig.update_layout(title=title, height=450, xaxis_title=axis_names[0], yaxis_title=axis_names[1],
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


def metric_history_figure(evaluations: list[dict], keys: list[str], title: str = "") -> go.Figure:
    """Evaluation metrics against the training step they were computed at."""
    fig = go.Figure()
    for key in keys:
        points = [(e["step"], e[key]) for e in evaluations if isinstance(e.get(key), (int, float))]
        if points:
            fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points],
                                     mode="lines+markers", name=key))
    fig.update_layout(title=title, height=300, xaxis_title="step", margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.3))
    return fig


def histogram_figure(counts: list[int], names: list[str] | None, title: str) -> go.Figure:
    """Bars of how many generated samples fall in each class or mode."""
    labels = names if names and len(names) == len(counts) else [str(i) for i in range(len(counts))]
    fig = go.Figure(go.Bar(x=labels, y=counts))
    fig.update_layout(title=title, height=280, margin=dict(l=10, r=10, t=40, b=10), yaxis_title="samples")
    return fig


def truncation_figure(rows: list[dict], chosen: float | None = None) -> go.Figure:
    """Precision and recall of samples against the truncation threshold (None: the whole
    prior, drawn at the right), with the threshold shown marked."""
    labels = [("none" if r["truncation"] is None else f"{r['truncation']:g}") for r in rows]
    fig = go.Figure()
    for key in ("precision", "recall"):
        fig.add_trace(go.Scatter(x=labels, y=[r[key] for r in rows], mode="lines+markers", name=key))
    mark = "none" if chosen is None else f"{chosen:g}"
    if mark in labels:
        fig.add_vline(x=labels.index(mark), line_dash="dot", line_color="grey")
    fig.update_layout(title="Truncation: quality (precision) against variety (recall)", height=320,
                      xaxis_title="truncation threshold |z| <= t", yaxis_range=[0, 1],
                      margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def runs_curve_figure(logs: dict[str, list[dict]], key: str, smoothing: float = 0.9, title: str = "",
                      log: bool = True) -> go.Figure:
    """One logged value of several runs against the step, a line per run (EMA-smoothed)."""
    traces = [_logged_line(records, key, "step", smoothing, name) for name, records in logs.items()]
    return _lines_figure(traces, title or LABELS.get(key, key), "step", log)
