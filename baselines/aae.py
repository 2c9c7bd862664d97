"""``aae`` — Makhzani et al. 2016, "Adversarial Autoencoders".

Faithful: a deterministic encoder q(z|x) and decoder trained jointly in two phases on every
minibatch: the *reconstruction* phase updates encoder and decoder to minimise reconstruction
error; the *regularisation* phase first updates a discriminator on z to tell samples of the prior
p(z) = N(0, I) from encoder codes, then updates the encoder (the GAN generator) to fool it.
Sampling decodes z ~ p(z). The discriminator is an MLP on z (the paper's: two hidden layers of
1000 ReLU units; 'quick' uses 2 × 256).

Chosen where the paper is silent or dated: Adam instead of SGD with momentum (lr 1e-3 for the
reconstruction phase; lr 2e-4, β1 = 0.5 for both adversarial updates, as GAN reproductions do);
the non-saturating loss for the encoder's adversarial update; z in R^8 for images (the paper's
MNIST likelihood experiment used an 8-D Gaussian prior) and R^2 for points; conv encoder/decoder
and Bernoulli reconstruction loss as in ``ae``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from baselines import nets as N
from baselines.ae import AEConfig, AESpec
from baselines.losses import discriminator_loss, generator_loss
from baselines.spec import Batch


@dataclass
class AAEConfig(AEConfig):
    z_dim: int = 8
    d_hidden: tuple[int, ...] = (1000, 1000)
    lr_adv: float = 2e-4
    beta1_adv: float = 0.5


class AAESpec(AESpec):
    name = "aae"
    paper = "Makhzani et al. 2016, Adversarial Autoencoders"
    config_class = AAEConfig

    def profile_values(self, kind: str, profile: str) -> dict:
        values = super().profile_values(kind, profile)
        if kind == "image":
            values.pop("z_dim", None)
        if profile == "quick":
            values["d_hidden"] = (256, 256)
        return values

    def build(self, config):
        nets = super().build(config)
        nets["Dz"] = N.mlp(config.z_dim, config.d_hidden, 1)
        return nets

    def make_optimizers(self, nets, config):
        opts = super().make_optimizers(nets, config)
        betas = (config.beta1_adv, 0.999)
        opts["Dz"] = torch.optim.Adam(nets["Dz"].parameters(), lr=config.lr_adv, betas=betas)
        opts["E_adv"] = torch.optim.Adam(nets["E"].parameters(), lr=config.lr_adv, betas=betas)
        return opts

    def train_step(self, nets, opts, batch: Batch, gen, config) -> dict[str, torch.Tensor]:
        # Reconstruction phase.
        rec = self.reconstruction_loss(nets["Dec"](nets["E"](batch.x)), batch.x, config)
        opts["AE"].zero_grad(set_to_none=True)
        rec.backward()
        opts["AE"].step()
        # Regularisation phase: discriminator on z, then the encoder as its generator.
        prior = self.latent(batch.x.shape[0], gen, config)
        with torch.no_grad():
            codes = nets["E"](batch.x)
        d_loss = discriminator_loss(nets["Dz"](prior).view(-1), nets["Dz"](codes).view(-1))
        opts["Dz"].zero_grad(set_to_none=True)
        d_loss.backward()
        opts["Dz"].step()
        g_loss = generator_loss(nets["Dz"](nets["E"](batch.x)).view(-1), "non-saturating")
        opts["E_adv"].zero_grad(set_to_none=True)
        g_loss.backward()
        opts["E_adv"].step()
        return {"loss_rec": rec.detach(), "loss_d": d_loss.detach(), "loss_e": g_loss.detach()}


SPEC = AAESpec()
