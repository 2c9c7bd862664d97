"""``gan`` — Goodfellow et al. 2014, "Generative Adversarial Nets".

Faithful: the minimax value function; ``d_steps`` (k) discriminator updates per generator update,
each on its own real minibatch (Algorithm 1, k = 1 as in the paper's experiments); both generator
losses, selectable: ``saturating`` (minimise log(1 − D(G(z)))) and ``non-saturating`` (maximise
log D(G(z)), which the paper recommends in practice and is the default).

Where the paper is silent or dated, and what we chose:

- 2-D points: the GAN row of PacGAN (Lin et al. 2018, Table 1) that genbench compares against,
  using PacGAN/VEEGAN's toy setup as we read PacGAN's appendix: G = 4 hidden layers of 400 ReLU
  units with BatchNorm, D = 3 hidden layers of 200 maxout units (5 pieces, as in Goodfellow's own
  MNIST D), z ~ N(0, I₂), Adam lr 1e-4, batch 100 (β1 = 0.5 is our choice). The 'quick' profile
  narrows the nets to G 3 × 128, D 2 × 128 (maxout) and trains 2,000 steps; the learning rate
  stays at 1e-4 (1e-3 covered 6 instead of 8 ring8 modes with 14 % instead of 30 % of the samples
  within 3σ, seed 0).
- Images: Goodfellow's maxout MLPs and SGD+momentum are superseded; like the mode-collapse papers
  we compare against we use the DCGAN conv nets of ``baselines.nets`` with Adam(2e-4, β1 = 0.5)
  and z ~ N(0, I₁₀₀). ``dcgan`` differs by fixing every other DCGAN choice (uniform z, init...).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from baselines import nets as N
from baselines.losses import GENERATOR_LOSSES, discriminator_loss, generator_loss
from baselines.spec import BaseConfig, Batch, ModelSpec


@dataclass
class GANConfig(BaseConfig):
    z_dim: int = 100
    z_dist: str = "gaussian"  # 'gaussian' N(0, I) | 'uniform' U[-1, 1]
    generator_loss: str = "non-saturating"
    d_steps: int = 1  # k in Algorithm 1
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    # 2-D points (MLPs)
    g_hidden: tuple[int, ...] = (400, 400, 400, 400)
    g_batchnorm: bool = True
    d_hidden: tuple[int, ...] = (200, 200, 200)
    d_activation: str = "maxout"  # maxout | relu | leaky_relu | tanh
    maxout_pieces: int = 5
    # images (DCGAN-style conv nets): channel widths
    g_width: int = 64
    d_width: int = 64

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.generator_loss not in GENERATOR_LOSSES:
            raise ValueError(f"generator_loss must be one of {GENERATOR_LOSSES}, got {self.generator_loss!r}")
        if self.z_dist not in ("gaussian", "uniform"):
            raise ValueError(f"z_dist must be 'gaussian' or 'uniform', got {self.z_dist!r}")
        if self.d_steps < 1 or self.z_dim < 1:
            raise ValueError("d_steps and z_dim must be >= 1")


class GANSpec(ModelSpec):
    """Goodfellow's GAN; the other adversarial baselines subclass it and change one part."""

    name = "gan"
    paper = "Goodfellow et al. 2014, Generative Adversarial Nets"
    config_class = GANConfig
    image_range = "tanh"

    def profile_values(self, kind: str, profile: str) -> dict:
        if kind == "points":
            values = dict(z_dim=2, batch_size=100, lr_g=1e-4, lr_d=1e-4, beta1=0.5, steps=25000)
            if profile == "quick":
                values.update(g_hidden=(128, 128, 128), d_hidden=(128, 128), steps=2000)
            return values
        if profile == "quick":
            return dict(g_width=32, d_width=32, batch_size=64, steps=1000, checkpoint_every=250)
        return dict(g_width=128, d_width=64, batch_size=128, steps=20000, checkpoint_every=2000)

    # --- networks ---------------------------------------------------------------------------
    def build_generator(self, config: GANConfig, extra_in: int = 0) -> nn.Module:
        if config.data_kind == "points":
            g = N.mlp(config.z_dim + extra_in, config.g_hidden, config.data_shape[0], batchnorm=config.g_batchnorm)
            return g
        g = N.ConvGenerator(config.z_dim + extra_in, config.data_shape, config.g_width)
        N.dcgan_init(g)
        return g

    def build_discriminator(self, config: GANConfig) -> nn.Module:
        if config.data_kind == "points":
            return N.mlp(config.data_shape[0], config.d_hidden, 1, activation=config.d_activation,
                         maxout_pieces=config.maxout_pieces)
        d = N.ConvDiscriminator(config.data_shape, config.d_width)
        N.dcgan_init(d)
        return d

    def build(self, config: GANConfig) -> nn.ModuleDict:
        return nn.ModuleDict({"G": self.build_generator(config), "D": self.build_discriminator(config)})

    def make_optimizers(self, nets, config: GANConfig):
        betas = (config.beta1, config.beta2)
        return {"G": torch.optim.Adam(nets["G"].parameters(), lr=config.lr_g, betas=betas),
                "D": torch.optim.Adam(nets["D"].parameters(), lr=config.lr_d, betas=betas)}

    # --- forward passes -------------------------------------------------------------------------
    def latent(self, n: int, gen: torch.Generator, config: GANConfig) -> torch.Tensor:
        if config.z_dist == "uniform":
            return torch.rand(n, config.z_dim, generator=gen, device=gen.device) * 2.0 - 1.0
        return torch.randn(n, config.z_dim, generator=gen, device=gen.device)

    def generate(self, nets, cond: torch.Tensor | None, z: torch.Tensor, config: GANConfig) -> torch.Tensor:
        out = nets["G"](z)
        return torch.tanh(out) if config.data_kind == "image" else out

    def discriminate(self, nets, x: torch.Tensor, cond: torch.Tensor | None, config: GANConfig) -> torch.Tensor:
        return nets["D"](x).view(-1)

    # --- training -------------------------------------------------------------------------------
    def examples_per_step(self, config: GANConfig) -> int:
        return config.batch_size * config.d_steps

    def discriminator_step(self, nets, opts, x, cond, gen, config) -> torch.Tensor:
        z = self.latent(x.shape[0], gen, config)
        with torch.no_grad():
            fake = self.generate(nets, cond, z, config)
        loss = discriminator_loss(self.discriminate(nets, x, cond, config), self.discriminate(nets, fake, cond, config))
        opts["D"].zero_grad(set_to_none=True)
        loss.backward()
        opts["D"].step()
        return loss

    def generator_step(self, nets, opts, batch: Batch, gen, config) -> torch.Tensor:
        n = config.batch_size
        cond = None if batch.cond is None else batch.cond[:n]  # class models: the real minibatch's labels
        fake = self.generate(nets, cond, self.latent(n, gen, config), config)
        loss = generator_loss(self.discriminate(nets, fake, cond, config), config.generator_loss)
        opts["G"].zero_grad(set_to_none=True)
        loss.backward()
        opts["G"].step()
        return loss

    def train_step(self, nets, opts, batch: Batch, gen, config: GANConfig) -> dict[str, torch.Tensor]:
        b = config.batch_size
        d_losses = []
        for i in range(config.d_steps):
            cond = None if batch.cond is None else batch.cond[i * b:(i + 1) * b]
            d_losses.append(self.discriminator_step(nets, opts, batch.x[i * b:(i + 1) * b], cond, gen, config))
        g_loss = self.generator_step(nets, opts, batch, gen, config)
        return {"loss_d": torch.stack(d_losses).mean().detach(), "loss_g": g_loss.detach()}


SPEC = GANSpec()
