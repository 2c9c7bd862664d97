"""``progan`` — Karras et al. 2018, "Progressive Growing of GANs for Improved Quality, Stability, and Variation".

Faithful (the paper and its official code, ``networks_progan.py`` / ``loss.py`` / ``train.py``):

- **Progressive growing with fade-in.** Training starts at 4×4; each new resolution is faded in
  over ``fade_images`` real images (α ramps linearly 0 → 1: G's output is
  (1 − α)·upsample(toRGB_old) + α·toRGB_new, D's input path likewise, and the real images are
  blended between the two resolutions the same way) and then stabilised for
  ``stabilise_images`` (800k + 800k in the paper). The stage and α are a pure function of the
  number of images seen, i.e. of the step (kept in the checkpointed buffer ``clock.step``, since
  the shared loop does not pass the step), so resume is bit-exact. Adam's moments are reset when
  a fade starts or ends (the official ``reset_opt_for_new_lod``).
- **Minibatch standard deviation** before D's last block (one extra feature map; groups of 4 as
  in the official code, ``mbstd_group_size``).
- **Equalised learning rate**: every weight is N(0, 1) and scaled at run time by He's constant
  (``baselines.scaled_layers``); gain √2, except toRGB and D's output (1) and G's first dense
  layer (√2/4), as in the official code.
- **Pixel norm** after every conv of G (and on z: latents normalised onto the hypersphere).
- **WGAN-GP** (λ = 10, target norm 1) plus the drift term ε_drift · E[D(x)²], ε_drift = 0.001.
- Adam(lr 1e-3, β = (0, 0.99), ε = 1e-8), one D update per G update, minibatch 16 (the paper's
  minibatch up to 128²), z ∈ R⁵¹², 512 feature maps at every resolution up to 32×32
  (min(16384 / res, 512), the paper's table 2).
- **EMA of G's weights** (decay 0.999) in ``G_ema``, which is what ``generate`` samples.

Chosen for digits: the 28×28 images are padded with background to 32×32 and grown 4 → 8 → 16 → 32
(G's output is centre-cropped back to 28×28), so every resolution step is the paper's ×2. Before
the last resolution is reached, samples are the current resolution upsampled (nearest), as the
official code shows them. G's first dense layer has one bias per output unit (the official code
adds one per channel after the reshape). The 'quick' profile (2-core CPU) narrows the nets to min(512 / res, 64)
feature maps (64, 64, 32, 16 at 4, 8, 16, 32), z to 64 dimensions, and each fade and
stabilisation phase to 3k images (paper: 800k); the schedule (4×4 stabilise, then fade +
stabilise per new resolution) and the minibatch of 16 are the paper's; the EMA decay is 0.99
(0.999 lags far behind G over phases this short: the newest layers stay near their init).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

import torch
from torch import nn

from baselines import scaled_layers as L
from baselines.spec import BaseConfig, Batch, ModelSpec
from genbench.errors import GenbenchError


@dataclass
class ProGANConfig(BaseConfig):
    batch_size: int = 16
    z_dim: int = 512
    channels: int = 512  # feature maps per resolution: min(fmap_base / res, channels)
    fmap_base: int = 16384
    fade_images: int = 800_000  # real images shown while a new resolution fades in
    stabilise_images: int = 800_000  # real images shown at a resolution once faded in
    lr: float = 1e-3
    beta1: float = 0.0
    beta2: float = 0.99
    gp_lambda: float = 10.0
    drift_epsilon: float = 0.001
    mbstd_group_size: int = 4
    ema_decay: float = 0.999
    reset_optimizer_per_phase: bool = True
    steps: int = 350_000  # 7 phases of 800k images (4² stabilise, fade+stabilise 8², 16², 32²) at 16 per step

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.fade_images < 1 or self.stabilise_images < 1:
            raise ValueError("fade_images and stabilise_images must be >= 1")
        if self.z_dim < 1 or self.channels < 1 or self.mbstd_group_size < 1:
            raise ValueError("z_dim, channels and mbstd_group_size must be >= 1")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")


def n_stages(config: ProGANConfig) -> int:
    """Resolution steps after 4×4: 3 for 32×32 (4 → 8 → 16 → 32)."""
    return int(math.log2(L.power_of_two_side(config.data_shape) // 4))


def schedule(step: int, config: ProGANConfig) -> tuple[int, float]:
    """(stage, α) for the minibatch of ``step``: stage s trains at 4·2ˢ; α < 1 while it fades in.

    Images seen before the step decide it (the official code's lod, with phases of
    stabilise + fade images: stage 0 stabilises first, then every new stage fades in and stabilises).
    """
    images = step * config.batch_size
    phase_len = config.stabilise_images + config.fade_images
    phase, within = divmod(images, phase_len)
    last = n_stages(config)
    if phase >= last:
        return last, 1.0
    if within < config.stabilise_images:
        return phase, 1.0
    return phase + 1, (within - config.stabilise_images) / config.fade_images


def channels_at(res: int, config: ProGANConfig) -> int:
    return max(1, min(config.fmap_base // res, config.channels))


class GBlock(nn.Module):
    """Upsample ×2 → (conv 3×3 → LReLU → pixel norm) × 2 (the first block starts from z instead)."""

    def __init__(self, c_in: int, c_out: int, first: bool, z_dim: int = 0):
        super().__init__()
        self.first = first
        if first:
            self.dense = L.EqualizedLinear(z_dim, c_out * 16, gain=L.LRELU_GAIN / 4)
            self.conv1 = None
        else:
            self.conv1 = L.EqualizedConv2d(c_in, c_out, 3)
        self.conv2 = L.EqualizedConv2d(c_out, c_out, 3)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.first:
            h = self.dense(L.pixel_norm(x)).view(x.shape[0], -1, 4, 4)
        else:
            h = self.conv1(L.upsample(x))
        h = L.pixel_norm(self.act(h))
        return L.pixel_norm(self.act(self.conv2(h)))


class Generator(nn.Module):
    def __init__(self, config: ProGANConfig):
        super().__init__()
        c = config.data_shape[0]
        res = [4 * 2 ** s for s in range(n_stages(config) + 1)]
        self.blocks = nn.ModuleList()
        self.to_rgb = nn.ModuleList()
        for s, r in enumerate(res):
            c_prev = channels_at(res[s - 1], config) if s else 0
            self.blocks.append(GBlock(c_prev, channels_at(r, config), s == 0, config.z_dim))
            self.to_rgb.append(L.EqualizedConv2d(channels_at(r, config), c, 1, gain=1.0))

    def forward(self, z: torch.Tensor, stage: int, alpha: float) -> torch.Tensor:
        """Images at 4·2^stage; while fading in, blended with the previous stage's upsampled output."""
        h = prev = z
        for s in range(stage + 1):
            prev, h = h, self.blocks[s](h)
        out = self.to_rgb[stage](h)
        if stage > 0 and alpha < 1.0:
            out = torch.lerp(L.upsample(self.to_rgb[stage - 1](prev)), out, alpha)
        return out


