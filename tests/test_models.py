import math

import pytest
import torch

from genlab.config import GAN_LOSSES, ConfigError
from genlab.data import load_dataset
from genlab.models import VARIANTS, build_model, check_fits_data, curves_for, gan_losses
from genlab.models.vae import VAE
from genlab.presets import make_config
from genlab.training.batches import BatchSampler
from tests.support import tiny_config

CONV = {"dcgan", "dcgan-wgan-gp", "cdcgan", "conv-vae"}


def tiny_setup(variant: str, image_size: int | None = None, seed: int = 0):
    """A tiny model of `variant` with its data: points for MLP variants, random
    images of the given size for conv ones."""
    torch.manual_seed(seed)
    if variant in CONV:
        size = image_size or 28
        x = torch.rand(64, 1, size, size)
        y = torch.arange(64) % 10
        config = tiny_config(variant, "fashion-mnist")
        model = build_model(config.model, (1, size, size), 10)
    else:
        data = load_dataset("ring")
        x, y = data.x_train[:256], data.y_train[:256]
        config = tiny_config(variant, "ring")
        model = build_model(config.model, (2,), data.n_classes)
    optimizers = model.make_optimizers(config.optim)
    return model, optimizers, BatchSampler(x, y, 16, seed), torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_one_step_changes_the_weights_and_stays_finite(variant):
    model, optimizers, batches, noise_rng = tiny_setup(variant)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out = model.train_step(batches, optimizers, 0, noise_rng)
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    parts = {k.split(".")[0] for k in changed}
    assert parts >= ({"generator", "discriminator"} if model.family == "gan" else {"encoder", "decoder"})
    for name, value in out.items():
        assert torch.isfinite(torch.as_tensor(value)).all(), name


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_seeded_training_is_deterministic(variant):
    def two_steps():
        model, optimizers, batches, noise_rng = tiny_setup(variant, seed=3)
        outs = [model.train_step(batches, optimizers, s, noise_rng) for s in range(2)]
        return outs, model.sample(4, seed=1)

    (a, sa), (b, sb) = two_steps(), two_steps()
    assert torch.equal(sa, sb)
    for ka in a[-1]:
        assert torch.equal(torch.as_tensor(a[-1][ka]), torch.as_tensor(b[-1][ka])), ka


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_inference_weights_round_trip(variant, tmp_path):
    from safetensors.torch import load_file, save_file

    model, optimizers, batches, noise_rng = tiny_setup(variant)
    model.train_step(batches, optimizers, 0, noise_rng)
    save_file({k: v.contiguous() for k, v in model.inference_state_dict().items()}, str(tmp_path / "w.st"))
    fresh, *_ = tiny_setup(variant, seed=99)
    fresh.load_inference_state_dict(load_file(str(tmp_path / "w.st")))
    assert torch.equal(fresh.sample(5, seed=2), model.sample(5, seed=2))
    if model.family == "gan":
        assert not any(k.startswith("discriminator") for k in model.inference_state_dict())


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("variant", ["dcgan", "conv-vae"])
def test_conv_models_produce_images_of_each_size(variant, size):
    model, *_ = tiny_setup(variant, image_size=size)
    out = model.sample(3, seed=0)
    assert out.shape == (3, 1, size, size) and out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_curve_a_family_declares_is_logged_by_its_step(variant):
    model, optimizers, batches, noise_rng = tiny_setup(variant)
    out = model.train_step(batches, optimizers, 0, noise_rng)
    groups = curves_for(model.config)
    assert groups and all(group.keys and group.title for group in groups)
    declared = {key for group in groups for key in group.keys}
    assert declared <= set(out), declared - set(out)


def test_the_critic_gap_is_plotted_for_wgan_gp_only():
    plotted = {v: {k for g in curves_for(tiny_config(v).model) for k in g.keys} for v in ("gan", "wgan-gp", "vae")}
    assert "critic_gap" in plotted["wgan-gp"] and "critic_gap" not in plotted["gan"]
    assert plotted["vae"] == {"recon", "kl", "loss"}


def test_the_vae_step_minimises_its_loss_function():
    model, optimizers, batches, _ = tiny_setup("beta-vae")
    x, _ = BatchSampler(batches.x, None, 16, batches.seed).draw()
    terms = model.loss_function(x, None, torch.Generator().manual_seed(4), beta=4.0)
    out = model.train_step(batches, optimizers, 0, torch.Generator().manual_seed(4))
    assert out["beta"] == 4.0  # the preset's beta, no warm-up
    for key in ("loss", "recon", "kl", "kl_per_dim"):  # the same batch, noise and weights
        assert torch.equal(out[key], terms[key].detach()), key
    assert terms["loss"].item() == pytest.approx((terms["recon"] + 4.0 * terms["kl"]).item())


def test_gan_loss_terms_are_what_the_step_uses():
    model, optimizers, batches, _ = tiny_setup("wgan-gp")
    real = model.to_model_space(BatchSampler(batches.x, None, 16, batches.seed).draw()[0])
    fake = model.generator(torch.randn(16, model.latent_dim), None).detach()
    loss, terms = model.discriminator_loss(real, fake, None, torch.Generator().manual_seed(0))
    # L_D = E[f] - E[r] + 10 GP
    assert loss.item() == pytest.approx((terms["f"].mean() - terms["r"].mean() + 10 * terms["gp"]).item(), rel=1e-5)
    assert model.generator_loss(torch.zeros(4, model.latent_dim), None).requires_grad


def test_logistic_losses_are_named_once():
    assert [k for k in GAN_LOSSES if gan_losses.is_logistic(k)] == ["minimax", "non-saturating"]


