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
from genbench.errors import GenbenchError

# The models whose discriminators honour ``pack`` and whose MLPs honour ``init_std``; cgan and
# dcgan inherit the fields but build their own nets, so they refuse values other than the defaults.
_PACKING_MODELS = frozenset({"gan", "unrolled-gan", "minibatch-gan"})


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
    # PacGAN (Lin et al. 2018): D judges `pack` samples at once, concatenated (points: along the
    # coordinates; images: along the channels), all real or all generated. 1 = an ordinary GAN.
    pack: int = 1
    # MLP weights from N(0, init_std²) and zero biases (PacGAN's toy nets: 0.02); 0 keeps
    # PyTorch's default initialisation. Points only.
    init_std: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.generator_loss not in GENERATOR_LOSSES:
            raise ValueError(f"generator_loss must be one of {GENERATOR_LOSSES}, got {self.generator_loss!r}")
        if self.z_dist not in ("gaussian", "uniform"):
            raise ValueError(f"z_dist must be 'gaussian' or 'uniform', got {self.z_dist!r}")
        if self.d_steps < 1 or self.z_dim < 1:
            raise ValueError("d_steps and z_dim must be >= 1")
        if self.pack < 1:
            raise ValueError(f"pack must be >= 1, got {self.pack}")
        if self.init_std < 0:
            raise ValueError(f"init_std must be >= 0 (0: PyTorch's default), got {self.init_std}")


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
            if config.init_std > 0:
                N.normal_init(g, config.init_std)
            return g
        g = N.ConvGenerator(config.z_dim + extra_in, config.data_shape, config.g_width)
        N.dcgan_init(g)
        return g

    def d_input_shape(self, config: GANConfig) -> tuple[int, ...]:
        """The shape D sees: ``pack`` samples concatenated along the first (feature/channel) axis."""
        return (config.data_shape[0] * config.pack, *config.data_shape[1:])

    def build_discriminator(self, config: GANConfig) -> nn.Module:
        if config.data_kind == "points":
            d = N.mlp(self.d_input_shape(config)[0], config.d_hidden, 1, activation=config.d_activation,
                      maxout_pieces=config.maxout_pieces)
            if config.init_std > 0:
                N.normal_init(d, config.init_std)
            return d
        d = N.ConvDiscriminator(self.d_input_shape(config), config.d_width)
        N.dcgan_init(d)
        return d

    def build(self, config: GANConfig) -> nn.ModuleDict:
        self._check_options(config)
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

    def packed(self, x: torch.Tensor, config: GANConfig) -> torch.Tensor:
        """Consecutive groups of ``pack`` samples as one D input (PacGAN); identity for pack = 1."""
        if config.pack == 1:
            return x
        n = x.shape[0]
        if n % config.pack:
            raise ValueError(f"pack={config.pack} does not divide the minibatch of {n} samples")
        # (n, c, ...) -> (n/pack, pack*c, ...): group g holds samples g*pack ... g*pack + pack-1
        return x.reshape(n // config.pack, config.pack * x.shape[1], *x.shape[2:])

    def discriminate(self, nets, x: torch.Tensor, cond: torch.Tensor | None, config: GANConfig) -> torch.Tensor:
        return nets["D"](self.packed(x, config)).view(-1)

    # --- training -------------------------------------------------------------------------------
    def samples_per_batch(self, config: GANConfig) -> int:
        """Samples per D or G minibatch: ``batch_size`` D inputs of ``pack`` samples each (PacGAN)."""
        self._check_options(config)
        return config.batch_size * config.pack

    def _check_options(self, config: GANConfig) -> None:
        if self.name not in _PACKING_MODELS and (config.pack != 1 or config.init_std != 0):
            raise GenbenchError(f"model {self.name!r} does not support pack or init_std; "
                                f"use one of {', '.join(sorted(_PACKING_MODELS))}")

    def examples_per_step(self, config: GANConfig) -> int:
        return self.samples_per_batch(config) * config.d_steps

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
        n = self.samples_per_batch(config)
        cond = None if batch.cond is None else batch.cond[:n]  # class models: the real minibatch's labels
        fake = self.generate(nets, cond, self.latent(n, gen, config), config)
        loss = generator_loss(self.discriminate(nets, fake, cond, config), config.generator_loss)
        opts["G"].zero_grad(set_to_none=True)
        # Gradients for what opts["G"] steps only: D's weight gradients would cost a third of this
        # backward pass and be thrown away (D's own step zeroes them first); G's are the same bits.
        loss.backward(inputs=optimized_params(opts["G"]))
        opts["G"].step()
        return loss

    def train_step(self, nets, opts, batch: Batch, gen, config: GANConfig) -> dict[str, torch.Tensor]:
        b = self.samples_per_batch(config)
        d_losses = []
        for i in range(config.d_steps):
            cond = None if batch.cond is None else batch.cond[i * b:(i + 1) * b]
            d_losses.append(self.discriminator_step(nets, opts, batch.x[i * b:(i + 1) * b], cond, gen, config))
        g_loss = self.generator_step(nets, opts, batch, gen, config)
        return {"loss_d": torch.stack(d_losses).mean().detach(), "loss_g": g_loss.detach()}


def optimized_params(opt: torch.optim.Optimizer) -> list[torch.Tensor]:
    """The parameters an optimizer updates (for ``backward(inputs=...)``)."""
    return [p for group in opt.param_groups for p in group["params"]]


SPEC = GANSpec()
