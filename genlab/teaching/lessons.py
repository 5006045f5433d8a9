"""One-click lessons: a comparison set up from the demo runs and a story in a few lines.

Each lesson names the demo runs it shows (by role) and the runs a class can train itself
to see the same thing happen, with short settings so they finish during the lesson.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from genlab.config import RunConfig
from genlab.metrics.report import shown
from genlab.presets import make_config

VIEWS = ("modes", "side-by-side")
# What a metric is called in a sentence, with the direction that is better.
NAMES = {"fid": "FID (lower is better)", "precision": "Precision", "recall": "Recall",
         "recon": "Reconstruction loss (lower is better)", "kl": "KL (nats the code carries)",
         "classes_covered": "Classes covered", "modes_captured": "Modes captured",
         "high_quality": "Share of samples on a mode"}


@dataclass(frozen=True)
class Claim:
    """What the textbook expects a lesson's runs to show on one metric: which role scores
    the higher number, why, and what it means when these runs show the opposite."""

    metric: str
    higher: str  # the role expected to have the higher value
    because: str
    otherwise: str


@dataclass(frozen=True)
class Finding:
    text: str
    as_expected: bool


def judge(claim: Claim, evaluations: dict[str, dict[str, Any]]) -> Finding | None:
    """The claim checked against the runs' latest evaluations: a sentence that quotes the
    numbers and says whether they agree with the textbook. None when a number is missing."""
    if any(claim.metric not in e for e in evaluations.values()):
        return None
    (a, ea), (b, eb) = evaluations.items()
    values = f"{NAMES[claim.metric]}: {a} {shown(ea, claim.metric)}, {b} {shown(eb, claim.metric)}."
    if ea[claim.metric] == eb[claim.metric]:
        return Finding(f"{values} A tie: the textbook expects {claim.higher} higher ({claim.because}).", False)
    top = a if ea[claim.metric] > eb[claim.metric] else b
    if top == claim.higher:
        return Finding(f"{values} Higher for {top}, as the textbook expects: {claim.because}.", True)
    return Finding(f"{values} Higher for {top}, against the textbook, which expects it higher for "
                   f"{claim.higher} ({claim.because}). {claim.otherwise}", False)


@dataclass(frozen=True)
class Lesson:
    slug: str
    title: str
    story: list[str]
    runs: dict[str, str]  # role -> demo run id
    # (variant, dataset, overrides) of the runs "Train it yourself" launches
    train_yourself: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    # How the evidence is shown: "modes" (collapsed vs balanced on a toy, and a class
    # histogram) or "side-by-side" (each run's samples, a walk and `metrics`, from one seed).
    view: str = "side-by-side"
    metrics: tuple[str, ...] = ()
    vae_views: bool = False  # side by side also shows reconstructions and the KL per dimension
    compare_link: bool = False  # a link opens the GAN and VAE roles in Compare
    # Checked against the numbers at every view; `compared` names the two roles they compare.
    claims: tuple[Claim, ...] = ()
    compared: tuple[str, str] = ("", "")

    def findings(self, evaluations: dict[str, dict[str, Any]]) -> list[Finding]:
        """The claims judged on the latest evaluations of the compared roles (by role)."""
        pair = {role: evaluations[role] for role in self.compared if role in evaluations}
        if len(pair) < 2:
            return []
        return [f for f in (judge(c, pair) for c in self.claims) if f is not None]

    def configs(self) -> list[RunConfig]:
        """The runs "Train it yourself" launches."""
        return [make_config(variant, dataset, **overrides) for variant, dataset, overrides in self.train_yourself]


LESSONS: dict[str, Lesson] = {lesson.slug: lesson for lesson in [
    Lesson(
        "mode-collapse", "Mode collapse in 60 seconds",
        ["The data: eight tight Gaussians on a ring.",
         "Two GANs with the same networks and loss. In the collapsed one the generator learns ten "
         "times faster than its discriminator: all its samples pile into one clump that runs to "
         "wherever D is fooled; D catches up and the clump moves on, from mode to mode (drag the "
         "snapshot slider on the Samples page to watch it wander).",
         "Nothing in a GAN's objective rewards coverage: D only asks whether each sample looks "
         "real, not whether all of the data is represented.",
         "On images, collapse shows as missing classes in the histogram of what GenLab's evaluator "
         "sees in a GAN's samples: a class with no bar is a mode the generator dropped."],
        {"balanced": "demo-gan-ring", "collapsed": "demo-gan-ring-collapsed", "images": "demo-dcgan-fashion"},
        [("gan", "ring", dict(steps=3000, name="lesson-ring-balanced")),
         ("gan", "ring", dict(steps=3000, lr_d=1e-4, name="lesson-ring-collapsed"))],
        view="modes",
        claims=(
            Claim("modes_captured", "balanced", "a discriminator that keeps up makes the generator spread out",
                  "Then the balanced run collapsed too, or the collapsed one was lucky: train both again."),
            Claim("high_quality", "balanced", "a clump in motion sits between modes most of the time",
                  "The clump happened to rest on a mode when this snapshot was taken."),
        ),
        compared=("balanced", "collapsed")),
    Lesson(
        "beta", "β trades sharpness for a smoother latent space",
        ["Two conv VAEs on Fashion-MNIST, identical but for β, the weight of the KL term: "
         "-ELBO_β = reconstruction + β · KL.",
         "With β = 4 each code is pulled harder towards the prior N(0, I): fewer latent dimensions "
         "carry information (the KL per dimension), codes overlap more, and the decoder must "
         "average over more images, so reconstructions should blur.",
         "In exchange the latent space should be smoother: walks between codes change gradually, "
         "and random codes from the prior land where the decoder was trained; with β = 1 some fall "
         "in 'holes' the decoder never saw. Precision (how realistic) and recall (how much of the "
         "data is covered) of samples from the prior, and their FIDs, test both halves below."],
        {"beta 1": "demo-vae-fashion", "beta 4": "demo-beta4-vae-fashion"},
        [("conv-vae", "fashion-mnist", dict(steps=1000, latent_dim=32, beta=1.0, name="lesson-beta1")),
         ("conv-vae", "fashion-mnist", dict(steps=1000, latent_dim=32, beta=4.0, name="lesson-beta4"))],
        metrics=("fid", "fid_floor", "precision", "recall", "recon", "kl"), vae_views=True,
        claims=(
            Claim("kl", "beta 1", "a heavier KL term leaves the codes less to say about each image",
                  "β = 4 should never carry more information; check that the runs are the ones named."),
            Claim("recon", "beta 4", "with less information in the code the decoder reconstructs worse",
                  "β = 4 reconstructs better here: its decoder found a use for the little the code says."),
            Claim("precision", "beta 4", "its prior samples land where the decoder was trained",
                  "β = 1's latent space has no holes that hurt its prior samples here."),
            Claim("recall", "beta 1", "sharper, more varied decoders cover more of the data",
                  "β = 4's averaged samples still cover the data as well here."),
            Claim("fid", "beta 4", "blurrier samples sit further from the data in feature space",
                  "FID rewards realism and spread together: samples from 'holes' in β = 1's latent space "
                  "can cost it more than β = 4's blur. Sharp reconstructions do not guarantee good "
                  "samples from the prior."),
        ),
        compared=("beta 1", "beta 4")),
    Lesson(
        "gan-vs-vae", "Same data, same latent size: GAN vs VAE",
        ["A DCGAN and a conv VAE, both on Fashion-MNIST, both with a 32-D latent: the same code z "
         "goes into both decoders.",
         "The textbook: the GAN's samples are sharper; the VAE's smoother and blurrier, as its "
         "decoder outputs the mean of p(x|z), an average over the images a code could stand for. "
         "The VAE, trained to reconstruct every image, should cover more of the data.",
         "FID in GenLab's evaluator space, read against the real-vs-real floor, sums the gap; "
         "precision (how realistic) and recall (how much of the data is covered) split it in two. "
         "What they say of these two runs is below.",
         "Only the VAE gives a likelihood bound and an encoder: a GAN has neither."],
        {"GAN": "demo-dcgan-fashion", "VAE": "demo-vae-fashion"},
        [("dcgan", "fashion-mnist", dict(steps=1000, latent_dim=32, name="lesson-dcgan")),
         ("conv-vae", "fashion-mnist", dict(steps=1000, latent_dim=32, name="lesson-conv-vae"))],
        metrics=("fid", "fid_floor", "precision", "recall", "classes_covered", "elbo"), compare_link=True,
        claims=(
            Claim("fid", "VAE", "blur moves the VAE's samples away from the data in feature space",
                  "The GAN's samples are further from the data here: it may not have trained long enough."),
            Claim("precision", "GAN", "sharp samples look like real images",
                  "Precision asks only whether each sample lands among real images in the evaluator's "
                  "features; blurry but typical garments do. FID, which also compares the spread, tells "
                  "the two apart."),
            Claim("recall", "VAE", "a VAE must reconstruct every training image, a GAN may drop some",
                  "This DCGAN did not collapse: it covers the data at least as well as the VAE. Losing "
                  "coverage is a risk for a GAN, not a certainty."),
            Claim("classes_covered", "VAE", "a VAE must reconstruct every class",
                  "The evaluator counts a class only when enough samples look like it; the VAE's "
                  "blurriest samples may look like no garment in particular."),
        ),
        compared=("VAE", "GAN")),
]}
