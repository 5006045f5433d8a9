"""Latent space: walk between two codes, move single dimensions, and for a VAE see the
decoded manifold and the encodings of real data. A GAN can invert a real image to a code."""

import streamlit as st
import torch

from app_pages.components.shared import guard, model_at, pick_run, run_dataset, show
from genlab.config import SEED_MAX
from genlab.data import DatasetError, DatasetUnavailable
from genlab.models.latent import dims_by_kl, interpolate, invert, lerp, manifold_codes, project_2d, slerp, traverse
from genlab.store.runs import Run
from genlab.views.figures import scatter_figure

STRIP = 10
N_SLIDERS = 8


@st.cache_resource(max_entries=32, show_spinner="Inverting the image (optimising z)…")
def inverted(run_path: str, step: int, index: int, _model, _image: torch.Tensor) -> tuple[torch.Tensor, float]:
    return invert(_model, _image)


def class0(model, n: int) -> torch.Tensor | None:
    """Labels for n codes: a conditional model is shown class 0 throughout (given no labels
    it would cycle through the classes, which muddles a walk)."""
    return torch.zeros(n, dtype=torch.long) if model.n_classes else None


@st.fragment
def walk(model, z_a, z_b, img_a, img_b, real_preview) -> None:
    """The position slider and what it decodes; a move reruns only this part of the page."""
    c1, c2 = st.columns([1, 3])
    spherical = c1.toggle("Spherical (slerp)", key="slerp", bind="query-params",
                          help="slerp keeps intermediate codes at a typical distance from the origin")
    t = c2.slider("Position between A and B", 0.0, 1.0, 0.5, 0.05, key="t", bind="query-params")
    weight = torch.tensor([[t]], device=model.device)
    z_t = (slerp if spherical else lerp)(z_a, z_b, weight)
    with torch.no_grad():
        cols = st.columns([1, 1, 1, 3])
        if img_a is not None:
            with cols[0]:
                show(img_a, caption="real A")
        with cols[1]:
            show(model.generate(z_t, class0(model, 1)), caption=f"t = {t:.2f}", real=real_preview, role="walk")
        if img_b is not None:
            with cols[2]:
                show(img_b, caption="real B")
        strip = interpolate(z_a, z_b, STRIP, spherical)
        show(model.generate(strip, class0(model, STRIP)), caption="A → B in 10 steps", nrow=STRIP,
             real=real_preview, width=900, role="walk")


def start_sliders_at(context: str, starts: dict[str, float]) -> None:
    """Set the z sliders to `starts` (their keys and values) when endpoint A, the run or its
    snapshot is not the one they were last set for; a slider not yet drawn starts there too.
    A link opened afresh keeps the values it carries."""
    changed = st.session_state.get("z-for") not in (None, context)
    for key, value in starts.items():
        if changed or key not in st.session_state:
            st.session_state[key] = value
    st.session_state["z-for"] = context


@st.fragment
def dimensions(model, z_a, order: list[int], context: str, real_preview) -> None:
    """A slider per latent dimension (the first of `order`), starting at endpoint A's code and
    kept in the URL (?z3=0.7); the decoded code and a sweep of the first dimension."""
    shown = order[:N_SLIDERS]
    start_sliders_at(context, {f"z{d}": min(3.0, max(-3.0, round(float(z_a[0, d]), 2))) for d in shown})
    z = z_a.clone()
    cols = st.columns(2)
    for i, dim in enumerate(shown):
        z[0, dim] = cols[i % 2].slider(f"z[{dim}]", -3.0, 3.0, step=0.01, key=f"z{dim}", bind="query-params")
    with torch.no_grad():
        show(model.generate(z, class0(model, 1)), caption="decoded z", real=real_preview, role="walk")
        values = torch.linspace(-3, 3, STRIP, device=model.device)
        first = order[0]
        show(model.generate(traverse(z, first, values), class0(model, STRIP)),
             caption=f"z[{first}] from -3 to 3", nrow=STRIP, real=real_preview, width=900, role="walk")


