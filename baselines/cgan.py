"""``cgan`` — Mirza & Osindero 2014, "Conditional Generative Adversarial Nets".

Faithful: the label y is fed to both G and D, and the minimax game is played on p(x | y);
sampling is per class (``sample(n, seed)`` cycles through the classes so each gets n/K samples;
``TrainedModel.sample_labels(n)`` returns them). Generator updates use the labels of the real
minibatch, so classes are drawn with their training frequencies.

Chosen where the paper is silent or dated: y enters through a learned embedding (the paper's
one-hot input does not scale to stacked MNIST's 1000 classes) of size min(K, 50): concatenated
to z in G; in the conv D it is mapped by a linear layer to one extra H×W input plane, in the MLP
D concatenated to the input point. Networks, optimiser and losses are those of ``gan`` (DCGAN
conv nets for images, PacGAN toy MLPs for points).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from baselines import nets as N
from baselines.gan import GANConfig, GANSpec


@dataclass
class CGANConfig(GANConfig):
    embed_dim: int = 50  # capped at the number of classes


class LabelPlane(nn.Module):
    """Label → learned embedding → one H×W plane appended to the image channels."""

    def __init__(self, n_classes: int, embed_dim: int, image_shape: tuple[int, ...]):
        super().__init__()
        self.shape = image_shape
        self.embed = nn.Embedding(n_classes, embed_dim)
        self.to_plane = nn.Linear(embed_dim, image_shape[1] * image_shape[2])

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        return self.to_plane(self.embed(labels)).view(-1, 1, self.shape[1], self.shape[2])


class CGANSpec(GANSpec):
    name = "cgan"
    paper = "Mirza & Osindero 2014, Conditional Generative Adversarial Nets"
    config_class = CGANConfig
    conditioning = "class"

    def _embed_dim(self, config) -> int:
        return min(config.embed_dim, int(config.n_classes))

    def build(self, config):
        e = self._embed_dim(config)
        nets = nn.ModuleDict({"G": self.build_generator(config, extra_in=e), "G_embed": nn.Embedding(config.n_classes, e)})
        if config.data_kind == "points":
            nets["D"] = N.mlp(config.data_shape[0] + e, config.d_hidden, 1, activation=config.d_activation,
                              maxout_pieces=config.maxout_pieces)
            nets["D_embed"] = nn.Embedding(config.n_classes, e)
        else:
            nets["D"] = N.ConvDiscriminator(config.data_shape, config.d_width, in_channels=config.data_shape[0] + 1)
            N.dcgan_init(nets["D"])
            nets["D_embed"] = LabelPlane(config.n_classes, e, config.data_shape)
        return nets

    def make_optimizers(self, nets, config):
        betas = (config.beta1, config.beta2)
        g = list(nets["G"].parameters()) + list(nets["G_embed"].parameters())
        d = list(nets["D"].parameters()) + list(nets["D_embed"].parameters())
        return {"G": torch.optim.Adam(g, lr=config.lr_g, betas=betas),
                "D": torch.optim.Adam(d, lr=config.lr_d, betas=betas)}

    def generate(self, nets, cond, z, config):
        return super().generate(nets, None, torch.cat([z, nets["G_embed"](cond)], dim=1), config)

    def discriminate(self, nets, x, cond, config):
        return nets["D"](torch.cat([x, nets["D_embed"](cond)], dim=1)).view(-1)


SPEC = CGANSpec()
