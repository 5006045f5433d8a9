"""Plotly figures of the teaching material: the KL fits and the 2-D lab's views."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from genlab.models.gan_losses import is_logistic
from genlab.teaching.kl import Gaussian, Mixture, kl_numeric, plot_range, reverse_kl
from genlab.teaching.lab import RESOLUTION, ToyLab
from genlab.views import palette

MESH = "rgba(90, 90, 90, 0.45)"


def kl_fits_figure(p: Mixture, forward: Gaussian, reverse: Gaussian) -> go.Figure:
    """p with its forward-KL and reverse-KL Gaussian fits, side by side, each titled with its KL."""
    lo, hi = plot_range(p, forward, reverse, width=4)
    x = np.linspace(lo, hi, 600)
    # A KL is never negative: what the numerical integral gives below 0 is rounding.
    forward_kl = max(0.0, kl_numeric(p, forward, *plot_range(p, forward, width=12)))
    backward_kl = max(0.0, reverse_kl(reverse, p))
    if p.mode_count() > 1:
        titles = (f"forward KL(p‖q) = {forward_kl:.3f}: q covers both modes",
                  f"reverse KL(q‖p) = {backward_kl:.3f}: q picks one mode")
    else:
        titles = (f"forward KL(p‖q) = {forward_kl:.3f}: p has one mode, and q fits it",
                  f"reverse KL(q‖p) = {backward_kl:.3f}: p has one mode, and q fits it")
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=titles)
    for col, (q, name) in enumerate([(forward, "fit by forward KL"), (reverse, "fit by reverse KL")], start=1):
        fig.add_trace(go.Scatter(x=x, y=p.pdf(x), fill="tozeroy", name="p (two modes)", line=dict(color=palette.REAL),
                                 showlegend=col == 1), row=1, col=col)
        colour = palette.GENERATED if col == 2 else "#ff7f0e"
        fig.add_trace(go.Scatter(x=x, y=q.pdf(x), name=name, line=dict(color=colour, width=3, dash="dash")),
                      row=1, col=col)
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.2))
    return fig


def gaussians_figure(p: Gaussian, q: Gaussian) -> go.Figure:
    lo = min(p.mean - 4 * p.std, q.mean - 4 * q.std)
    hi = max(p.mean + 4 * p.std, q.mean + 4 * q.std)
    x = np.linspace(lo, hi, 400)
    fig = go.Figure([go.Scatter(x=x, y=p.pdf(x), fill="tozeroy", name="p", line=dict(color=palette.REAL)),
                     go.Scatter(x=x, y=q.pdf(x), fill="tozeroy", name="q", line=dict(color=palette.GENERATED))])
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=20, b=10), legend=dict(orientation="h", y=-0.2))
    return fig


def _points(pts: torch.Tensor, name: str, color: str, size: int = 4) -> go.Scatter:
    a = pts.detach().cpu().numpy()
    return go.Scatter(x=a[:, 0], y=a[:, 1], mode="markers", name=name, marker=dict(size=size, color=color))


def _mesh_trace(polylines: list[torch.Tensor]) -> go.Scatter:
    """All polylines as one trace, separated by gaps (None), so the mesh costs one trace."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for line in polylines:
        xs += line[:, 0].tolist() + [None]
        ys += line[:, 1].tolist() + [None]
    return go.Scatter(x=xs, y=ys, mode="lines", name="G(grid of z)", line=dict(color=MESH, width=1))


def lab_figure(lab: ToyLab, resolution: int = RESOLUTION, show_surface: bool = True,
               show_mesh: bool = True, height: int = 480) -> go.Figure:
    """Data space: real vs generated points over the discriminator's decision surface (GAN)
    or the model's density (VAE), with the image of a grid of z; for a VAE also the latent
    space, where the encoder puts each real point."""
    vae = lab.family == "vae"
    fig = make_subplots(rows=1, cols=2 if vae else 1,
                        subplot_titles=("data space", "latent space: encoder means μ(x)") if vae else None,
                        horizontal_spacing=0.08)
    if show_surface:
        axis, _ = lab.grid(resolution)
        values = lab.decoder_density(resolution) if vae else lab.decision_surface(resolution)
        logistic = not vae and is_logistic(lab.model.config.loss)
        label = "p(x)" if vae else ("D(x)" if logistic else "critic")
        # RdBu runs from red (low: "fake") to blue (high: "real"), the colours of the points.
        fig.add_trace(go.Heatmap(x=axis.numpy(), y=axis.numpy(), z=values.numpy(),
                                 colorscale="Greens" if vae else "RdBu", opacity=0.55,
                                 # A density needs no scale; its bar would crowd the latent plot.
                                 showscale=not vae,
                                 zmin=0 if logistic else None, zmax=1 if logistic else None,
                                 colorbar=dict(title=label, len=0.8)), row=1, col=1)
    if show_mesh:
        mesh = _mesh_trace(lab.generator_mesh())
        mesh.name = "decoder mean of a grid of z" if vae else "G(grid of z)"
        fig.add_trace(mesh, row=1, col=1)
    fig.add_trace(_points(lab.real, "real", palette.REAL), row=1, col=1)
    fig.add_trace(_points(lab.generated(), "generated", palette.GENERATED), row=1, col=1)
    fig.update_xaxes(range=lab.extent, constrain="domain", row=1, col=1)
    fig.update_yaxes(range=lab.extent, scaleanchor="x", scaleratio=1, row=1, col=1)
    if vae:
        mu = lab.encoder_means().numpy()
        labels = lab.data.y_test[:len(mu)].numpy()
        fig.add_trace(go.Scatter(x=mu[:, 0], y=mu[:, 1 if mu.shape[1] > 1 else 0], mode="markers", name="μ(x)",
                                   marker=dict(size=4, color=labels, colorscale="Turbo")), row=1, col=2)
        circle = np.linspace(0, 2 * np.pi, 100)
        fig.add_trace(go.Scatter(x=2 * np.cos(circle), y=2 * np.sin(circle), mode="lines", name="prior, 2σ",
                                 line=dict(color=MESH, dash="dot")), row=1, col=2)
        fig.update_xaxes(range=(-3.5, 3.5), row=1, col=2)
        fig.update_yaxes(range=(-3.5, 3.5), scaleanchor="x2", scaleratio=1, row=1, col=2)
    # The legend sits above the plot, clear of the axis labels.
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=60, b=10), uirevision="lab",
                      legend=dict(orientation="h", yanchor="bottom", y=1.06, x=0))
    return fig
