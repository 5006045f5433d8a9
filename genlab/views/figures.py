"""Plotly figures of training curves, latents, metrics and lessons' measurements, with no
Streamlit in sight."""

from __future__ import annotations

from statistics import pstdev
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch

from genlab.views import palette
from genlab.views.metric_info import repair_damages


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
    # On a log axis, ticks at powers of ten only: Plotly's default labels 2 and 5 between
    # them read as "5, 2, 1, 5, 2, 0.1".
    if log_y:
        fig.update_yaxes(type="log", dtick=1)
    else:
        fig.update_yaxes(type="linear")
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


def histogram_figure(counts: list[int], names: list[str] | None, title: str,
                     covered_at: list[float] | None = None) -> go.Figure:
    """Bars of how many generated samples fall in each class or mode; with `covered_at`, a
    mark on each bar at the count that class needs to count as covered."""
    labels = names if names and len(names) == len(counts) else [str(i) for i in range(len(counts))]
    fig = go.Figure(go.Bar(x=labels, y=counts, name="samples", showlegend=False))
    if covered_at is not None:
        fig.add_trace(go.Scatter(x=labels, y=covered_at, mode="markers", name="needed to count as covered",
                                 marker=dict(symbol="line-ew-open", size=28, color="black", line=dict(width=2))))
        fig.update_layout(legend=dict(orientation="h", y=-0.25))
    fig.update_layout(title=title, height=280, margin=dict(l=10, r=10, t=40, b=10), yaxis_title="samples")
    return fig


WHOLE_PRIOR_AT = 1.5  # where the untruncated prior sits on the truncation chart, past the largest t, as a factor


def truncation_x(t: float | None, thresholds: list[float]) -> float:
    """Where a threshold sits on the truncation chart's x axis: its value; the whole prior
    (None) past the largest threshold."""
    return t if t is not None else max(thresholds) * WHOLE_PRIOR_AT


