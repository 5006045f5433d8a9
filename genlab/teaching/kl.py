"""Which way round the KL divergence goes, in one dimension.

A two-mode mixture p is fitted by a single Gaussian q in two ways:
- forward KL(p || q), what maximum likelihood minimises (a VAE trains on the ELBO, a bound
  on log-likelihood): q must cover wherever p has mass, so it spreads over both modes;
- reverse KL(q || p): q is punished wherever it puts mass that p lacks, so it settles on
  one mode. A GAN's non-saturating generator loss, against an optimal discriminator,
  follows the gradient of KL(q || p) - 2 JS(q || p) (Arjovsky & Bottou 2017, Thm 2.5): mode
  seeking too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

# Gauss-Hermite nodes and weights for E_{x ~ N(0,1)}[f(x)] = sum_i w_i f(x_i) / sqrt(2 pi).
_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(80)
_GH_WEIGHTS = _GH_WEIGHTS / math.sqrt(2 * math.pi)


@dataclass(frozen=True)
class Gaussian:
    mean: float
    std: float

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        # log N(x; m, s^2) = -(x - m)^2 / (2 s^2) - log s - log(2 pi) / 2
        return -((x - self.mean) ** 2) / (2 * self.std**2) - math.log(self.std) - 0.5 * math.log(2 * math.pi)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return np.exp(self.log_pdf(x))


@dataclass(frozen=True)
class Mixture:
    """p(x) = w N(x; m1, s^2) + (1 - w) N(x; m2, s^2)."""

    m1: float
    m2: float
    std: float
    weight: float = 0.5

    @classmethod
    def symmetric(cls, separation: float, std: float, weight: float = 0.5) -> Mixture:
        return cls(-separation / 2, separation / 2, std, weight)

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        a = math.log(self.weight) + Gaussian(self.m1, self.std).log_pdf(x)
        b = math.log(1 - self.weight) + Gaussian(self.m2, self.std).log_pdf(x)
        return np.logaddexp(a, b)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return np.exp(self.log_pdf(x))

    def mode_count(self) -> int:
        """How many peaks p has: two Gaussians closer than about two widths merge into one."""
        lo, hi = min(self.m1, self.m2) - 4 * self.std, max(self.m1, self.m2) + 4 * self.std
        y = self.pdf(np.linspace(lo, hi, 4001))
        return int(((y[1:-1] > y[:-2]) & (y[1:-1] >= y[2:])).sum())


def gaussian_kl(p: Gaussian, q: Gaussian) -> float:
    """Closed form: KL(N(m1, s1^2) || N(m2, s2^2)) = log(s2/s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2."""
    return math.log(q.std / p.std) + (p.std**2 + (p.mean - q.mean) ** 2) / (2 * q.std**2) - 0.5


def kl_numeric(p, q, lo: float, hi: float, n: int = 20001) -> float:
    """KL(p || q) = integral of p(x) log(p(x) / q(x)) dx, by the trapezoid rule on [lo, hi]."""
    x = np.linspace(lo, hi, n)
    log_p = p.log_pdf(x)
    return float(np.trapezoid(np.exp(log_p) * (log_p - q.log_pdf(x)), x))


def fit_forward(p: Mixture) -> Gaussian:
    """argmin_q KL(p || q) over Gaussians q: match p's mean and variance.

    KL(p||q) = -H(p) - E_p[log q]; setting the derivatives of E_p[log q] to zero gives
    mean = E_p[x] and var = Var_p[x] = s^2 + w (1 - w) (m2 - m1)^2.
    """
    w = p.weight
    mean = w * p.m1 + (1 - w) * p.m2
    var = p.std**2 + w * (1 - w) * (p.m2 - p.m1) ** 2
    return Gaussian(mean, math.sqrt(var))


def reverse_kl(q: Gaussian, p: Mixture) -> float:
    """KL(q || p) = E_q[log q] - E_q[log p] = -H(q) - E_q[log p],
    with H(q) = log(s sqrt(2 pi e)) and E_q[log p] by Gauss-Hermite quadrature."""
    entropy = math.log(q.std * math.sqrt(2 * math.pi * math.e))
    expected_log_p = float(np.sum(_GH_WEIGHTS * p.log_pdf(q.mean + q.std * _GH_NODES)))
    return -entropy - expected_log_p


def fit_reverse(p: Mixture) -> Gaussian:
    """argmin_q KL(q || p) over Gaussians q, by L-BFGS from a start on each mode and one on
    the forward fit; the lowest of the three wins (the objective has a local minimum per
    mode once the modes are apart)."""
    forward = fit_forward(p)
    starts = [(p.m1, p.std), (p.m2, p.std), (forward.mean, forward.std)]
    best = None
    for mean, std in starts:
        res = minimize(lambda v: reverse_kl(Gaussian(v[0], math.exp(v[1])), p),
                       x0=[mean, math.log(std)], method="L-BFGS-B")
        if best is None or res.fun < best.fun:
            best = res
    return Gaussian(float(best.x[0]), float(math.exp(best.x[1])))


def plot_range(*dists: Mixture | Gaussian, width: float = 5.0) -> tuple[float, float]:
    """An x range that holds every mode of every distribution to `width` standard deviations."""
    points = [pt for d in dists for pt in ([(d.m1, d.std), (d.m2, d.std)] if isinstance(d, Mixture)
                                          else [(d.mean, d.std)])]
    return min(m - width * s for m, s in points), max(m + width * s for m, s in points)
