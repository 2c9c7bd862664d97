"""``stylegan`` — Karras et al. 2019, "A Style-Based Generator Architecture for Generative Adversarial Networks".

Faithful (the paper and its official code, ``networks_stylegan.py`` / ``loss.py``):

- **Mapping network** f: z → w, pixel-normalised z through 8 dense layers (LReLU 0.2) with the
  learning rate reduced 100× (equalised-lr ``lr_mul`` 0.01), w ∈ R⁵¹².
- **Synthesis network** from a **learned constant** 4×4 input; two layers per resolution
  (4, 8, 16, 32): [upsample → conv 3×3 → blur] or conv 3×3, then **per-layer noise** (one N×1×H×W
  map, scaled by a learned per-channel factor initialised to 0), bias, LReLU, and **AdaIN**:
  instance normalisation followed by the per-channel scale (1 + ys) and bias yb of a learned
  affine map A(w). This is StyleGAN 1's AdaIN, not StyleGAN 2's modulated convolution.
- **Style mixing regularisation**: with probability 0.9 a minibatch uses two latents, w₁ for the
  layers before a crossover layer drawn uniformly from 1 … L−1 and w₂ from there on.
- **Truncation in w**: w' = w̄ + ψ (w − w̄), around the moving average w̄ of the w's seen in
  training (β = 0.995); ``truncation_psi`` (1 = off) is read by ``generate``, on all layers (at
  32×32 the official cut-off of 8 layers covers all of them).
- **EMA of G** (half-life 10k images, the official ``G_smoothing_kimg``), used for sampling.
- Loss as the paper's FFHQ setup: non-saturating logistic loss with R1 regularisation on the
  reals, γ = 10. Adam(lr 1e-3, β = (0, 0.99), ε = 1e-8); D is ProGAN's with blur before each
  downsampling and the minibatch-stddev layer (groups of 4).

Chosen for digits: images are padded to 32×32 (G's output centre-cropped back to 28×28) and trained
at full resolution from the start — the paper grows progressively; at 32×32 that only saves
early compute, and we omit it. Noise inputs come from the ``gen`` passed to ``train_step``; when
sampling, a latent code is (z, the noise maps flattened) — ``latent`` draws both — so a sample
depends only on its seed, whatever the batch size. Minibatch 64 (the official schedule at 32²).
The 'quick' profile (2-core CPU) uses min(512 / res, 64) feature maps (64, 64, 32, 16 at
4, 8, 16, 32), z, w ∈ R⁶⁴, a 4-layer mapping network, minibatch 16 and 1,500 steps (24k images;
the paper: 25M), with the EMA half-life cut to 1k images to match (the paper's 10k makes G_ema
lag far behind G over so short a run).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

import torch
import torch.nn.functional as F
from torch import nn

from baselines import scaled_layers as L
from baselines.spec import BaseConfig, Batch, ModelSpec
from genbench.errors import GenbenchError


@dataclass
class StyleGANConfig(BaseConfig):
    batch_size: int = 64
    z_dim: int = 512
    w_dim: int = 512
    mapping_layers: int = 8
    mapping_lr_mul: float = 0.01
    channels: int = 512  # feature maps per resolution: min(fmap_base / res, channels)
    fmap_base: int = 16384
    lr: float = 1e-3
    beta1: float = 0.0
    beta2: float = 0.99
    r1_gamma: float = 10.0
    style_mixing_prob: float = 0.9
    w_avg_beta: float = 0.995
    truncation_psi: float = 1.0
    ema_half_life_images: int = 10_000
    mbstd_group_size: int = 4
    steps: int = 390_625  # 25M images at 64 per step

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (isinstance(self.truncation_psi, (int, float)) and 0.0 < self.truncation_psi <= 1.0):
            raise ValueError(f"truncation_psi must be in (0, 1], got {self.truncation_psi!r}")
        if not 0.0 <= self.style_mixing_prob <= 1.0:
            raise ValueError(f"style_mixing_prob must be in [0, 1], got {self.style_mixing_prob}")
        if min(self.z_dim, self.w_dim, self.mapping_layers, self.channels, self.mbstd_group_size,
               self.ema_half_life_images) < 1:
            raise ValueError("z_dim, w_dim, mapping_layers, channels, mbstd_group_size and "
                             "ema_half_life_images must be >= 1")


def resolutions(config: StyleGANConfig) -> list[int]:
    side = L.power_of_two_side(config.data_shape)
    return [4 * 2 ** s for s in range(int(math.log2(side // 4)) + 1)]


def channels_at(res: int, config: StyleGANConfig) -> int:
    return max(1, min(config.fmap_base // res, config.channels))


def noise_shapes(config: StyleGANConfig) -> list[tuple[int, int]]:
    """(H, W) of every style layer's noise map: two layers per resolution."""
    return [(r, r) for r in resolutions(config) for _ in range(2)]


