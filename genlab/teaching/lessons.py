"""One-click lessons: a comparison set up from the demo runs and a story in a few lines.

Each lesson names the demo runs it shows (by role) and the runs a class can train itself
to see the same thing happen, with short settings so they finish during the lesson.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from genlab.config import RunConfig
from genlab.presets import make_config
from genlab.views.metric_info import METRICS, best_repair, number, shown

VIEWS = ("modes", "side-by-side", "regularisers", "repair", "training-data")
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


def truncation_findings(sweep: list[dict[str, Any]]) -> list[Finding]:
    """What a truncation sweep (genlab.metrics.evaluate.truncation_sweep) shows, from its
    numbers: precision and recall with the whole prior against the tightest truncation."""
    whole = next((r for r in sweep if r["truncation"] is None), None)
    cut = [r for r in sweep if r["truncation"] is not None]
    if whole is None or not cut:
        return []
    tight = min(cut, key=lambda r: r["truncation"])
    findings = []
    for metric, expected, why in (("precision", "rose", "codes near the mode make the generator's most typical images"),
                                  ("recall", "fell", "the rarer images need the codes far from the mode")):
        before, after = whole[metric], tight[metric]
        went = "rose" if after > before else "fell" if after < before else "stayed"
        # printed as every table prints a metric (metric_info.shown): the same number, the same digits
        text = (f"{metric.capitalize()}: {before:.4g} with the whole prior, {after:.4g} truncated at "
                f"{tight['truncation']:g}. It {went}")
        findings.append(Finding(f"{text}, as the truncation trick promises: {why}." if went == expected else
                                f"{text}, against what the truncation trick promises ({why}).", went == expected))
    return findings


def late_mean(records: list[dict[str, Any]], key: str, share: float = 0.2) -> float | None:
    """The mean of a logged value over the last `share` of the lines that have it (where
    training has settled); None when no line has it."""
    values = [r[key] for r in records if isinstance(r.get(key), (int, float))]
    if not values:
        return None
    tail = values[-max(1, round(share * len(values))):]
    return sum(tail) / len(tail)


# What the textbook expects of each regulariser against the run without one: D's slope with
# respect to its input, |grad_x D(x)| (logged as slope_d_real / slope_d_fake), where the
# regulariser bounds it, smaller than without one.
SLOPE_BOUNDED = {"spectral norm": ("slope_d_fake", "generated points",
                                   "it caps each layer's slope at 1, so D's at 1 everywhere"),
                 "R1 penalty": ("slope_d_real", "real points", "it penalises D's slope at real points")}


def regulariser_findings(evaluations: dict[str, dict[str, Any]], logs: dict[str, list[dict[str, Any]]],
                         baseline: str = "none") -> list[Finding]:
    """Each regularised run against the baseline, from the numbers: modes captured (all
    should do at least as well) and D's slope with respect to its input late in training
    (spectral norm and a gradient penalty should keep it smaller; weight decay need not)."""
    found = []
    base_e = evaluations.get(baseline)
    for role, e in evaluations.items():
        if role == baseline or base_e is None or "modes_captured" not in e:
            continue
        modes = f"{role}: {e['modes_captured']} of {e['modes_total']} modes captured, {baseline}: " \
                f"{base_e['modes_captured']}"
        kept = e["modes_captured"] >= base_e["modes_captured"]
        found.append(Finding(f"{modes}. " + ("At least as many, as a regulariser should." if kept else
                             "Fewer: this regulariser cost coverage here (it slows D, and the generator "
                             "may not have caught up within these steps)."), kept))
        if role in SLOPE_BOUNDED:
            found += slope_finding(role, logs, baseline)
    return found


def slope_finding(role: str, logs: dict[str, list[dict[str, Any]]], baseline: str) -> list[Finding]:
    """D's slope where `role` bounds it, against the baseline's; none for runs logged before
    the slope was (their logs have only the gradient by D's weights, which no claim is about)."""
    key, where, why = SLOPE_BOUNDED[role]
    slope, base = late_mean(logs.get(role, []), key), late_mean(logs.get(baseline, []), key)
    if slope is None or base is None:
        return []
    smaller = slope < base
    return [Finding(f"D's slope |∇ₓD(x)| at {where} over the last fifth of training: {role} {slope:.3g}, "
                    f"{baseline} {base:.3g}. " + (f"Smaller, as expected: {why}." if smaller else
                                                  f"Not smaller, against the textbook ({why})."), smaller)]


def prototype_findings(scores: dict[str, Any], evaluations: dict[str, dict[str, Any]]) -> list[Finding]:
    """What a pretend model of one prototype image per class shows beside every run the
    lesson shows (`evaluations`, by role): whether the Inception Score prefers it to each run,
    and whether FID ranks it below each run. The textbook's claim, that FID is not fooled,
    holds here only if FID ranks it below every run shown."""
    shown = {role: e for role, e in evaluations.items() if "fid" in e and "inception_score" in e}
    if not shown:
        return []
    fooled_is = [role for role, e in shown.items() if scores["inception_score"] > e["inception_score"]]
    is_text = (f"Inception Score: {scores['inception_score']:.2f} for the pretend model, "
               + ", ".join(f"{e['inception_score']:.2f} for the {role}" for role, e in shown.items())
               + f" ({scores['inception_score_real']:.2f} for the real test images).")
    findings = [Finding(is_text + (f" IS prefers ten images to the {' and the '.join(fooled_is)}: it rewards sharp, "
                                   "spread-out classes and is blind to variety within a class." if fooled_is else
                                   " IS is not fooled here: every run scores higher."), bool(fooled_is))]
    beaten = [role for role, e in shown.items() if scores["fid"] < e["fid"]]
    fid_text = (f"FID: {scores['fid']:.1f} for the pretend model, "
                + ", ".join(f"{e['fid']:.1f} for the {role}" for role, e in shown.items()) + ".")
    if not beaten:
        findings.append(Finding(fid_text + " FID ranks the ten images below every run shown: it compares the "
                                "samples' spread with the test data's, so it sees that ten images are not a model "
                                "of the data.", True))
    else:
        findings.append(Finding(fid_text + f" FID ranks the ten images above the {' and the '.join(beaten)}, "
                                "against the textbook's claim that FID is not fooled: ten sharp real images sit "
                                "closer to the test data's features than a blurrier model's whole spread. No single "
                                "number is a complete judge; read FID beside recall and the samples themselves.",
                                False))
    return findings


def judge(claim: Claim, evaluations: dict[str, dict[str, Any]]) -> Finding | None:
    """The claim checked against the runs' latest evaluations: a sentence that quotes the
    numbers and says whether they agree with the textbook. None when a number is missing."""
    if any(number(e, claim.metric) is None for e in evaluations.values()):
        return None
    (a, ea), (b, eb) = evaluations.items()
    values = f"{METRICS[claim.metric].in_sentence}: {a} {shown(ea, claim.metric)}, {b} {shown(eb, claim.metric)}."
    if number(ea, claim.metric) == number(eb, claim.metric):
        return Finding(f"{values} A tie: the textbook expects {claim.higher} higher ({claim.because}).", False)
    top = a if number(ea, claim.metric) > number(eb, claim.metric) else b
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
    # More evidence below the view, by name: "prototype-scores", "walk-reach", "truncation",
    # "nearest-training" (see app_pages/lessons.py).
    extras: tuple[str, ...] = ()

    def findings(self, evaluations: dict[str, dict[str, Any]]) -> list[Finding]:
        """The claims judged on the latest evaluations of the compared roles (by role)."""
        pair = {role: evaluations[role] for role in self.compared if role in evaluations}
        if len(pair) < 2:
            return []
        return [f for f in (judge(c, pair) for c in self.claims) if f is not None]

    def configs(self) -> list[RunConfig]:
        """The runs "Train it yourself" launches."""
        return [make_config(variant, dataset, **overrides) for variant, dataset, overrides in self.train_yourself]

    def launch_lines(self) -> list[str]:
        """Each run "Train it yourself" launches, by the settings that set it apart from the
        lesson's other runs: 'gan on grid, spectral norm, 5,000 steps'."""
        runs = self.train_yourself
        shared = {k for k in runs[0][2] if len(runs) > 1 and all(o.get(k) == runs[0][2][k] for _, _, o in runs)}
        own = [[setting_words(k, v) for k, v in o.items() if k not in shared | {"steps", "name"}] for _, _, o in runs]
        baseline = ["the baseline"] if any(own) else []  # the run the others change one setting of
        return [", ".join([f"{variant} on {dataset}", *(words or baseline), f"{overrides['steps']:,} steps"])
                for (variant, dataset, overrides), words in zip(runs, own)]


def setting_words(name: str, value: Any) -> str:
    """A setting as a lesson says it: 'spectral norm', 'weight decay 0.001', 'prior uniform'."""
    words = {"lr_d": "discriminator learning rate", "r1_weight": "R1 weight"}.get(name, name.replace("_", " "))
    return words if value is True else f"{words} {value:g}" if isinstance(value, float) else f"{words} {value}"


# The regularisation lesson's GAN: small enough that its four demo runs fit the size budget;
# a constant learning rate, so the R1 run does not take R1's own decayed toy schedule.
REGULARISATION_RUN = dict(steps=5000, hidden=128, depth=2, log_every=25, n_snapshots=1, lr_schedule="constant")

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
         "Only the VAE gives a likelihood bound and an encoder: a GAN has neither.",
         "The Inception Score, here computed with GenLab's evaluator instead of Inception, asks only "
         "whether each sample is one clear class and whether the classes are spread. It never looks at "
         "real data: a model that draws one sharp prototype per class scores as high as the real images, "
         "or higher. The block at the bottom measures that on such a pretend model, and asks FID too."],
        {"GAN": "demo-dcgan-fashion", "VAE": "demo-vae-fashion"},
        [("dcgan", "fashion-mnist", dict(steps=1000, latent_dim=32, name="lesson-dcgan")),
         ("conv-vae", "fashion-mnist", dict(steps=1000, latent_dim=32, name="lesson-conv-vae"))],
        metrics=("fid", "fid_floor", "precision", "recall", "inception_score", "classes_covered", "elbo"),
        compare_link=True, extras=("prototype-scores",),
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
            Claim("inception_score", "GAN", "sharp samples are classified confidently",
                  "The VAE's samples are the more confidently classified here: blur need not hide the class."),
            Claim("classes_covered", "VAE", "a VAE must reconstruct every class",
                  "The evaluator counts a class only when enough samples look like it; the VAE's "
                  "blurriest samples may look like no garment in particular."),
        ),
        compared=("VAE", "GAN")),
    Lesson(
        "priors", "Noise priors and the truncation trick",
        ["Two DCGANs on Fashion-MNIST, identical but for the noise z they draw from: a standard normal "
         "N(0, I) and uniform on [-1, 1]^32. The generator learns to turn either into images; neither "
         "prior is better in itself. (A VAE keeps its normal prior: its KL term is measured against it.)",
         "One seed gives corresponding codes under both priors (each coordinate at the same quantile), "
         "so the same seed draws comparable samples.",
         "Walks: under a normal prior almost every code has a norm near sqrt(32); a straight walk (lerp) "
         "between two codes passes through codes of about 0.7 times that norm, which the generator rarely "
         "saw, so slerp, which keeps the norm, is the usual choice. A uniform prior's cube is convex: a "
         "straight walk never leaves it, while slerp's arc can. The table measures both.",
         "The truncation trick (Brock et al. 2019): sample the normal prior cut at |z| <= t. A smaller t "
         "keeps codes near the mode, so samples should be more typical (precision up) and less varied "
         "(recall down). Move the slider; the curve is measured on the normal-prior run."],
        {"normal": "demo-dcgan-fashion", "uniform": "demo-dcgan-fashion-uniform"},
        [("dcgan", "fashion-mnist", dict(steps=1000, latent_dim=32, name="lesson-prior-normal")),
         ("dcgan", "fashion-mnist", dict(steps=1000, latent_dim=32, prior="uniform", name="lesson-prior-uniform"))],
        metrics=("fid", "fid_floor", "precision", "recall", "inception_score"),
        extras=("walk-reach", "truncation")),
    Lesson(
        "memorisation", "Does a GAN copy its training data?",
        ["A GAN's generator never sees a training image: it learns only through the discriminator's "
         "gradients. Still, trained long on a few images, D can memorise them and G learn to hit them.",
         "The test: for each sample, the distance to its nearest training image and to its nearest test "
         "image, in the evaluator's features. A model that generalises is as close to images it never "
         "saw as to those it trained on (ratio about 1); one that copies is far closer to its training "
         "images (ratio far below 1).",
         "Left, a DCGAN trained on all 60,000 training images; right, the same DCGAN trained for as many "
         "steps on only 64 of them. Under each: samples above the training image nearest each.",
         "What to expect from a GAN on few images: its samples lean towards the images it saw, but "
         "clean copies are rare. The discriminator memorises the 64 images first and its gradients "
         "stop guiding the generator, so samples degrade (see FID) before they become twins; this is "
         "why small-data GANs use augmentation (ADA, Karras et al. 2020)."],
        {"60,000 images": "demo-dcgan-fashion", "64 images": "demo-dcgan-fashion-64"},
        [("dcgan", "fashion-mnist", dict(steps=2000, latent_dim=32, train_subset=64, batch_size=64,
                                         name="lesson-copy-64"))],
        metrics=("memorisation_ratio", "fid", "precision", "recall"),
        claims=(
            Claim("memorisation_ratio", "60,000 images",
                  "a generator trained thousands of times on 64 images learns to land on them",
                  "The small run did not lean towards its 64 images here: its samples are as close to "
                  "unseen images (look at the samples: it may have degraded or collapsed instead)."),
        ),
        compared=("60,000 images", "64 images"), extras=("nearest-training",)),
    Lesson(
        "regularisation", "Norm regularisation: weight decay, spectral norm, a gradient penalty",
        ["Four GANs with the same networks, loss, data (25 Gaussians on a grid) and steps; three of them "
         "regularise: L2 weight decay (Adam's, on both networks: every step pulls each weight towards 0), "
         "spectral norm (each of D's layers divided by its largest singular value, so D's slope is at "
         "most 1), and the R1 gradient penalty (γ/2 · E||∇D(x)||² on real data, Mescheder et al. 2018).",
         "Why regularise D at all: an unconstrained D can grow arbitrarily sharp around the real data; "
         "its gradients then tell the generator little and training oscillates. Spectral norm and "
         "gradient penalties bound D's slope directly; weight decay only shrinks its weights.",
         "Below: each run's samples over the data with its modes captured, D's slope |∇ₓD(x)| (the "
         "norm of its gradient with respect to its input, at real and at generated points) and both "
         "losses through training, and what the numbers say against what the textbook expects."],
        {"none": "demo-reg-none", "weight decay": "demo-reg-l2", "spectral norm": "demo-reg-sn",
         "R1 penalty": "demo-reg-r1"},
        [("gan", "grid", dict(REGULARISATION_RUN, name="lesson-reg-none")),
         ("gan", "grid", dict(REGULARISATION_RUN, weight_decay=1e-3, name="lesson-reg-l2")),
         ("gan", "grid", dict(REGULARISATION_RUN, spectral_norm=True, name="lesson-reg-sn")),
         ("gan", "grid", dict(REGULARISATION_RUN, r1_weight=0.1, name="lesson-reg-r1"))],
        view="regularisers"),
    Lesson(
        "repair", "Repairing images: GAN vs VAE",
        ["Both models can fill in what is missing from an image (completion) and take out what is wrong "
         "(correction): find a code whose image agrees with what is left, and let the model draw the rest.",
         "A GAN has only its generator: searching for z, by gradient descent on the error over the pixels "
         "that remain, is its one way. A VAE can be searched the same way, and it also has an encoder: "
         "encode the damaged image, decode, put the known pixels back, repeat (Rezende et al. 2014).",
         "The textbook: the VAE, trained to reconstruct every training image, reaches more test images "
         "than a GAN's generator, so it repairs better; its encoder does in a few passes nearly what the "
         "search does in hundreds of steps.",
         "Below, the same test images damaged and each model's repairs (choose the damage in the controls), "
         "then both runs measured on 256 test images with a box of half the side at the centre and with "
         "noise of sigma 0.3."],
        {"GAN": "demo-dcgan-fashion", "VAE": "demo-vae-fashion"},
        [("dcgan", "fashion-mnist", dict(steps=1000, latent_dim=32, name="lesson-repair-dcgan")),
         ("conv-vae", "fashion-mnist", dict(steps=1000, latent_dim=32, name="lesson-repair-vae"))],
        view="repair"),
    Lesson(
        "training-data", "Can generated images train a classifier?",
        ["A class-conditional model draws an image of the class it is asked for. Here a cGAN (the DCGAN "
         "with the class given to both networks) and a cVAE (the conv VAE, likewise), on Fashion-MNIST.",
         "Classification Accuracy Score (Ravuri & Vinyals 2019): train a classifier only on 5,000 samples, "
         "each labelled with the class asked for, and test it on real test images; beside it, the same "
         "classifier trained on 5,000 real images. Samples that look right but miss part of a class's "
         "variety, or ignore the label, score far below.",
         "Augmentation: 500 real images alone, and the same 500 plus 5,000 generated ones, over three "
         "seeds: do the samples add what the few real images do not say?",
         "The classifier is a small MLP, the same in every arm, so its numbers compare the training data, "
         "not the classifier; they compare models here, not with published scores."],
        {"cGAN": "demo-cdcgan-fashion", "cVAE": "demo-cvae-fashion"},
        [("cdcgan", "fashion-mnist", dict(steps=1000, latent_dim=32, name="lesson-cas-cdcgan")),
         ("conv-vae", "fashion-mnist", dict(steps=1000, latent_dim=32, conditional=True, name="lesson-cas-cvae"))],
        view="training-data"),
]}


