"""Learn: GANs and VAEs side by side — what each network does, the objectives, what follows
in practice — with every claim next to live evidence, and a widget for the two KL directions."""

import streamlit as st

from app_pages.components import evidence
from app_pages.components.shared import guard, pick_run, presenting
from genlab.config import SEED_MAX
from genlab.teaching.figures import gaussians_figure, kl_fits_figure
from genlab.teaching.kl import Gaussian, Mixture, fit_forward, fit_reverse, gaussian_kl, kl_numeric, plot_range
from genlab.views.metric_info import fid_line


def theory() -> None:
    """The two objectives side by side, and what follows from them in practice."""
    gan_col, vae_col = st.columns(2)
    with gan_col:
        st.subheader("GAN: a game")
        st.markdown("A **generator** G turns noise z into data; a **discriminator** D learns to tell real "
                    "data from G's output, and G learns to fool it. Neither network ever computes how "
                    "likely a data point is.")
        # Long formulas on two lines: half a 1280 px page cut them off.
        st.latex(r"\begin{aligned}\min_G \max_D\; &\mathbb{E}_{x \sim p_\text{data}}[\log D(x)] \\ "
                 r"&+ \mathbb{E}_{z \sim p(z)}[\log(1 - D(G(z)))]\end{aligned}")
        st.markdown("Against the best D this is $2\\,\\mathrm{JS}(p_\\text{data} \\| p_G) - \\log 4$. In "
                    "practice G maximises $\\log D(G(z))$ instead (the **non-saturating** loss), which "
                    "gives strong gradients when D is winning:")
        st.latex(r"\max_G\; \mathbb{E}_{z \sim p(z)}[\log D(G(z))]")
    with vae_col:
        st.subheader("VAE: a bound on the likelihood")
        st.markdown("An **encoder** maps x to a Gaussian $q_\\phi(z|x)$ over codes; a **decoder** maps a "
                    "code back to a distribution $p_\\theta(x|z)$ over data. Training maximises the "
                    "evidence lower bound (ELBO) on $\\log p_\\theta(x)$:")
        st.latex(r"\begin{aligned}\log p_\theta(x) \ge\; "
                 r"&\underbrace{\mathbb{E}_{q_\phi(z|x)}[\log p_\theta(x|z)]}_{\text{reconstruction}} \\ "
                 r"&- \underbrace{\mathrm{KL}(q_\phi(z|x)\,\|\,p(z))}_{\text{KL}}\end{aligned}")
        st.markdown("The **reparameterisation trick** writes the sample as a function of the parameters, "
                    "so gradients flow through it; the KL to the prior $N(0, I)$ has a closed form:")
        st.latex(r"z = \mu_\phi(x) + \sigma_\phi(x) \odot \varepsilon,\quad \varepsilon \sim N(0, I)")
        st.latex(r"\begin{aligned}&\mathrm{KL}(q_\phi(z|x)\,\|\,N(0, I)) \\ &= \tfrac12 \textstyle\sum_j "
                 r"(\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2)\end{aligned}")

    st.subheader("What follows in practice")
    st.markdown(
        "| | GAN | VAE |\n|---|---|---|\n"
        "| samples | **sharp**: D punishes anything unrealistic | **blurry**: the decoder's mean averages "
        "over every x a code could have come from |\n"
        "| coverage | may **drop modes** (mode collapse): nothing rewards covering all data | covers all data: "
        "each training point must be reconstructed |\n"
        "| latent space | no encoder; a real image's code must be searched for | every x has a code; "
        "the KL term keeps codes near N(0, I), so walks between them decode smoothly |\n"
        "| likelihood | none | a lower bound (ELBO) and a tighter one (IWAE) |")


def evidence_section() -> None:
    st.subheader("The evidence")
    st.caption("From the demo runs that ship with GenLab (`checkpoints/demo-*`), or pick your own runs.")
    c1, c2 = st.columns(2)
    with c1:
        gan = pick_run("GAN run", key="gan", family="gan", prefer="demo-dcgan-fashion")
    with c2:
        vae = pick_run("VAE run", key="vae", family="vae", prefer="demo-vae-fashion")
    if gan is None or vae is None:
        st.info("The evidence needs a GAN run and a VAE run with snapshots: `make demo-checkpoints` "
                "makes the demo runs, or train your own on the Train page.")
        return
    seed = int(st.number_input("Seed", 0, SEED_MAX, 0, key="seed", bind="query-params"))

    st.markdown("**Sharp vs blurry.** The same seed through each model:")
    c1, c2 = st.columns(2)
    with c1:
        evidence.samples(gan, seed)
        st.caption(fid_line(gan))
    with c2:
        evidence.samples(vae, seed)
        st.caption(fid_line(vae))

    st.markdown("**Mode collapse made visible.** Which classes GenLab's evaluator sees in 2,000 "
                "samples of each. A class whose bar stays below its black mark (a quarter of its fair "
                "share) counts as dropped; the title says how many are covered:")
    c1, c2 = st.columns(2)
    with c1:
        evidence.class_histogram(gan, "learn-hist-gan")
    with c2:
        evidence.class_histogram(vae, "learn-hist-vae")

    end = evidence.walk_end(vae, seed)
    st.markdown(f"**The latent space.** A straight walk between the same two codes in each model: seed "
                f"{seed} and seed {end}, of the next 32 seeds the one the VAE decodes most differently. "
                "The VAE's images blend gradually; the GAN's may jump, or pass through images that "
                "are neither.")
    evidence.strip(gan, seed, end)
    evidence.strip(vae, seed, end)
    st.page_link("app_pages/latent.py", label="Where the test images land in a VAE's 2-D latent space",
                 icon=":material/linear_scale:", query_params={"run": "demo-vae-2d-fashion"})


