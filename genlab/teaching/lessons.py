"""One-click lessons: a comparison set up from the demo runs and a story in a few lines.

Each lesson names the demo runs it shows (by role) and the runs a class can train itself
to see the same thing happen, with short settings so they finish during the lesson.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from genlab.config import RunConfig
from genlab.presets import make_config


VIEWS = ("modes", "side-by-side")


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
         "The balanced GAN captures every mode. Nothing in a GAN's objective rewards coverage: "
         "D only asks whether each sample looks real, not whether all of the data is represented.",
         "On images, collapse shows as missing classes in the histogram of what GenLab's evaluator "
         "sees in the samples. This DCGAN covers all ten; the histogram is how you would know if "
         "it did not."],
        {"balanced": "demo-gan-ring", "collapsed": "demo-gan-ring-collapsed", "images": "demo-dcgan-fashion"},
        [("gan", "ring", dict(steps=3000, name="lesson-ring-balanced")),
         ("gan", "ring", dict(steps=3000, lr_d=1e-4, name="lesson-ring-collapsed"))],
        view="modes"),
    Lesson(
        "beta", "β trades sharpness for a smoother latent space",
        ["Two conv VAEs on Fashion-MNIST, identical but for β, the weight of the KL term: "
         "-ELBO_β = reconstruction + β · KL.",
         "With β = 4 each code is pulled harder towards the prior N(0, I): fewer latent dimensions "
         "carry information (the KL per dimension), codes overlap more, and the decoder must "
         "average over more images: blurrier reconstructions and a higher reconstruction loss.",
         "In exchange the latent space is smoother: walks between codes change gradually, and "
         "random codes from the prior land where the decoder was trained. With β = 1 some fall in "
         "'holes' the decoder never saw. Compare the numbers: precision (how realistic) and recall "
         "(how much of the data is covered) of samples from the prior, and their FIDs."],
        {"beta 1": "demo-vae-fashion", "beta 4": "demo-beta4-vae-fashion"},
        [("conv-vae", "fashion-mnist", dict(steps=1000, latent_dim=32, beta=1.0, name="lesson-beta1")),
         ("conv-vae", "fashion-mnist", dict(steps=1000, latent_dim=32, beta=4.0, name="lesson-beta4"))],
        metrics=("fid", "fid_floor", "precision", "recall", "recon", "kl"), vae_views=True),
    Lesson(
        "gan-vs-vae", "Same data, same latent size: GAN vs VAE",
        ["A DCGAN and a conv VAE, both on Fashion-MNIST, both with a 32-D latent: the same code z "
         "goes into both decoders.",
         "The GAN's samples are sharper; the VAE's are smoother and blurrier: its decoder outputs "
         "the mean of p(x|z), an average over the images a code could stand for.",
         "FID in GenLab's evaluator space sees the blur: compare each FID with the real-vs-real "
         "floor. Precision (how realistic) and recall (how much of the data is covered) split the "
         "gap in two.",
         "Only the VAE gives a likelihood bound and an encoder: a GAN has neither."],
        {"GAN": "demo-dcgan-fashion", "VAE": "demo-vae-fashion"},
        [("dcgan", "fashion-mnist", dict(steps=1000, latent_dim=32, name="lesson-dcgan")),
         ("conv-vae", "fashion-mnist", dict(steps=1000, latent_dim=32, name="lesson-conv-vae"))],
        metrics=("fid", "fid_floor", "precision", "recall", "classes_covered", "elbo"), compare_link=True),
]}