REPAIR_JOBS = {"box": "Filling a missing box", "noise": "Removing noise"}


def repair_findings(evaluations: dict[str, dict[str, Any]], gan: str = "GAN", vae: str = "VAE") -> list[Finding]:
    """The repair lesson's claims on the runs' repair benchmarks: the VAE repairs a box and
    removes noise better than the GAN (each by its best method), and its encoder does nearly
    what its search does, in a fraction of the time."""
    found = []
    for damage, job in REPAIR_JOBS.items():
        g, v = (best_repair(evaluations.get(role, {}), damage) for role in (gan, vae))
        if g is None or v is None:
            continue
        bench = evaluations[vae]["repair"]
        text = (f"{job} ({bench[damage]['damage']}, {bench['images']} test images), hidden-pixel MSE (lower is "
                f"better): damaged input {bench[damage]['damaged']['hidden_mse']:.4f}, {gan} by {g[0]} "
                f"{g[1]['hidden_mse']:.4f}, {vae} by {v[0]} {v[1]['hidden_mse']:.4f}.")
        if v[1]["hidden_mse"] < g[1]["hidden_mse"]:
            found.append(Finding(f"{text} The {vae} repairs better, as the textbook expects: trained to "
                                 "reconstruct every training image, its decoder can draw something close to most "
                                 f"test images, while the {gan}'s generator may have no z for an image it does not "
                                 "draw.", True))
        else:
            found.append(Finding(f"{text} The {gan} repairs better here, against the textbook (which expects the "
                                 f"{vae}, trained to reconstruct every image, to reach more of them): its generator "
                                 "reaches these test images at least as well as the VAE's blurrier decoder.", False))
    return found + encoder_finding(evaluations.get(vae, {}), vae)


