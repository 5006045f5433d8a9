"""The VAE family: an MLP VAE and a conv VAE, with beta, a Bernoulli or Gaussian
likelihood, KL warm-up and class conditioning (Kingma & Welling 2014; Higgins et al.
2017; Sohn et al. 2015)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.functional import binary_cross_entropy_with_logits

from genlab.config import ModelConfig, OptimConfig
from genlab.models.base import CurveGroup, GenerativeModel, adam, with_l1
from genlab.models.blocks import DownConvStack, UpConvStack, mlp


class Encoder(nn.Module):
    """x (+ one-hot label) -> (mu, logvar) of q(z|x)."""

    def __init__(self, config: ModelConfig, data_shape: tuple[int, ...], n_cond: int):
        super().__init__()
        if config.arch == "conv":
            self.features = DownConvStack(data_shape[0], data_shape[1], config.hidden)
            feat_dim = self.features.out_dim
        else:
            in_dim = int(torch.tensor(data_shape).prod())
            self.features = nn.Sequential(
                nn.Flatten(), mlp([in_dim] + [config.hidden] * config.depth, nn.ReLU), nn.ReLU())
            feat_dim = config.hidden
        self.heads = nn.Linear(feat_dim + n_cond, 2 * config.latent_dim)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.features(x)
        if cond is not None:
            h = torch.cat([h, cond], dim=1)
        mu, logvar = self.heads(h).chunk(2, dim=1)
        return mu, logvar


# The Gaussian decoder's scale sigma starts here, small beside the data (pixels in [0, 1],
# toys a few units across). Started at 1, the 2-D lab's VAE on the ring (radius 1) explained
# every point as decoder noise before its encoder carried any information: KL 0 and every
# sample at the origin (posterior collapse) on both seeds tried; from 0.1 it captured all 8
# modes within 250 steps on both (docs/benchmarks.md, "The 2-D lab at its defaults").
INITIAL_SIGMA = 0.1


class Decoder(nn.Module):
    """z (+ one-hot label) -> the parameters of p(x|z): Bernoulli logits, or a Gaussian mean
    with one learned scale sigma shared by every dimension (Rybkin et al. 2021)."""

    def __init__(self, config: ModelConfig, data_shape: tuple[int, ...], n_cond: int):
        super().__init__()
        self.data_shape = data_shape
        in_dim = config.latent_dim + n_cond
        if config.arch == "conv":
            self.net = UpConvStack(in_dim, data_shape[0], data_shape[1], config.hidden)
        else:
            out_dim = int(torch.tensor(data_shape).prod())
            self.net = mlp([in_dim] + [config.hidden] * config.depth + [out_dim], nn.ReLU)
        self.log_sigma = nn.Parameter(torch.tensor(math.log(INITIAL_SIGMA)))

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        v = z if cond is None else torch.cat([z, cond], dim=1)
        return self.net(v).view(-1, *self.data_shape)


class VAE(GenerativeModel):
    family = "vae"
    inference_parts = ("encoder", "decoder")

    def __init__(self, config: ModelConfig, data_shape: tuple[int, ...], n_classes: int):
        super().__init__(config, data_shape, n_classes)
        self.encoder = Encoder(config, self.data_shape, self.n_classes)
        self.decoder = Decoder(config, self.data_shape, self.n_classes)

    @classmethod
    def curves(cls, config: ModelConfig) -> list[CurveGroup]:
        return [CurveGroup(("recon", "kl"), "Reconstruction and KL"), CurveGroup(("loss",), "Loss")]

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None):
        """(mu, logvar) of the approximate posterior q(z|x)."""
        return self.encoder(x, self.one_hot(labels, len(x)))

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor,
                       noise_rng: torch.Generator | None = None) -> torch.Tensor:
        # z = mu + sigma * eps, eps ~ N(0, I): a sample of q(z|x) that gradients flow through.
        eps = torch.randn(mu.shape, device=mu.device, generator=noise_rng)
        return mu + torch.exp(0.5 * logvar) * eps

    def mean_of(self, out: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z) from the decoder's raw output."""
        if self.config.likelihood == "bernoulli" or self.is_image:
            return torch.sigmoid(out)
        return out

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.mean_of(self.decoder(z, self.one_hot(labels, len(z))))

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Decode the posterior mean of each input."""
        mu, _ = self.encode(x, labels)
        return self.generate(mu, labels)

    def neg_log_likelihood(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """-log p(x|z) per sample, summed over dimensions."""
        if self.config.likelihood == "bernoulli":
            # -sum_d [x_d log p_d + (1 - x_d) log(1 - p_d)], p = sigmoid(logits)
            return binary_cross_entropy_with_logits(out, x, reduction="none").flatten(1).sum(1)
        mean, log_sigma = self.mean_of(out), self.decoder.log_sigma
        # -log N(x; mean, sigma^2) = (x - mean)^2 / (2 sigma^2) + log sigma + log(2 pi) / 2
        per_dim = (x - mean) ** 2 / (2 * torch.exp(2 * log_sigma)) + log_sigma + 0.5 * math.log(2 * math.pi)
        return per_dim.flatten(1).sum(1)

    @staticmethod
    def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        # KL(N(mu, sigma^2) || N(0, 1)) = 1/2 (mu^2 + sigma^2 - 1 - log sigma^2), per dimension.
        return 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar)

    def beta_at(self, step: int) -> float:
        """beta, ramped linearly from 0 over the KL warm-up steps."""
        warm = self.config.kl_warmup_steps
        return self.config.beta * min(1.0, (step + 1) / warm) if warm else self.config.beta

    def make_optimizers(self, optim: OptimConfig) -> dict[str, torch.optim.Optimizer]:
        return {"vae": adam(self, optim, optim.lr)}

    def loss_function(self, x: torch.Tensor, labels: torch.Tensor | None, noise_rng: torch.Generator | None,
                      beta: float = 1.0) -> dict[str, torch.Tensor]:
        """The terms of -ELBO_beta on a batch, each a mean over the batch, with one z ~ q(z|x)
        per point: recon = -log p(x|z), kl = KL(q(z|x) || p(z)) and its parts per latent
        dimension, loss = recon + beta * kl. With beta = 1, -loss is the ELBO."""
        cond = self.one_hot(labels, len(x))
        mu, logvar = self.encoder(x, cond)
        out = self.decoder(self.reparameterize(mu, logvar, noise_rng), cond)
        recon = self.neg_log_likelihood(out, x).mean()
        kl_dims = self.kl_per_dim(mu, logvar).mean(0)
        kl = kl_dims.sum()
        # -ELBO_beta = E_q[-log p(x|z)] + beta * KL(q(z|x) || p(z))
        return {"loss": recon + beta * kl, "recon": recon, "kl": kl, "kl_per_dim": kl_dims}

    def train_step(self, batches, optimizers, step, noise_rng):
        x, y = batches.draw()
        beta = self.beta_at(step)
        terms = self.loss_function(x, y if self.n_classes else None, noise_rng, beta)
        optimizer = optimizers["vae"]
        optimizer.zero_grad(set_to_none=True)
        with_l1(terms["loss"], self, self.config.l1_weight).backward()
        optimizer.step()
        return {**{k: v.detach() for k, v in terms.items()}, "beta": beta}
