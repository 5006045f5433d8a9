"""Evidence blocks the Learn and Lessons pages show: real pictures and numbers from runs
on disk (the shipped demo runs, or the viewer's own), never stock images."""

from __future__ import annotations

import streamlit as st
import torch

from app_pages.components.shared import METRIC_COLUMNS, model_at, run_dataset, show
from genlab.data import DatasetError, DatasetUnavailable
from genlab.models.latent import farthest_seed, interpolate
from genlab.store.evaluations import latest_evaluation
from genlab.store.runs import Run
from genlab.teaching.lessons import Finding
from genlab.views.figures import histogram_figure
from genlab.views.metric_info import covered_line, metric_rows


def say(found: list[Finding]) -> None:
    """Findings, each marked as going the textbook's way or against it."""
    for finding in found:
        st.markdown((":material/check_circle: " if finding.as_expected else ":material/error: ") + finding.text)


def samples(run: Run, seed: int, n: int = 36, caption: str | None = None) -> None:
    """n samples of the run's latest snapshot from one seed."""
    model, step = model_at(run)
    with torch.no_grad():
        show(model.sample(n, seed), caption=caption or f"{run.id}, step {step}, seed {seed}",
             nrow=int(n**0.5), width=360)


def strip(run: Run, seed_a: int, seed_b: int, steps: int = 8, spherical: bool = False) -> None:
    """The run decoding a straight (or, spherical, slerp) walk between the codes of two seeds."""
    model, _ = model_at(run)
    with torch.no_grad():
        codes = interpolate(model.codes(1, seed_a), model.codes(1, seed_b), steps, spherical)
        show(model.generate(codes), caption=f"{run.id}: seed {seed_a} → seed {seed_b}"
             + (" (slerp)" if spherical else ""), nrow=steps, width=480, role="walk")


def class_rows(run: Run, per_class: int = 6, seed: int = 0) -> None:
    """A conditional run's samples, a row per class asked for, named in the caption."""
    model, step = model_at(run)
    labels = torch.arange(model.n_classes).repeat_interleave(per_class)
    with torch.no_grad():
        images = model.sample(len(labels), seed, labels=labels.to(model.device))
    classes = run_dataset(run).classes or [str(c) for c in range(model.n_classes)]
    show(images, caption=f"{run.id}, step {step}: a row per class asked for ({', '.join(classes)})",
         nrow=per_class, width=300)


def walk_end(run: Run, seed: int) -> int:
    """The seed a walk from `seed` should go to, so that the walk shows a visible change."""
    model, _ = model_at(run)
    return farthest_seed(model, seed)


def reconstructions(run: Run, n: int = 8) -> None:
    """n test images (top row) and the VAE's reconstructions of them (bottom row)."""
    model, _ = model_at(run)
    try:
        x = run_dataset(run).x_test[:n].to(model.device)
    except (DatasetError, DatasetUnavailable) as exc:
        st.caption(f"No reconstructions: the run's data is not here ({exc}).")
        return
    show(torch.cat([x, model.reconstruct(x)]), caption=f"{run.id}: test images (top), reconstructions (bottom)",
         nrow=n, width=360)


def class_histogram(run: Run, key: str) -> None:
    """The evaluator's class histogram of the run's samples, with classes covered."""
    e = latest_evaluation(run)
    if not e or "histogram" not in e:
        st.caption(f"{run.id} has no class histogram yet: evaluate it on the Runs page.")
        return
    st.plotly_chart(histogram_figure(e["histogram"], e.get("classes"),
                                     f"{run.id}: {e['classes_covered']} of {e['classes_total']} classes, "
                                     f"KL to real {e['kl_to_real']:.3f}", covered_line(e)), key=key)


def mode_figure(run: Run, key: str) -> None:
    """A toy run's samples over the real data, with the PacGAN mode numbers."""
    e = latest_evaluation(run)
    model, step = model_at(run)
    real = run_dataset(run).x_test[:2000]
    show(model.sample(2000, 0), caption=f"{run.id}, step {step}: generated (red) over real (blue)",
         real=real, width=320)
    if e and "modes_captured" in e:
        st.markdown(f"**{e['modes_captured']} of {e['modes_total']}** modes captured, "
                    f"**{100 * e['high_quality']:.0f}%** of samples on a mode (within 3σ)")
        if any(e["per_mode"]):
            st.plotly_chart(histogram_figure(e["per_mode"], None, "samples on each mode"), key=key)
        else:
            st.caption("No sample lies within 3σ of any mode.")


def numbers(run: Run, metrics: tuple[str, ...], key: str) -> None:
    """The chosen rows of the run's latest evaluation, each with its meaning."""
    e = latest_evaluation(run)
    if e:
        st.dataframe(metric_rows(e, only=metrics), hide_index=True, key=key, column_config=METRIC_COLUMNS)
