"""The GAN family: an MLP GAN and a DCGAN, with five objectives and the usual options
(spectral norm, R1, gradient penalty, n_critic, PacGAN packing, class conditioning)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import get_total_norm

from genlab.config import ModelConfig
from genlab.models import gan_losses
from genlab.models.base import GenerativeModel
from genlab.models.blocks import DownConvStack, UpConvStack, maybe_sn, mlp


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


class Critic(nn.Module):
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
        self.discriminator = Critic(config, self.data_shape, self.n_classes)

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

    def make_optimizers(self, lr, lr_d, betas, weight_decay):
        return {
            "generator": torch.optim.Adam(self.generator.parameters(), lr=lr, betas=betas,
                                          weight_decay=weight_decay),
            "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=lr_d or lr,
                                              betas=betas, weight_decay=weight_decay),
        }

    def train_step(self, batches, optimizers, step, gen):
        c = self.config
        G, D = self.generator, self.discriminator
        opt_g, opt_d = optimizers["generator"], optimizers["discriminator"]
        bce_like = c.loss in ("minimax", "non-saturating")
        out: dict[str, torch.Tensor] = {}

        # Discriminator: n_critic updates, each on a fresh real batch and fresh noise.
        for _ in range(c.n_critic):
            x, y = batches.next()
            real = self.to_model_space(x)
            labels = y if self.n_classes else None
            z = torch.randn(len(real), self.latent_dim, device=real.device, generator=gen)
            with torch.no_grad():
                fake = G(z, self.one_hot(labels, len(z)))
            real_in, fake_in = self.pack(real), self.pack(fake)
            if c.r1_weight > 0:
                real_in.requires_grad_(True)
            r, f = D(real_in, labels), D(fake_in, labels)
            loss_d = gan_losses.d_loss(c.loss, r, f)
            if c.loss == "wgan-gp":
                gp = gan_losses.gradient_penalty(D, real_in, fake_in, labels, gen)
                # L_D = E[f] - E[r] + lambda * GP
                loss_d = loss_d + c.gp_weight * gp
                out["gp"] = gp.detach()
            if c.r1_weight > 0:
                r1 = gan_losses.r1_penalty(r, real_in)
                # L_D += gamma / 2 * E||grad D(x)||^2
                loss_d = loss_d + 0.5 * c.r1_weight * r1
                out["r1"] = r1.detach()
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            out["grad_norm_d"] = get_total_norm([p.grad for p in D.parameters() if p.grad is not None])
            opt_d.step()

        # Generator: one update on fresh noise, with the labels of the last real batch.
        z = torch.randn(len(real), self.latent_dim, device=real.device, generator=gen)
        f_g = D(self.pack(G(z, self.one_hot(labels, len(z)))), labels)
        loss_g = gan_losses.g_loss(c.loss, f_g)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        out["grad_norm_g"] = get_total_norm([p.grad for p in G.parameters() if p.grad is not None])
        opt_g.step()

        r, f = r.detach(), f.detach()
        out.update(loss_d=loss_d.detach(), loss_g=loss_g.detach(),
                   # D(x) and D(G(z)) as probabilities where D is a classifier, raw scores otherwise.
                   d_real=(torch.sigmoid(r) if bce_like else r).mean(),
                   d_fake=(torch.sigmoid(f) if bce_like else f).mean())
        if c.loss == "wgan-gp":
            # E[D(x)] - E[D(G(z))]: the critic's estimate of the Wasserstein distance.
            out["critic_gap"] = r.mean() - f.mean()
        return out
