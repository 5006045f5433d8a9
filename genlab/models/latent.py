"""Latent space: walks between codes (lerp, slerp), single-dimension traversals, a VAE's
dimensions ordered by their KL, the decoded 2-D manifold's grid, a 2-D projection of codes,
GAN inversion (the code whose image is nearest a real one), the seed a walk should go to,
and where walks go under each prior."""

from __future__ import annotations

import torch


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(1 - t) a + t b for each t (a column [K, 1] of weights in [0, 1])."""
    return (1 - t) * a + t * b


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation (Shoemake 1985; White 2016 for GANs): with omega the angle
    between a and b, sin((1 - t) omega) / sin(omega) a + sin(t omega) / sin(omega) b.
    Under a Gaussian prior it keeps the norm of intermediate codes typical, unlike lerp.
    Nearly parallel codes fall back to lerp."""
    cos = torch.nn.functional.cosine_similarity(a, b, dim=-1).clamp(-1, 1)
    omega = torch.arccos(cos)
    if float(omega.abs().max()) < 1e-4:
        return lerp(a, b, t)
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b


def interpolate(a: torch.Tensor, b: torch.Tensor, steps: int, spherical: bool = False) -> torch.Tensor:
    """`steps` codes from a to b inclusive, as rows [steps, D]."""
    t = torch.linspace(0, 1, steps, dtype=a.dtype, device=a.device).unsqueeze(1)
    a, b = a.reshape(1, -1), b.reshape(1, -1)
    return slerp(a, b, t) if spherical else lerp(a, b, t)


@torch.no_grad()
def walk_reach(prior: str, latent_dim: int, pairs: int = 256) -> dict[str, dict[str, float]]:
    """Where walks between the codes of seed pairs (0, 1), (2, 3), ... go under a prior, for
    lerp and slerp: the norm of the midpoint over the endpoints' mean norm (a normal prior's
    codes all lie near norm sqrt(d); a midpoint far inside that shell is a code the
    generator rarely saw), and the share of the walk's coordinates outside [-1, 1] (outside a
    uniform prior's cube: codes the generator never saw)."""
    from genlab.models.priors import seeded_codes

    codes = seeded_codes(2 * pairs, latent_dim, seed=0, prior=prior)
    a, b = codes[0::2], codes[1::2]
    t = torch.linspace(0, 1, 9).reshape(1, 9, 1)
    ends = (a.norm(dim=1) + b.norm(dim=1)) / 2
    reach = {}
    for name, walk in (("lerp", lerp), ("slerp", slerp)):
        path = torch.stack([walk(a[i:i + 1], b[i:i + 1], t[0]) for i in range(pairs)])  # [pairs, 9, d]
        reach[name] = {"midpoint_norm": (path[:, 4].norm(dim=1) / ends).mean().item(),
                       "outside_cube": (path.abs() > 1).double().mean().item()}
    return reach


def traverse(z: torch.Tensor, dim: int, values: torch.Tensor) -> torch.Tensor:
    """Copies of one code with dimension `dim` set to each of `values`: [len(values), D]."""
    out = z.reshape(1, -1).repeat(len(values), 1)
    out[:, dim] = values
    return out


def dims_by_kl(records: list[dict], latent_dim: int) -> list[int] | None:
    """A VAE's latent dimensions, the most used first: sorted by the KL per dimension of the
    last metrics line that has it. None when no line has KL for `latent_dim` dimensions."""
    kl = next((r["kl_per_dim"] for r in reversed(records) if "kl_per_dim" in r), None)
    if not kl or len(kl) != latent_dim:
        return None
    return sorted(range(latent_dim), key=lambda i: -kl[i])


def manifold_codes(n: int = 15, span: float = 3.0) -> torch.Tensor:
    """An n x n grid of 2-D codes over [-span, span]^2, rows from top (high z2) to bottom."""
    ticks = torch.linspace(-span, span, n)
    z2, z1 = torch.meshgrid(ticks.flip(0), ticks, indexing="ij")
    return torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=1)


def project_2d(codes: torch.Tensor) -> tuple[torch.Tensor, tuple[str, str]]:
    """Codes as 2-D points: as they are when 2-D, else their first two principal components."""
    if codes.shape[1] == 2:
        return codes, ("z1", "z2")
    if codes.shape[1] == 1:
        return torch.cat([codes, torch.zeros_like(codes)], dim=1), ("z1", "-")
    centred = codes - codes.mean(0, keepdim=True)
    _, _, v = torch.pca_lowrank(centred, q=2, center=False)
    return centred @ v[:, :2], ("PC 1", "PC 2")


def search_codes(model, target: torch.Tensor, observed: torch.Tensor | None = None, steps: int = 300,
                 lr: float = 0.05, seed: int = 0, labels: torch.Tensor | None = None,
                 start: torch.Tensor | None = None) -> torch.Tensor:
    """GAN inversion: the codes [N, D] whose images best match the targets [N, ...] on the
    pixels `observed` marks (1 = seen; default every pixel), by Adam on z (its learning rate
    decayed linearly to 0) from `start` or from the prior's codes of `seed`:

        z* = argmin_z  sum_observed (G(z) - x)^2 / |observed|  +  1e-3 ||z||^2 / d

    (the small prior term keeps z where G was trained). Each image's loss is its own mean,
    summed, so no image's code depends on the others; the model's weights stay untouched."""
    was_training = model.training
    model.eval()
    seen = torch.ones_like(target) if observed is None else observed
    z = (model.codes(len(target), seed) if start is None else start.clone()).to(target.device)
    z.requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=lr)
    per_image = seen.expand_as(target).flatten(1).sum(1).clamp(min=1)
    with torch.enable_grad():  # a caller may be inside torch.no_grad
        for step in range(steps):
            # lr (1 - t / T): Adam's steps shrink to nothing, so z settles instead of jittering by ~lr.
            optimizer.param_groups[0]["lr"] = lr * (1 - step / steps)
            err = (((model.generate(z, labels) - target) ** 2 * seen).flatten(1).sum(1) / per_image).sum()
            (z.grad,) = torch.autograd.grad(err + 1e-3 * (z ** 2).mean(1).sum(), z)
            optimizer.step()
    model.train(was_training)
    return z.detach()


def invert(model, target: torch.Tensor, steps: int = 300, lr: float = 0.05, seed: int = 0,
           labels: torch.Tensor | None = None) -> tuple[torch.Tensor, float]:
    """One real sample's code [1, D] (`search_codes` on every pixel) and the final mean
    squared error of its image."""
    x = target.reshape(1, *target.shape[-len(model.data_shape):])
    z = search_codes(model, x, steps=steps, lr=lr, seed=seed, labels=labels)
    with torch.no_grad():
        return z, ((model.generate(z, labels) - x) ** 2).mean().item()


@torch.no_grad()
def farthest_seed(model, seed: int, candidates: int = 32) -> int:
    """Among the next `candidates` seeds, the one whose decoded code differs most from
    `seed`'s (mean squared difference of the outputs): a walk to it shows a visible change,
    where a walk to seed + 1 may stay within one kind of image."""
    codes = torch.cat([model.codes(1, s) for s in range(seed, seed + candidates + 1)])
    out = model.generate(codes).flatten(1)
    return seed + 1 + int(((out[1:] - out[:1]) ** 2).mean(1).argmax())