def encoder_finding(e: dict[str, Any], vae: str) -> list[Finding]:
    """The VAE's encoder against its own search on the box: amortised inference should come
    close (within a quarter of the search's error) in a fraction of the time."""
    bench = e.get("repair") or {}
    box = bench.get("box") or {}
    if "encoder" not in box or "seconds" not in box.get("search", {}):
        return []
    enc, srch = box["encoder"], box["search"]
    text = (f"The {vae}'s encoder filled the box in {enc['seconds']:.1f} s ({bench['encoder_rounds']} rounds of "
            f"encode, decode, put the known pixels back), its search in {srch['seconds']:.1f} s "
            f"({bench['search_steps']} steps of gradient descent): hidden-pixel MSE {enc['hidden_mse']:.4f} "
            f"against {srch['hidden_mse']:.4f}.")
    if enc["seconds"] < srch["seconds"] and enc["hidden_mse"] <= 1.25 * srch["hidden_mse"]:
        return [Finding(f"{text} Amortised inference, as expected: the encoder learned to do in a few passes "
                        "nearly what the search does in hundreds.", True)]
    return [Finding(f"{text} The encoder is more than a quarter worse than the search, against the promise of "
                    "amortised inference: trained on whole images, it has never seen a grey box, and its guess "
                    "of the code pays for it (the amortisation gap).", False)]


