"""``dcgan`` — Radford, Metz & Chintala 2016, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks".

Faithful (images): strided convolutions / fractionally strided convolutions instead of pooling;
no hidden dense layers (only G's input projection and D's output layer, as in the paper);
BatchNorm in G and D except G's output and D's input; ReLU in G with tanh output, LeakyReLU(0.2)
in D with a sigmoid output (applied inside the logistic loss); Adam lr 2e-4, β1 = 0.5; weights
from N(0, 0.02); z ~ U[-1, 1]^100; minibatch 128; images scaled to [-1, 1]; the non-saturating
generator loss.

Chosen where the paper is silent: 28×28 needs two up-samplings (7 → 14 → 28) instead of four, so
the 'full' profile uses G channels 256 → 128 and D channels 64 → 128 (the paper's 64×64 nets
are 1024 → 512 → 256 → 128); 'quick' halves/quarters the widths. The paper has no 2-D toy
experiment; the MLP form applies the same rules to fully connected layers (BN, ReLU in G;
LeakyReLU 0.2 and no BN on the input layer in D), 2 × 256 hidden units each.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from baselines import nets as N
from baselines.gan import GANConfig, GANSpec


@dataclass
class DCGANConfig(GANConfig):
    z_dist: str = "uniform"
    g_hidden: tuple[int, ...] = (256, 256)
    d_hidden: tuple[int, ...] = (256, 256)
    d_activation: str = "leaky_relu"
    d_batchnorm: bool = True
    batch_size: int = 128


class DCGANSpec(GANSpec):
    name = "dcgan"
    paper = "Radford et al. 2016, Unsupervised Representation Learning with Deep Convolutional GANs"
    config_class = DCGANConfig

    def profile_values(self, kind: str, profile: str) -> dict:
        if kind == "points":
            return dict(z_dim=2, batch_size=128, steps=3000 if profile == "quick" else 25000)
        if profile == "quick":
            return dict(g_width=32, d_width=32, batch_size=64, steps=1000, checkpoint_every=250)
        return dict(g_width=128, d_width=64, batch_size=128, steps=20000, checkpoint_every=2000)

    def build_discriminator(self, config: DCGANConfig) -> nn.Module:
        if config.data_kind == "points":
            d = N.mlp(config.data_shape[0], config.d_hidden, 1, activation="leaky_relu",
                      batchnorm=config.d_batchnorm, batchnorm_first=False)
            N.dcgan_init(d)
            return d
        return super().build_discriminator(config)

    def build_generator(self, config: DCGANConfig, extra_in: int = 0) -> nn.Module:
        g = super().build_generator(config, extra_in)
        N.dcgan_init(g)
        return g


SPEC = DCGANSpec()
