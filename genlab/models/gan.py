"""The GAN family: an MLP GAN and a DCGAN, with five objectives and the usual options
(spectral norm, R1, gradient penalty, n_critic, PacGAN packing, class conditioning)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import get_total_norm

from genlab.config import ModelConfig, OptimConfig
from genlab.models import gan_losses
from genlab.models.base import CurveGroup, GenerativeModel, adam, with_l1
from genlab.models.blocks import DownConvStack, UpConvStack, maybe_sn, mlp
from genlab.models.priors import training_codes


class Generator(nn.Module):
    """z (+ one-hot label) -> a sample in model space: tanh images in [-1, 1], or raw points."""

    def __init__(self, config: ModelConfig, data_shape: tuple[int, ...], n_cond: int):
        super().__init__()
        self.data_shape = data_shape
        in_dim = config.latent_dim + n_cond
        out_dim = int(torch.tensor(data_shape).prod())
        if config.arch == "conv":
            self.net = UpConvStack(in_dim, data_shape[0], data_shape[1], config.hidden)
        else:
            self.net = mlp([in_dim] + [config.hidden] * config.depth + [out_dim], nn.ReLU,
                           batch_norm=len(data_shape) == 3)
        self.squash = len(data_shape) == 3

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        v = z if cond is None else torch.cat([z, cond], dim=1)
        out = self.net(v).view(-1, *self.data_shape)
        return torch.tanh(out) if self.squash else out


class Discriminator(nn.Module):
    """The discriminator: features -> one score. Takes `pack` samples at once (PacGAN),
    and for a conditional GAN adds a projection term <embed(y), features> (Miyato &
    Koyama 2018)."""

    def __init__(self, config: ModelConfig, data_shape: tuple[int, ...], n_classes: int):
        super().__init__()
        sn, pack = config.spectral_norm, config.pack
        if config.arch == "conv":
            self.features = DownConvStack(data_shape[0] * pack, data_shape[1], config.hidden, sn)
            feat_dim = self.features.out_dim
        else:
            in_dim = int(torch.tensor(data_shape).prod()) * pack
            self.features = nn.Sequential(
                nn.Flatten(), mlp([in_dim] + [config.hidden] * config.depth, nn.LeakyReLU, sn=sn),
                nn.LeakyReLU(0.2))
            feat_dim = config.hidden
        self.head = maybe_sn(nn.Linear(feat_dim, 1), sn)
        self.embed = maybe_sn(nn.Embedding(n_classes, feat_dim), sn) if n_classes else None

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        h = self.features(x)
        out = self.head(h).squeeze(1)
        if self.embed is not None and labels is not None:
            out = out + (self.embed(labels) * h).sum(dim=1)
        return out


class GAN(GenerativeModel):
    family = "gan"
    inference_parts = ("generator",)

    def __init__(self, config: ModelConfig, data_shape: tuple[int, ...], n_classes: int):
        super().__init__(config, data_shape, n_classes)
        self.generator = Generator(config, self.data_shape, self.n_classes)
        self.discriminator = Discriminator(config, self.data_shape, self.n_classes)

    @classmethod
    def curves(cls, config: ModelConfig) -> list[CurveGroup]:
        groups = [CurveGroup(("loss_d", "loss_g"), "Losses"), CurveGroup(("d_real", "d_fake"), "D(x) and D(G(z))"),
                  CurveGroup(("grad_norm_d", "grad_norm_g"), "Gradient norms")]
        if config.loss == "wgan-gp":
            groups.append(CurveGroup(("critic_gap", "gp"), "Critic gap (Wasserstein estimate) and penalty"))
        return groups

    # Images live in [0, 1] outside the model and in [-1, 1] inside (the range of tanh).
    def to_model_space(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2 - 1 if self.is_image else x

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        out = self.generator(z, self.one_hot(labels, len(z)))
        return (out + 1) / 2 if self.is_image else out

    def pack(self, x: torch.Tensor) -> torch.Tensor:
        """PacGAN: m consecutive samples become one discriminator input, stacked along
        channels (images) or concatenated (vectors)."""
        m = self.config.pack
        if m == 1:
            return x
        return x.reshape(x.shape[0] // m, m * x.shape[1], *x.shape[2:])

    def make_optimizers(self, optim: OptimConfig) -> dict[str, torch.optim.Optimizer]:
        return {"generator": adam(self.generator, optim, optim.lr),
                "discriminator": adam(self.discriminator, optim, optim.lr_d or optim.lr)}

    def discriminator_loss(self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None,
                           noise_rng: torch.Generator) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """L_D on a real and a generated batch (model space) with the configured penalties.
        Returns the loss and, detached, the scores r = D(x), f = D(G(z)) and each penalty."""
        c, D = self.config, self.discriminator
        real_in, fake_in = self.pack(real), self.pack(fake)
        if c.r1_weight > 0:
            real_in.requires_grad_(True)
        r, f = D(real_in, labels), D(fake_in, labels)
        loss = gan_losses.d_loss(c.loss, r, f)
        terms = {}
        if c.loss == "wgan-gp":
            gp = gan_losses.gradient_penalty(D, real_in, fake_in, labels, noise_rng)
            # L_D = E[f] - E[r] + lambda * GP
            loss = loss + c.gp_weight * gp
            terms["gp"] = gp.detach()
        if c.r1_weight > 0:
            r1 = gan_losses.r1_penalty(r, real_in)
            # L_D += gamma / 2 * E||grad D(x)||^2
            loss = loss + 0.5 * c.r1_weight * r1
            terms["r1"] = r1.detach()
        return loss, {**terms, "r": r.detach(), "f": f.detach()}

    def generator_loss(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """L_G on generated samples of the codes z."""
        fake = self.generator(z, self.one_hot(labels, len(z)))
        return gan_losses.g_loss(self.config.loss, self.discriminator(self.pack(fake), labels))

    def train_step(self, batches, optimizers, step, noise_rng):
        out: dict[str, torch.Tensor] = {}
        # Discriminator: n_critic updates, each on a fresh real batch and fresh noise.
        for _ in range(self.config.n_critic):
            x, y = batches.draw()
            real = self.to_model_space(x)
            labels = y if self.n_classes else None
            z = training_codes(len(real), self.latent_dim, self.config.prior, noise_rng, real.device)
            with torch.no_grad():
                fake = self.generator(z, self.one_hot(labels, len(z)))
            loss_d, terms = self.discriminator_loss(real, fake, labels, noise_rng)
            r, f = terms.pop("r"), terms.pop("f")
            out.update(terms)
            loss_d = with_l1(loss_d, self.discriminator, self.config.l1_weight)
            out["grad_norm_d"] = _update(optimizers["discriminator"], loss_d, self.discriminator)

        # Generator: one update on fresh noise, with the labels of the last real batch.
        z = training_codes(len(real), self.latent_dim, self.config.prior, noise_rng, real.device)
        loss_g = self.generator_loss(z, labels)
        loss_g = with_l1(loss_g, self.generator, self.config.l1_weight)
        out["grad_norm_g"] = _update(optimizers["generator"], loss_g, self.generator)
        out.update(loss_d=loss_d.detach(), loss_g=loss_g.detach(), **self._score_means(r, f))
        return out

    def probes(self, real: torch.Tensor) -> dict[str, float]:
        """D's slope with respect to its input, E ||grad_x D(x)||_2, at real points and at
        generated ones (fixed codes): what spectral norm caps (at most 1 for D as a whole) and
        R1 penalises (at real points). On 2-D data, unconditional, the regularisation
        lesson's runs; measured with both networks in eval mode, so that spectral norm's power
        iteration (and batch norm's statistics) stay as training left them."""
        if self.is_image or len(self.data_shape) != 1 or self.n_classes:
            return {}
        modes = {module: module.training for module in self.modules()}
        self.eval()
        try:
            with torch.no_grad():
                fake = self.generate(self.codes(len(real), seed=0))
            return {"slope_d_real": self._slope(self.to_model_space(real)), "slope_d_fake": self._slope(fake)}
        finally:
            for module, training in modes.items():
                module.training = training

    def _slope(self, x: torch.Tensor) -> float:
        x = self.pack(x).detach().requires_grad_(True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad(self.discriminator(x, None).sum(), x)
        return grad.flatten(1).norm(dim=1).mean().item()

    def _score_means(self, r: torch.Tensor, f: torch.Tensor) -> dict[str, torch.Tensor]:
        """D(x) and D(G(z)) as probabilities where D is a classifier, raw scores otherwise;
        for WGAN-GP also E[D(x)] - E[D(G(z))], the critic's estimate of the Wasserstein distance."""
        logistic = gan_losses.is_logistic(self.config.loss)
        means = {"d_real": (torch.sigmoid(r) if logistic else r).mean(),
                 "d_fake": (torch.sigmoid(f) if logistic else f).mean()}
        if self.config.loss == "wgan-gp":
            means["critic_gap"] = r.mean() - f.mean()
        return means


def _update(optimizer: torch.optim.Optimizer, loss: torch.Tensor, network: nn.Module) -> torch.Tensor:
    """One gradient step on `loss`; returns the norm of `network`'s gradient."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = get_total_norm([p.grad for p in network.parameters() if p.grad is not None])
    optimizer.step()
    return norm