class DBlock(nn.Module):
    """(conv 3×3 → LReLU) × 2 → average-pool ×½; the last (4×4) block is mbstd → conv → dense → dense."""

    def __init__(self, c_in: int, c_out: int, last: bool, mbstd_group_size: int):
        super().__init__()
        self.last, self.group = last, mbstd_group_size
        self.act = nn.LeakyReLU(0.2)
        if last:
            self.conv = L.EqualizedConv2d(c_in + 1, c_in, 3)
            self.dense = L.EqualizedLinear(c_in * 16, c_out)
            self.out = L.EqualizedLinear(c_out, 1, gain=1.0)
        else:
            self.conv1 = L.EqualizedConv2d(c_in, c_in, 3)
            self.conv2 = L.EqualizedConv2d(c_in, c_out, 3)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.last:
            h = self.act(self.conv(L.minibatch_stddev(h, self.group)))
            return self.out(self.act(self.dense(h.flatten(1))))
        h = self.act(self.conv2(self.act(self.conv1(h))))
        return L.downsample(h)


class Discriminator(nn.Module):
    def __init__(self, config: ProGANConfig):
        super().__init__()
        c = config.data_shape[0]
        res = [4 * 2 ** s for s in range(n_stages(config) + 1)]
        self.from_rgb = nn.ModuleList(L.EqualizedConv2d(c, channels_at(r, config), 1) for r in res)
        self.blocks = nn.ModuleList(
            DBlock(channels_at(r, config), channels_at(res[s - 1], config) if s else channels_at(r, config),
                   s == 0, config.mbstd_group_size)
            for s, r in enumerate(res))
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor, stage: int, alpha: float) -> torch.Tensor:
        """Scores of images at 4·2^stage; while fading in, the new block's path is blended with
        the previous stage's fromRGB applied to the downsampled image."""
        h = self.blocks[stage](self.act(self.from_rgb[stage](x)))
        if stage > 0:
            if alpha < 1.0:
                h = torch.lerp(self.act(self.from_rgb[stage - 1](L.downsample(x))), h, alpha)
            for s in range(stage - 1, -1, -1):
                h = self.blocks[s](h)
        return h.view(-1)


