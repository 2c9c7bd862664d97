"""``minibatch-gan`` — Salimans et al. 2016, "Improved Techniques for Training GANs", §3.2.

Faithful: the minibatch discrimination layer. For features f(x_i) ∈ R^A of D's last hidden layer
and a learned tensor T ∈ R^{A×B×C}, M_i = f(x_i)·T ∈ R^{B×C},
c_b(x_i, x_j) = exp(−‖M_{i,b} − M_{j,b}‖_L1), o(x_i)_b = Σ_{j≠i} c_b(x_i, x_j), and
[f(x_i), o(x_i)] feeds D's output layer. Real and generated samples are discriminated in separate
minibatches, as in the paper. B = 100 kernels of C = 5 dimensions and T ~ N(0, 0.05²), as in the
authors' code ('quick' halves B to 50: the
pairwise L1 distances dominate the CPU cost).

Chosen: the sum skips j = i as the authors' code does (the paper's formula includes it, which
only adds the constant 1); no per-kernel bias; otherwise ``gan``'s nets, losses and optimiser
(DCGAN conv nets for images; the PacGAN toy MLPs for points; non-saturating G loss). The paper's
feature matching and other techniques are not part of this baseline: it isolates minibatch
discrimination.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from baselines import nets as N
from baselines.gan import GANConfig, GANSpec


class MinibatchDiscrimination(nn.Module):
    """Append o(x_i) ∈ R^B, the summed closeness of x_i to the rest of its minibatch, to f(x_i)."""

    def __init__(self, in_features: int, n_kernels: int = 100, kernel_dim: int = 5, init_std: float = 0.05):
        super().__init__()
        self.n_kernels, self.kernel_dim = n_kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, n_kernels * kernel_dim) * init_std)
        self.out_features = in_features + n_kernels

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        m = (f @ self.T).view(-1, self.n_kernels, self.kernel_dim).transpose(0, 1)  # B×N×C
        l1 = torch.cdist(m, m, p=1.0)  # B×N×N: ‖M_{i,b} − M_{j,b}‖₁
        o = torch.exp(-l1).sum(dim=2) - 1.0  # drop j = i, whose term is exp(0) = 1
        return torch.cat([f, o.t()], dim=1)


class MinibatchDiscriminator(nn.Module):
    def __init__(self, body: nn.Module, body_features: int, n_kernels: int, kernel_dim: int):
        super().__init__()
        self.body = body
        self.minibatch = MinibatchDiscrimination(body_features, n_kernels, kernel_dim)
        self.head = nn.Linear(self.minibatch.out_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.minibatch(self.body(x)))


@dataclass
class MinibatchGANConfig(GANConfig):
    n_kernels: int = 100
    kernel_dim: int = 5


class MinibatchGANSpec(GANSpec):
    name = "minibatch-gan"
    paper = "Salimans et al. 2016, Improved Techniques for Training GANs (minibatch discrimination)"
    config_class = MinibatchGANConfig

    def profile_values(self, kind: str, profile: str) -> dict:
        values = super().profile_values(kind, profile)
        if profile == "quick":
            values["n_kernels"] = 50  # the pairwise-distance layer dominates the CPU cost
        return values

    def build_discriminator(self, config):
        if config.data_kind == "points":
            body = N.mlp_body(self.d_input_shape(config)[0], config.d_hidden, activation=config.d_activation,
                              maxout_pieces=config.maxout_pieces)
            width = config.d_hidden[-1]
        else:
            body = N.ConvFeatures(self.d_input_shape(config), config.d_width)
            N.dcgan_init(body)
            width = body.out_features
        d = MinibatchDiscriminator(body, width, config.n_kernels, config.kernel_dim)
        if config.data_kind == "points" and config.init_std > 0:
            N.normal_init(d.body, config.init_std)
            N.normal_init(d.head, config.init_std)
        return d


SPEC = MinibatchGANSpec()