class MappingNetwork(nn.Module):
    def __init__(self, config: StyleGANConfig):
        super().__init__()
        dims = [config.z_dim] + [config.w_dim] * config.mapping_layers
        self.layers = nn.ModuleList(L.EqualizedLinear(a, b, lr_mul=config.mapping_lr_mul) for a, b in zip(dims, dims[1:]))
        self.act = nn.LeakyReLU(0.2)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = L.pixel_norm(z)
        for layer in self.layers:
            h = self.act(layer(h))
        return h


class AdaIN(nn.Module):
    """Instance-normalise each channel, then scale by (1 + ys) and shift by yb, (ys, yb) = A(w)."""

    def __init__(self, channels: int, w_dim: int):
        super().__init__()
        self.affine = L.EqualizedLinear(w_dim, 2 * channels, gain=1.0)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        style = self.affine(w).view(x.shape[0], 2, x.shape[1], 1, 1)
        x = x - x.mean(dim=(2, 3), keepdim=True)
        x = x * torch.rsqrt(x.pow(2).mean(dim=(2, 3), keepdim=True) + 1e-8)
        return x * (style[:, 0] + 1.0) + style[:, 1]


class StyleLayer(nn.Module):
    """[conv] → + noise · per-channel weight → + bias → LReLU → AdaIN(w)."""

    def __init__(self, c_in: int, c_out: int, w_dim: int, conv: bool, up: bool):
        super().__init__()
        self.conv = L.EqualizedConv2d(c_in, c_out, 3, bias=False) if conv else None
        self.up = up
        self.noise_weight = nn.Parameter(torch.zeros(c_out))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.act = nn.LeakyReLU(0.2)
        self.adain = AdaIN(c_out, w_dim)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        if self.conv is not None:
            x = self.conv(L.upsample(x) if self.up else x)
            if self.up:
                x = L.blur(x)
        x = x + noise * self.noise_weight.view(1, -1, 1, 1)
        x = self.act(x + self.bias.view(1, -1, 1, 1))
        return self.adain(x, w)


class SynthesisNetwork(nn.Module):
    def __init__(self, config: StyleGANConfig):
        super().__init__()
        res = resolutions(config)
        c0 = channels_at(4, config)
        self.const = nn.Parameter(torch.ones(1, c0, 4, 4))
        self.layers = nn.ModuleList()
        for i, r in enumerate(res):
            c_prev, c = channels_at(res[i - 1] if i else 4, config), channels_at(r, config)
            self.layers.append(StyleLayer(c_prev, c, config.w_dim, conv=i > 0, up=i > 0))
            self.layers.append(StyleLayer(c, c, config.w_dim, conv=True, up=False))
        self.to_rgb = L.EqualizedConv2d(channels_at(res[-1], config), config.data_shape[0], 1, gain=1.0)

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    def forward(self, ws: torch.Tensor, noise: list[torch.Tensor]) -> torch.Tensor:
        """``ws``: N × n_layers × w_dim (one w per style layer); ``noise``: one N×1×H×W map per layer."""
        x = self.const.expand(ws.shape[0], -1, -1, -1)
        for i, layer in enumerate(self.layers):
            x = layer(x, ws[:, i], noise[i])
        return self.to_rgb(x)


class Generator(nn.Module):
    def __init__(self, config: StyleGANConfig):
        super().__init__()
        self.mapping = MappingNetwork(config)
        self.synthesis = SynthesisNetwork(config)
        self.register_buffer("w_avg", torch.zeros(config.w_dim))

    def update_w_avg(self, w: torch.Tensor, beta: float) -> None:
        with torch.no_grad():
            self.w_avg.copy_(torch.lerp(w.mean(dim=0), self.w_avg, beta))