def endpoint(col, name: str, default: int, model, data, run: Run,
             step: int) -> tuple[torch.Tensor, torch.Tensor | None, str]:
    """An endpoint of the walk, chosen in `col`: its code, its real image (if any), and a name for what it is."""
    kinds = ["seed"] + (["real image"] if data is not None and model.is_image else [])
    kind = col.radio(f"Endpoint {name}", kinds, horizontal=True, key=f"src_{name.lower()}", bind="query-params")
    if kind == "seed":
        value = col.number_input(f"Seed {name}", 0, SEED_MAX, default, key=name.lower(), bind="query-params")
        return model.codes(1, int(value)), None, f"seed {int(value)}"
    limit = len(data.x_test) - 1
    index = int(col.number_input(f"Test image {name} (0-{limit})", 0, limit, default, key=f"img_{name.lower()}",
                                 bind="query-params"))
    image = data.x_test[index:index + 1].to(model.device)
    if model.family == "vae":
        mu, _ = model.encode(image, class0(model, 1))
        return mu.detach(), image, f"image {index}"
    z, err = inverted(str(run.path), step, index, model, image)
    col.caption(f"Inverted by optimising z: mean squared error {err:.4f}")
    return z, image, f"image {index}"


def run_data(run: Run):
    """The run's data, or None (with a warning) where it is not available here."""
    try:
        return run_dataset(run)
    except (DatasetError, DatasetUnavailable) as exc:
        st.warning(f"The run's dataset is not available here ({exc}); only seeds can be endpoints.")
        return None


def vae_views(model, data) -> None:
    """A VAE's decoded manifold (2-D latent) and where the test data lands in its latent space."""
    if model.latent_dim == 2 and model.is_image:
        st.subheader("The decoded manifold")
        with torch.no_grad():
            codes = manifold_codes(15).to(model.device)
            show(model.generate(codes, class0(model, len(codes))), caption="decoder over z in [-3, 3]^2", nrow=15)
    if data is not None:
        st.subheader("Where real data lands")
        x = data.x_test[:2000].to(model.device)
        y = data.y_test[:2000] if data.y_test is not None else None
        with torch.no_grad():
            mu, _ = model.encode(x, y.to(model.device) if (y is not None and model.n_classes) else None)
        points, axes = project_2d(mu.cpu())
        st.plotly_chart(scatter_figure(points, y, data.classes, "Posterior means of test data", axes),
                        key="encodings")


def page() -> None:
    st.title("Latent space")
    run = pick_run("Run", key="run")
    if run is None:
        return
    model, step = model_at(run)
    is_vae = model.family == "vae"
    st.caption(f"{model.family.upper()} with a {model.latent_dim}-D latent, snapshot at step {step}.")
    data = run_data(run)
    real_preview = data.x_test[:2000] if data is not None and data.kind == "points" else None

    st.subheader("Walk between two points")
    ca, cb = st.columns(2)
    z_a, img_a, name_a = endpoint(ca, "A", 0, model, data, run, step)
    z_b, img_b, _ = endpoint(cb, "B", 1, model, data, run, step)
    walk(model, z_a, z_b, img_a, img_b, real_preview)

    st.subheader("Move one dimension at a time")
    by_kl = dims_by_kl(run.metrics(), model.latent_dim) if is_vae else None
    if by_kl:
        st.caption("Dimensions in order of their KL: the most used first. Dimensions with KL near 0 "
                   "are ignored by the decoder (posterior collapse) and barely change the image.")
    dimensions(model, z_a, by_kl or list(range(model.latent_dim)), f"{run.id}@{step}:{name_a}", real_preview)
    if is_vae:
        vae_views(model, data)
    else:
        st.caption("A GAN has no encoder: to reach a real image it searches for z (inversion, above).")


guard(page)