def test_variants_say_their_family_and_beta():
    assert VARIANTS["beta-vae"].is_vae and VARIANTS["beta-vae"].beta == 4.0
    assert VARIANTS["vae"].beta == 1.0 and not VARIANTS["dcgan"].is_vae


def test_vae_interface_encodes_and_reconstructs():
    model, *_ = tiny_setup("vae")
    x = load_dataset("ring").x_test[:7]
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (7, model.latent_dim)
    assert model.reconstruct(x).shape == x.shape


def test_conditional_sampling_follows_the_labels():
    model, *_ = tiny_setup("cgan")
    z = torch.zeros(2, model.latent_dim)
    a = model.generate(z, torch.tensor([0, 1]))
    assert not torch.equal(a[0], a[1])  # same z, different class, different output


def test_bce_losses_at_an_undecided_discriminator():
    zero = torch.zeros(4)
    # D(x) = D(G(z)) = 1/2: L_D = 2 log 2, the value of the game at equilibrium.
    assert gan_losses.d_loss("non-saturating", zero, zero).item() == pytest.approx(2 * math.log(2))
    assert gan_losses.g_loss("non-saturating", zero).item() == pytest.approx(math.log(2))
    assert gan_losses.g_loss("minimax", zero).item() == pytest.approx(-math.log(2))
    assert gan_losses.d_loss("hinge", zero, zero).item() == pytest.approx(2.0)
    assert gan_losses.d_loss("least-squares", torch.ones(4), zero).item() == 0


def test_gradient_penalty_of_a_linear_critic_is_its_norm_minus_one_squared():
    w = torch.tensor([3.0, 4.0])  # ||w|| = 5, so the penalty is (5 - 1)^2 = 16

    def critic(x, labels):
        return x @ w

    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    gp = gan_losses.gradient_penalty(critic, real, fake, None, torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx(16.0)


def test_packing_stacks_m_samples_per_discriminator_input():
    model, *_ = tiny_setup("pacgan2")
    x = torch.arange(8.0).view(4, 2)
    assert model.pack(x).tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_kl_of_the_prior_to_itself_is_zero_and_grows_with_the_mean():
    zeros = torch.zeros(1, 3)
    assert VAE.kl_per_dim(zeros, zeros).sum() == 0
    # KL(N(2, 1) || N(0, 1)) = 2^2 / 2 = 2
    assert VAE.kl_per_dim(torch.full((1, 1), 2.0), torch.zeros(1, 1)).item() == pytest.approx(2.0)


def test_a_conv_variant_on_small_data_is_refused_by_name():
    with pytest.raises(ConfigError, match="dcgan with the conv architecture needs 28, 32 or 64 px"):
        tiny_config("dcgan", "digits")


def test_kl_warmup_ramps_beta():
    config = tiny_config("beta-vae", kl_warmup_steps=10).model
    model = build_model(config, (2,), 0)
    assert model.beta_at(0) == pytest.approx(0.4) and model.beta_at(50) == pytest.approx(4.0)


@pytest.mark.parametrize("variant,kind,shape,classes,message", [
    ("dcgan", "points", (2,), 8, "28, 32 or 64 px"),
    ("dcgan", "images", (1, 8, 8), 10, "28, 32 or 64 px"),
    ("cgan", "images", (1, 28, 28), 0, "needs labelled data"),
    ("vae", "points", (2,), 8, "Bernoulli"),
])
def test_models_that_cannot_fit_the_data_are_refused(variant, kind, shape, classes, message):
    config = tiny_config(variant, "fashion-mnist").model
    config.likelihood = "bernoulli"
    with pytest.raises(ConfigError, match=message):
        check_fits_data(config, kind, shape, classes)


def test_the_r1_gan_trains_longer_with_decay_on_the_toys_only():
    toy = make_config("gan-r1", "grid")
    assert (toy.model.r1_weight, toy.schedule.steps, toy.optim.lr_schedule) == (0.1, 16_000, "linear")
    images = make_config("gan-r1", "fashion-mnist")
    assert images.model.r1_weight == 0.1
    assert (images.schedule.steps, images.optim.lr_schedule) == (make_config("gan", "fashion-mnist").schedule.steps,
                                                                "constant")
    assert make_config("gan-r1", "grid", steps=100).schedule.steps == 100  # an explicit length wins


@pytest.mark.parametrize("variant,dataset,shape", [("cdcgan", "fashion-mnist", (1, 28, 28)),
                                                   ("conv-vae", "fashion-mnist", (1, 28, 28)),
                                                   ("hinge-sn", "ring", (2,))])
def test_weight_decay_spares_biases_and_normalisation_weights(variant, dataset, shape):
    """As nanoGPT's configure_optimizers: matrices and kernels decay, 1-D parameters do not;
    every parameter is in exactly one group."""
    config = tiny_config(variant, dataset, weight_decay=1e-3)
    model = build_model(config.model, shape, 10 if variant == "cdcgan" else 0)
    for name, optimizer in model.make_optimizers(config.optim).items():
        decayed, spared = optimizer.param_groups
        assert (decayed["weight_decay"], spared["weight_decay"]) == (1e-3, 0.0)
        assert decayed["params"] and all(p.dim() >= 2 for p in decayed["params"])
        assert spared["params"] and all(p.dim() < 2 for p in spared["params"])  # biases, norms, scalars
        network = getattr(model, name) if name != "vae" else model
        assert sorted(map(id, decayed["params"] + spared["params"])) == sorted(map(id, network.parameters()))
    without = build_model(tiny_config(variant, dataset).model, shape, 10 if variant == "cdcgan" else 0)
    for optimizer in without.make_optimizers(tiny_config(variant, dataset).optim).values():
        [group] = optimizer.param_groups
        assert group["weight_decay"] == 0
