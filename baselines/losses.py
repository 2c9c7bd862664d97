"""Loss functions the baselines share, written from the papers' formulas on logits (stable)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

GENERATOR_LOSSES = ("saturating", "non-saturating")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """−[log D(x) + log(1 − D(G(z)))], averaged (Goodfellow et al. 2014, eq. 1)."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, kind: str) -> torch.Tensor:
    """Generator loss on D's logits ``l`` at G(z), with D(G(z)) = sigmoid(l).

    - ``saturating``: minimise log(1 − D(G(z))) = −softplus(l). Its gradient −sigmoid(l) vanishes
      when D confidently rejects the samples (D(G(z)) → 0), as Goodfellow et al. point out.
    - ``non-saturating``: maximise log D(G(z)), i.e. minimise softplus(−l); gradient −sigmoid(−l) → −1.
    """
    if kind == "saturating":
        return -F.softplus(fake_logits).mean()
    if kind == "non-saturating":
        return F.softplus(-fake_logits).mean()
    raise ValueError(f"generator_loss must be one of {GENERATOR_LOSSES}, got {kind!r}")


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(logvar)) ‖ N(0, I)) per example (Kingma & Welling 2014, appendix B)."""
    return -0.5 * torch.sum(1.0 + logvar - mu.pow(2) - logvar.exp(), dim=1)


def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x | logits) per example for x in [0, 1] (grey levels act as Bernoulli means)."""
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(dim=1)


def gaussian_log_likelihood(mean: torch.Tensor, logvar: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, diag exp(logvar)) per example."""
    ll = -0.5 * (math.log(2 * math.pi) + logvar + (x - mean).pow(2) / logvar.exp())
    return ll.flatten(1).sum(dim=1)