def mix_styles(w1: torch.Tensor, w2: torch.Tensor, n_layers: int, cutoff: int) -> torch.Tensor:
    """N × n_layers × w_dim: w1 for the layers before ``cutoff``, w2 from ``cutoff`` on."""
    layer = torch.arange(n_layers, device=w1.device).view(1, -1, 1)
    return torch.where(layer < cutoff, w1.unsqueeze(1), w2.unsqueeze(1))


def truncate(w: torch.Tensor, w_avg: torch.Tensor, psi: float) -> torch.Tensor:
    """w̄ + ψ (w − w̄): ψ = 1 is the identity, ψ → 0 collapses every w onto w̄."""
    return torch.lerp(w_avg.expand_as(w), w, psi)


class D_Block(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv1 = L.EqualizedConv2d(c_in, c_in, 3)
        self.conv2 = L.EqualizedConv2d(c_in, c_out, 3)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = L.blur(self.act(self.conv1(x)))
        return self.act(L.downsample(self.conv2(x)))


class Discriminator(nn.Module):
    """fromRGB → blocks down to 4×4 → minibatch stddev → conv → dense → dense (ProGAN's, with blur)."""

    def __init__(self, config: StyleGANConfig):
        super().__init__()
        res = resolutions(config)
        self.group = config.mbstd_group_size
        self.from_rgb = L.EqualizedConv2d(config.data_shape[0], channels_at(res[-1], config), 1)
        self.blocks = nn.ModuleList(D_Block(channels_at(r, config), channels_at(r // 2, config)) for r in res[:0:-1])
        c = channels_at(4, config)
        self.conv = L.EqualizedConv2d(c + 1, c, 3)
        self.dense = L.EqualizedLinear(c * 16, c)
        self.out = L.EqualizedLinear(c, 1, gain=1.0)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.from_rgb(x))
        for block in self.blocks:
            h = block(h)
        h = self.act(self.conv(L.minibatch_stddev(h, self.group)))
        return self.out(self.act(self.dense(h.flatten(1)))).view(-1)


class StyleGANSpec(ModelSpec):
    name = "stylegan"
    paper = "Karras et al. 2019, A Style-Based Generator Architecture for Generative Adversarial Networks"
    kinds = ("image",)
    config_class = StyleGANConfig
    image_range = "tanh"
    supports_truncation = True

    def profile_values(self, kind: str, profile: str) -> dict:
        if profile == "quick":
            # EMA half-life 1k images: the paper's 10k (0.04 % of its 25M) over a 24k-image run left
            # G_ema ~20 % at its initialisation (FID 581, against 119 for G itself)
            return dict(channels=64, fmap_base=512, z_dim=64, w_dim=64, mapping_layers=4, batch_size=16,
                        steps=1500, checkpoint_every=250, log_every=25, ema_half_life_images=1_000)
        return dict(checkpoint_every=10_000, log_every=100)

    def build(self, config: StyleGANConfig) -> nn.ModuleDict:
        L.power_of_two_side(config.data_shape)
        g = Generator(config)
        return nn.ModuleDict({"G": g, "D": Discriminator(config), "G_ema": copy.deepcopy(g)})

    def make_optimizers(self, nets, config: StyleGANConfig):
        betas = (config.beta1, config.beta2)
        return {"G": torch.optim.Adam(nets["G"].parameters(), lr=config.lr, betas=betas, eps=1e-8),
                "D": torch.optim.Adam(nets["D"].parameters(), lr=config.lr, betas=betas, eps=1e-8)}

    # --- latent codes: z and the noise maps -------------------------------------------------------
    def latent(self, n: int, gen: torch.Generator, config: StyleGANConfig) -> torch.Tensor:
        """z ⊕ every layer's noise map, flattened: a sample is a function of its latent alone."""
        width = config.z_dim + sum(h * w for h, w in noise_shapes(config))
        return torch.randn(n, width, generator=gen, device=gen.device)

    def split_latent(self, latent: torch.Tensor, config: StyleGANConfig) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(z, noise maps) from a latent code of ``latent``."""
        z, rest = latent[:, :config.z_dim], latent[:, config.z_dim:]
        noise, start = [], 0
        for h, w in noise_shapes(config):
            noise.append(rest[:, start:start + h * w].reshape(-1, 1, h, w))
            start += h * w
        if start != rest.shape[1]:
            raise GenbenchError(f"stylegan latent codes have {config.z_dim + start} entries, got {latent.shape[1]}")
        return z, noise

    def draw_noise(self, n: int, gen: torch.Generator, config: StyleGANConfig) -> list[torch.Tensor]:
        return [torch.randn(n, 1, h, w, generator=gen, device=gen.device) for h, w in noise_shapes(config)]

    # --- the two halves of G, for sampling and the perceptual path length ------------------------
    def mapping(self, nets, z: torch.Tensor, config: StyleGANConfig) -> torch.Tensor:
        return nets["G_ema"].mapping(z)

    def synthesis(self, nets, w: torch.Tensor, noise: list[torch.Tensor], config: StyleGANConfig) -> torch.Tensor:
        """One w per sample (N×w_dim) or per layer (N×L×w_dim) → images cropped to the data shape."""
        g = nets["G_ema"].synthesis
        ws = w.unsqueeze(1).expand(-1, g.n_layers, -1) if w.ndim == 2 else w
        return L.crop_to(g(ws, noise), *config.data_shape[1:])

    def generate(self, nets, cond, z, config: StyleGANConfig) -> torch.Tensor:
        if z is None:
            raise GenbenchError("stylegan generates from latent codes; none were given")
        z, noise = self.split_latent(z, config)
        w = self.mapping(nets, z, config)
        if config.truncation_psi != 1.0:
            w = truncate(w, nets["G_ema"].w_avg, config.truncation_psi)
        return self.synthesis(nets, w, noise, config)

    # --- paper figures -------------------------------------------------------------------------------
    def style_bands(self, config: StyleGANConfig) -> dict[str, list[int]]:
        """Style layers by the paper's coarse (4²–8²), middle (16²–32²) and fine (64² up) resolutions;
        the finest band is always the top resolution (at 32×32: coarse 4²–8², middle 16², fine 32²)."""
        res = [r for r in resolutions(config) for _ in range(2)]
        top = max(res)
        bands = {"coarse": [i for i, r in enumerate(res) if r <= 8],
                 "middle": [i for i, r in enumerate(res) if 8 < r <= 32 and r < top],
                 "fine": [i for i, r in enumerate(res) if r > 32 or (r == top and r > 8)]}
        return {k: v for k, v in bands.items() if v}

    @torch.no_grad()
    def paper_figures(self, model, examples, seed: int) -> list:
        from baselines.paper_figures import PaperFigure, truncation_rows
        from baselines.training import sample_generator

        config, nets = model.config, model.nets
        bands = self.style_bands(config)
        res = [r for r in resolutions(config) for _ in range(2)]
        n_b = 4
        gen = sample_generator(seed)
        lat_a = self.latent(len(bands), gen, config).to(model.device)
        lat_b = self.latent(n_b, gen, config).to(model.device)
        (z_a, noise_a), (z_b, noise_b) = self.split_latent(lat_a, config), self.split_latent(lat_b, config)
        w_a, w_b = self.mapping(nets, z_a, config), self.mapping(nets, z_b, config)
        n_layers = nets["G_ema"].synthesis.n_layers
        decode = model.codec.decode
        img_a = decode(self.synthesis(nets, w_a, noise_a, config))
        img_b = decode(self.synthesis(nets, w_b, noise_b, config))
        grid = np.zeros((1 + len(bands), 1 + n_b, *img_a.shape[1:]), np.uint8)
        blank = np.zeros(grid.shape[:2], bool)
        blank[0, 0] = True
        grid[0, 1:] = img_b
        row_labels = ["source B"]
        for r, (band, layers) in enumerate(bands.items(), start=1):
            grid[r, 0] = img_a[r - 1]
            take_b = torch.zeros(n_layers, dtype=torch.bool, device=w_a.device)
            take_b[layers] = True
            wa = w_a[r - 1:r].expand(n_b, -1).unsqueeze(1).expand(-1, n_layers, -1)
            ws = torch.where(take_b.view(1, -1, 1), w_b.unsqueeze(1).expand(-1, n_layers, -1), wa)
            noise = [m[r - 1:r].expand(n_b, -1, -1, -1) for m in noise_a]
            grid[r, 1:] = decode(self.synthesis(nets, ws, noise, config))
            lo, hi = res[layers[0]], res[layers[-1]]
            row_labels.append(f"{band} from B ({lo}²{'' if lo == hi else f'–{hi}²'})")
        mixing = PaperFigure("style-mixing", "Style mixing (the paper's Fig. 3 layout)", (
            "Each row takes one band of styles from source B (the column's) and all others, and the noise, from "
            "source A (the row's first image): coarse bands copy B's pose and shape, fine bands only its texture. "
            f"Bands by resolution: {'; '.join(f'{k}: layers {v[0]}–{v[-1]}' for k, v in bands.items())} "
            f"of {n_layers}. ψ = 1 (no truncation)."),
            grid, row_labels, ["source A"] + [f"B{j}" for j in range(n_b)], blank=blank,
            meta={"bands": bands, "seed": seed})
        return [mixing, truncation_rows(model, seed)]

    # --- training -----------------------------------------------------------------------------------
    def styles_for_training(self, g: Generator, n: int, gen: torch.Generator, config: StyleGANConfig) -> torch.Tensor:
        """N × L × w_dim styles with mixing regularisation: with probability ``style_mixing_prob``
        a second latent takes over from a crossover layer drawn uniformly from 1 … L−1."""
        n_layers = g.synthesis.n_layers
        w1 = g.mapping(torch.randn(n, config.z_dim, generator=gen, device=gen.device))
        g.update_w_avg(w1, config.w_avg_beta)
        mix = float(torch.rand((), generator=gen, device=gen.device)) < config.style_mixing_prob
        cutoff = int(torch.randint(1, n_layers, (), generator=gen, device=gen.device)) if mix else n_layers
        w2 = g.mapping(torch.randn(n, config.z_dim, generator=gen, device=gen.device)) if mix else w1
        return mix_styles(w1, w2, n_layers, cutoff)

    def fake(self, g: Generator, n: int, gen: torch.Generator, config: StyleGANConfig) -> torch.Tensor:
        """Padded-size (32×32) fakes from freshly drawn styles and noise."""
        ws = self.styles_for_training(g, n, gen, config)
        return g.synthesis(ws, self.draw_noise(n, gen, config))

    def d_loss(self, d: nn.Module, real: torch.Tensor, fake: torch.Tensor, config: StyleGANConfig) -> dict:
        """softplus(D(fake)) + softplus(−D(real)) + γ/2 · ‖∇ D(real)‖² (official ``D_logistic_simplegp``)."""
        real = real.detach().requires_grad_(True)
        real_out = d(real)
        r1 = 0.5 * config.r1_gamma * L.gradient_penalty_norms(real_out, real).pow(2).mean()
        logistic = F.softplus(d(fake)).mean() + F.softplus(-real_out).mean()
        return {"loss": logistic + r1, "r1": r1}

    def train_step(self, nets, opts, batch: Batch, gen, config: StyleGANConfig) -> dict[str, torch.Tensor]:
        side = L.power_of_two_side(config.data_shape)
        real = L.pad_to(batch.x, side, -1.0)
        n = real.shape[0]
        with torch.no_grad():
            fake = self.fake(nets["G"], n, gen, config)
        d = self.d_loss(nets["D"], real, fake, config)
        opts["D"].zero_grad(set_to_none=True)
        d["loss"].backward()
        opts["D"].step()

        g_loss = F.softplus(-nets["D"](self.fake(nets["G"], n, gen, config))).mean()
        opts["G"].zero_grad(set_to_none=True)
        g_loss.backward()
        opts["G"].step()
        L.ema_update(nets["G_ema"], nets["G"], self.ema_decay(config))
        return {"loss_d": d["loss"].detach(), "loss_g": g_loss.detach(), "r1": d["r1"].detach()}

    def ema_decay(self, config: StyleGANConfig) -> float:
        """β = 0.5 ^ (minibatch / half-life images), the official G smoothing."""
        return 0.5 ** (config.batch_size / config.ema_half_life_images)


SPEC = StyleGANSpec()