def reals_at(x: torch.Tensor, stage: int, alpha: float, side: int) -> torch.Tensor:
    """Real images (padded to ``side``) at the stage's resolution, blended like G's output while fading."""
    r = 4 * 2 ** stage
    while x.shape[-1] > r:
        x = L.downsample(x)
    if stage > 0 and alpha < 1.0:
        x = torch.lerp(L.upsample(L.downsample(x)), x, alpha)
    return x


class ProGANSpec(ModelSpec):
    name = "progan"
    paper = "Karras et al. 2018, Progressive Growing of GANs for Improved Quality, Stability, and Variation"
    kinds = ("image",)
    config_class = ProGANConfig
    image_range = "tanh"

    def profile_values(self, kind: str, profile: str) -> dict:
        if profile == "quick":
            # 7 phases of 3k images at 16 per step ≈ 1,313 steps; 64 → 64 → 32 → 16 feature maps at 4 → 32
            # EMA decay 0.99: with phases 267× shorter than the paper's, 0.999 (half-life 693 steps)
            # left G_ema's 32×32 layers ~70 % at their initialisation after the last phase (FID 950)
            return dict(channels=64, fmap_base=512, z_dim=64, fade_images=3_000, stabilise_images=3_000,
                        steps=1_313, checkpoint_every=250, log_every=25, ema_decay=0.99)
        return dict(checkpoint_every=10_000, log_every=100)

    def build(self, config: ProGANConfig) -> nn.ModuleDict:
        L.power_of_two_side(config.data_shape)
        g = Generator(config)
        return nn.ModuleDict({"G": g, "D": Discriminator(config), "G_ema": copy.deepcopy(g), "clock": L.StepClock()})

    def make_optimizers(self, nets, config: ProGANConfig):
        betas = (config.beta1, config.beta2)
        return {"G": torch.optim.Adam(nets["G"].parameters(), lr=config.lr, betas=betas, eps=1e-8),
                "D": torch.optim.Adam(nets["D"].parameters(), lr=config.lr, betas=betas, eps=1e-8)}

    def latent(self, n: int, gen: torch.Generator, config: ProGANConfig) -> torch.Tensor:
        return torch.randn(n, config.z_dim, generator=gen, device=gen.device)

    def images(self, g: nn.Module, z: torch.Tensor, stage: int, alpha: float, config: ProGANConfig) -> torch.Tensor:
        """G's output at full size: the stage's images upsampled (nearest) and cropped to the data shape."""
        side = L.power_of_two_side(config.data_shape)
        out = g(z, stage, alpha)
        while out.shape[-1] < side:
            out = L.upsample(out)
        return L.crop_to(out, *config.data_shape[1:])

    def generate(self, nets, cond, z, config: ProGANConfig) -> torch.Tensor:
        if z is None:
            raise GenbenchError("progan generates from latent codes z; none were given")
        stage, alpha = schedule(nets["clock"].value(), config)
        return self.images(nets["G_ema"], z, stage, alpha, config)

    @torch.no_grad()
    def paper_figures(self, model, examples, seed: int) -> list:
        """The progressive stages (the paper's Fig. 1 idea): the same z through the checkpoint's
        G_ema at each stage it has reached, α = 1 — the final G rendered at each resolution, not
        snapshots kept during training."""
        from baselines.paper_figures import ROWS, PaperFigure
        from baselines.training import sample_generator

        config = model.config
        reached, alpha = schedule(model.nets["clock"].value(), config)
        z = self.latent(ROWS, sample_generator(seed), config).to(model.device)
        cols = [model.codec.decode(self.images(model.nets["G_ema"], z, s, 1.0, config)) for s in range(reached + 1)]
        res = [4 * 2 ** s for s in range(reached + 1)]
        return [PaperFigure("stages", "Progressive growing: one z at each stage", (
            f"The final checkpoint's G_ema rendered at each resolution it has grown to (α = 1, nearest-upsampled to "
            f"{L.power_of_two_side(config.data_shape)}² and cropped to the data size), for the same {ROWS} z (seed "
            f"{seed}): not snapshots taken during training. A lower stage's toRGB layer was last trained while that "
            f"stage was current. The checkpoint is at stage {reached} (α = {alpha:.2f})."),
            np.stack(cols, axis=1), [f"z {i}" for i in range(ROWS)], [f"{r}×{r}" for r in res],
            meta={"stage": reached, "alpha": alpha})]

    def d_loss(self, d: nn.Module, real: torch.Tensor, fake: torch.Tensor, stage: int, alpha: float,
               gen: torch.Generator, config: ProGANConfig) -> dict[str, torch.Tensor]:
        """WGAN-GP critic loss + the drift term (official ``D_wgangp_acgan``), with its parts."""
        real_out, fake_out = d(real, stage, alpha), d(fake, stage, alpha)
        mix = torch.rand(real.shape[0], 1, 1, 1, generator=gen, device=gen.device)
        mixed = torch.lerp(real, fake, mix).requires_grad_(True)
        norms = L.gradient_penalty_norms(d(mixed, stage, alpha), mixed)
        gp = config.gp_lambda * (norms - 1.0).pow(2).mean()
        drift = config.drift_epsilon * real_out.pow(2).mean()
        wasserstein = fake_out.mean() - real_out.mean()
        return {"loss": wasserstein + gp + drift, "wasserstein": wasserstein, "gp": gp, "drift": drift}

    def train_step(self, nets, opts, batch: Batch, gen, config: ProGANConfig) -> dict[str, torch.Tensor]:
        step = nets["clock"].value()
        stage, alpha = schedule(step, config)
        if config.reset_optimizer_per_phase and step > 0 and _phase(step, config) != _phase(step - 1, config):
            for opt in opts.values():
                opt.state.clear()
        side = L.power_of_two_side(config.data_shape)
        real = reals_at(L.pad_to(batch.x, side, -1.0), stage, alpha, side)
        n = real.shape[0]
        with torch.no_grad():
            fake = nets["G"](self.latent(n, gen, config), stage, alpha)
        d = self.d_loss(nets["D"], real, fake, stage, alpha, gen, config)
        opts["D"].zero_grad(set_to_none=True)
        d["loss"].backward()
        opts["D"].step()

        g_loss = -nets["D"](nets["G"](self.latent(n, gen, config), stage, alpha), stage, alpha).mean()
        opts["G"].zero_grad(set_to_none=True)
        g_loss.backward()
        opts["G"].step()
        L.ema_update(nets["G_ema"], nets["G"], config.ema_decay)
        nets["clock"].tick()
        return {"loss_d": d["loss"].detach(), "loss_g": g_loss.detach(), "gp": d["gp"].detach(),
                "drift": d["drift"].detach(), "stage": torch.tensor(float(stage)), "alpha": torch.tensor(float(alpha))}


def _phase(step: int, config: ProGANConfig) -> tuple[int, bool]:
    """(stage, fading): it changes when a fade starts and when it ends, where the official code's
    ``reset_opt_for_new_lod`` resets Adam (it sees the change one step later, at lod's first fraction)."""
    stage, alpha = schedule(step, config)
    return stage, alpha < 1.0


SPEC = ProGANSpec()