def kl_intro() -> None:
    st.subheader("Which way round the KL goes")
    st.markdown(
        "Fit one Gaussian q to a two-mode distribution p. **Forward KL(p‖q)** — what maximum "
        "likelihood minimises, and so what a VAE's ELBO aims at — punishes q wherever p has mass q "
        "misses: q stretches to **cover both modes**, and puts mass between them where p has none "
        "(blur). **Reverse KL(q‖p)** punishes q for mass where p has none: q **picks one mode** and "
        "fits it well. A GAN's non-saturating generator, against an optimal discriminator, follows "
        "the gradient of KL(q‖p) − 2 JS(q‖p) (Arjovsky & Bottou 2017): it is mode seeking like the "
        "reverse KL — sharp samples, dropped modes.")


@st.fragment
def kl_directions() -> None:
    """The two fits of one Gaussian to a two-mode p; a slider move reruns only this part."""
    c = st.columns(3)
    separation = c[0].slider("Distance between the modes", 0.0, 8.0, 4.0, 0.5, key="kl-sep",
                             bind="query-params")
    width = c[1].slider("Width of each mode (σ)", 0.2, 2.0, 0.5, 0.1, key="kl-std", bind="query-params")
    weight = c[2].slider("Weight of the left mode", 0.1, 0.9, 0.5, 0.05, key="kl-w", bind="query-params",
                         disabled=presenting())
    p = Mixture.symmetric(separation, width, weight)
    forward, reverse = fit_forward(p), fit_reverse(p)
    st.plotly_chart(kl_fits_figure(p, forward, reverse), key="kl-fits")
    st.caption(f"Forward fit: N({forward.mean:.2f}, {forward.std:.2f}²), the mean and variance of p. "
               f"Reverse fit: N({reverse.mean:.2f}, {reverse.std:.2f}²), found by L-BFGS from a start on "
               "each mode.")


@st.fragment
def two_gaussians() -> None:
    """KL between two Gaussians, closed form against numerical integration."""
    st.markdown("**KL between two Gaussians**, closed form against numerical integration:")
    c = st.columns(4)
    mu_p = c[0].slider("mean of p", -3.0, 3.0, 0.0, 0.1, key="kl-mp", bind="query-params")
    sd_p = c[1].slider("σ of p", 0.2, 3.0, 1.0, 0.1, key="kl-sp", bind="query-params")
    mu_q = c[2].slider("mean of q", -3.0, 3.0, 1.0, 0.1, key="kl-mq", bind="query-params")
    sd_q = c[3].slider("σ of q", 0.2, 3.0, 1.5, 0.1, key="kl-sq", bind="query-params")
    gp, gq = Gaussian(mu_p, sd_p), Gaussian(mu_q, sd_q)
    lo, hi = plot_range(gp, gq, width=12)
    # The whole width: in a third of a 1280 px page the formula was cut off.
    st.latex(r"\mathrm{KL}(p\|q) = \log\frac{\sigma_q}{\sigma_p} + "
             r"\frac{\sigma_p^2 + (\mu_p - \mu_q)^2}{2\sigma_q^2} - \frac12")
    c1, c2 = st.columns([2, 1])
    c1.plotly_chart(gaussians_figure(gp, gq), key="kl-gauss")
    with c2:
        st.metric("KL(p‖q), closed form", f"{gaussian_kl(gp, gq):.4f}")
        st.metric("KL(p‖q), numerical", f"{kl_numeric(gp, gq, lo, hi):.4f}")
        st.metric("KL(q‖p), closed form", f"{gaussian_kl(gq, gp):.4f}",
                  help="Not the same: KL is not symmetric.")


def page() -> None:
    st.title("GANs and VAEs")
    theory()
    guard(evidence_section)  # a broken run leaves the rest of the page standing
    kl_intro()
    kl_directions()
    two_gaussians()


guard(page)