def training_data_findings(evaluations: dict[str, dict[str, Any]], gan: str = "cGAN",
                           vae: str = "cVAE") -> list[Finding]:
    """The training-data lesson's claims: each model's samples train a worse classifier than
    as many real images; the cVAE's a better one than the cGAN's; generated images added to a
    small real set raise its accuracy."""
    scored = {role: e for role, e in evaluations.items() if role in (gan, vae) and "cas" in e}
    found = []
    for role, e in scored.items():
        text = (f"{role}: a classifier trained only on its {e['cas_images']:,} samples scores {e['cas']:.1%} on the "
                f"real test set, against {e['cas_real']:.1%} when trained on as many real images.")
        below = e["cas"] < e["cas_real"]
        found.append(Finding(f"{text} Below real data, as Ravuri & Vinyals (2019) found for every model they tried: "
                             "samples that look right still miss part of each class's variety." if below else
                             f"{text} As good as real data, against the textbook: these samples carry each class "
                             "as well as real images do, for this small classifier.", below))
    if len(scored) == 2:
        g, v = scored[gan]["cas"], scored[vae]["cas"]
        text = f"Classification Accuracy Score: {gan} {g:.1%}, {vae} {v:.1%}."
        found.append(Finding(f"{text} Higher for the {vae}, as in Ravuri & Vinyals' study, where a likelihood model "
                             "(VQ-VAE-2) beat BigGAN on CAS despite a worse FID: a model trained to explain every "
                             "image covers each class's variety." if v > g else f"{text} Higher for the {gan}, "
                             "against that study (a likelihood model beat BigGAN on CAS): here the VAE's blur costs "
                             "the classifier more than the GAN's missing variety.", v > g))
    return found + [augmentation_finding(role, e["augmentation"]) for role, e in scored.items() if "augmentation" in e]


def augmentation_finding(role: str, aug: dict[str, Any]) -> Finding:
    """Whether the role's samples, added to a small real set, raised the test accuracy by more
    than the spread between seeds."""
    text = (f"{role}: {aug['real_images']:,} real images alone train the classifier to {aug['real_only_mean']:.1%}; "
            f"with {aug['generated_images']:,} generated images added, {aug['with_generated_mean']:.1%} "
            f"({aug['gain']:+.1%} ± {aug['gain_std']:.1%} over {len(aug['seeds'])} seeds).")
    if aug["gain"] > aug["gain_std"]:
        return Finding(f"{text} The generated images help, as augmentation promises when real data is scarce.", True)
    return Finding(f"{text} No gain beyond the spread between seeds, against what augmentation promises: these "
                   "samples add no more than the real images already say (or teach the classifier their own "
                   "flaws).", False)