def truncation_figure(rows: list[dict], chosen: float | None = None) -> go.Figure:
    """Precision and recall of samples against the truncation threshold t, on a value axis
    (t = 0 would be no variety at all): the truncated thresholds as lines, the whole prior as
    its own points at the right ("none"), and the threshold shown marked where its value is."""
    cut = sorted((r for r in rows if r["truncation"] is not None), key=lambda r: r["truncation"])
    whole = next((r for r in rows if r["truncation"] is None), None)
    thresholds = [r["truncation"] for r in cut]
    fig = go.Figure()
    for key, colour in (("precision", palette.REAL), ("recall", palette.GENERATED)):
        fig.add_trace(go.Scatter(x=thresholds, y=[r[key] for r in cut], mode="lines+markers", name=key,
                                 line=dict(color=colour)))
        if whole is not None:
            fig.add_trace(go.Scatter(x=[truncation_x(None, thresholds)], y=[whole[key]], mode="markers",
                                     name=f"{key}, whole prior", marker=dict(color=colour, size=11, symbol="diamond")))
    ticks = thresholds + ([truncation_x(None, thresholds)] if whole is not None else [])
    fig.add_vline(x=truncation_x(chosen, thresholds), line_dash="dot", line_color="grey")
    fig.update_layout(title="Truncation: quality (precision) against variety (recall)", height=320,
                      xaxis=dict(title="truncation threshold |z| <= t", tickvals=ticks,
                                 ticktext=[f"{t:g}" for t in thresholds] + (["none"] if whole is not None else []),
                                 range=[0, max(ticks) * 1.08]),
                      yaxis_range=[0, 1], margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def runs_curve_figure(logs: dict[str, list[dict]], key: str, smoothing: float = 0.9, title: str = "",
                      log: bool = True) -> go.Figure:
    """One logged value of several runs against the step, a line per run (EMA-smoothed)."""
    traces = [_logged_line(records, key, "step", smoothing, name) for name, records in logs.items()]
    return _lines_figure(traces, title or LABELS.get(key, key), "step", log)


DAMAGED_GREY = "#9e9e9e"
RUN_COLOURS = ("#ff7f0e", "#2ca02c", "#9467bd", "#8c564b")  # runs side by side, apart from real blue and generated red
METHOD_SHADES = {"search": 1.0, "encoder": 0.55}  # a method's bar: its run's colour, lighter for the encoder


def repair_figure(benchmarks: dict[str, dict[str, Any]]) -> go.Figure:
    """Hidden-pixel PSNR (dB; higher is better) of each run's repairs, by damage, beside the
    damaged input's: one bar per run and method, `benchmarks` being each run's eval.json
    `repair` entry by its name."""
    fig = go.Figure()
    first = next(iter(benchmarks.values()))
    damages = repair_damages(first)
    fig.add_trace(go.Bar(x=[first[d]["damage"] for d in damages], name="damaged input", marker_color=DAMAGED_GREY,
                         y=[first[d]["damaged"]["hidden_psnr"] for d in damages]))
    for i, (name, bench) in enumerate(benchmarks.items()):
        for method, shade in METHOD_SHADES.items():
            if method in bench["box"]:
                fig.add_trace(go.Bar(x=[bench[d]["damage"] for d in damages], name=f"{name} by {method}",
                                     y=[bench[d][method]["hidden_psnr"] for d in damages],
                                     marker=dict(color=RUN_COLOURS[i % len(RUN_COLOURS)], opacity=shade)))
    fig.update_layout(barmode="group", height=340, title=f"Repairs of {first['images']} test images: error on the "
                      "hidden pixels", yaxis_title="hidden-pixel PSNR, dB (higher is better)",
                      margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def training_data_figure(evaluations: dict[str, dict[str, Any]]) -> go.Figure:
    """Test accuracy of the same classifier trained on real and on generated images, a group
    of bars per run: as many real images, as many generated (CAS), a small real set, and the
    small set with generated images added (with its spread over seeds)."""
    fig = go.Figure()
    for i, (name, e) in enumerate(evaluations.items()):
        aug = e["augmentation"]
        arms = [(f"{e['cas_images']:,} real", e["cas_real"], None), (f"{e['cas_images']:,} generated", e["cas"], None),
                (f"{aug['real_images']:,} real", aug["real_only_mean"], pstdev(aug["real_only"])),
                (f"{aug['real_images']:,} real + {aug['generated_images']:,} generated", aug["with_generated_mean"],
                 pstdev(aug["with_generated"]))]
        fig.add_trace(go.Bar(x=[a[0] for a in arms], y=[a[1] for a in arms], name=name,
                             marker_color=RUN_COLOURS[i % len(RUN_COLOURS)],
                             error_y=dict(type="data", array=[a[2] or 0 for a in arms], visible=True)))
    fig.update_layout(barmode="group", height=340, title="What each training set teaches a classifier",
                      yaxis=dict(title="accuracy on the real test set", range=[0, 1], tickformat=".0%"),
                      margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))
    return fig



def round_figure(rows: list[dict[str, Any]]) -> go.Figure:
    """A Real-or-generated round's results: for each run (and the real images) the share of
    its images judged real, with its 95% interval, and the line at 50% where people cannot
    tell. `rows`: {"source", "rate", "low", "high", "answers", "real"}."""
    fig = go.Figure(go.Bar(
        x=[r["source"] for r in rows], y=[r["rate"] for r in rows],
        marker_color=[palette.REAL if r["real"] else palette.GENERATED for r in rows],
        error_y=dict(type="data", symmetric=False, array=[r["high"] - r["rate"] for r in rows],
                     arrayminus=[r["rate"] - r["low"] for r in rows], visible=True),
        text=[f"{r['rate']:.0%} of {r['answers']}" for r in rows], textposition="inside"))
    fig.add_hline(y=0.5, line_dash="dot", line_color="grey", annotation_text="can't tell (50%)")
    fig.update_layout(title="Judged real", height=360, yaxis=dict(range=[0, 1], tickformat=".0%", title="judged real"),
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig
