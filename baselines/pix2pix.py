"""``pix2pix`` — Isola, Zhu, Zhou & Efros 2017, "Image-to-Image Translation with Conditional
Adversarial Networks".

Faithful: a U-Net generator (encoder C64-C128-C256-C512-C512..., 4×4 convolutions of stride 2,
LeakyReLU 0.2 down, ReLU up, BatchNorm everywhere but the first encoder layer and the bottleneck,
skip connections concatenating encoder layer i with decoder layer n − i, tanh output); dropout
with rate 0.5 as the only noise, in the first three (innermost) decoder layers, applied at test
time too; a PatchGAN discriminator (``baselines.image_nets.PatchDiscriminator``, BatchNorm) that
judges (input, output) pairs stacked on channels; the objective
G* = arg min_G max_D L_cGAN(G, D) + λ·L1 with λ = 100, G minimising −log D(x, G(x)) (the paper's
non-saturating form) and D's loss halved "to slow down the rate at which D learns relative to G";
D and G each take one Adam step per iteration (lr 2e-4, β = (0.5, 0.999)); weights from N(0, 0.02)
and BatchNorm scales from N(1, 0.02).

Chosen for 28×28 digits, where the paper is about 256×256:

- The U-Net reflect-pads the input to the next power of two (28 → 32) and goes down to 1×1 as
  the paper's does (32 → 16 → 8 → 4 → 2 → 1: five levels instead of eight), then crops the output
  back. The dropout layers are the decoder layers at 2×2, 4×4 and 8×8, the same resolutions as
  the paper's three CD layers (the reference code puts them one level further out).
- PatchGAN with ``d_layers = 1``: each logit sees ``receptive_field(1)`` = 16×16 pixels of the
  28×28 pair, a 12×12 map of overlapping patches; the paper's 70×70 on 256×256
  (``receptive_field(3)``) is ``d_layers = 3``, which at 28×28 is a whole-image discriminator.
- Dropout masks are drawn from the step's generator (training) and from the sampling seed
  (``latent``: one keep-mask per image), so resume is bit-exact and a translation does not depend
  on which other images share its batch.
- The paper runs BatchNorm on the test batch's statistics at test time (with batch size 1, that is
  instance normalisation); here a trained model uses the running statistics, so an image's output
  does not depend on its batch. The paper's batch sizes are 1 to 10 (4 for edges2shoes, the
  default here); the 'quick' profile uses 32.

``lambda_gan`` (1 = the paper) weighs the cGAN term; ``lambda_gan = 0`` is the paper's "L1 only"
row (the same U-Net and noise trained on λ·L1 alone; D is then neither trained nor used), the
baseline pix2pix is compared against.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from baselines import nets as N
from baselines.image_nets import PatchDiscriminator, norm_layer
from baselines.spec import Batch, ImageConditionConfig, ModelSpec
from genbench.errors import GenbenchError


@dataclass
class Pix2PixConfig(ImageConditionConfig):
    ngf: int = 64  # channels of G's first layer (×2 per level, at most ×8)
    ndf: int = 64
    d_layers: int = 3  # PatchGAN n_layers: 3 = 70×70 patches (the paper, 256×256); 28×28 profiles use 1
    dropout: float = 0.5
    dropout_layers: int = 3  # innermost decoder layers with dropout (CD512-CD1024-CD1024)
    lambda_l1: float = 100.0
    lambda_gan: float = 1.0  # 0: the L1-only U-Net
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 4
    steps: int = 20000

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.dropout_layers < 0 or self.ngf < 1 or self.ndf < 1 or self.d_layers < 1:
            raise ValueError("dropout_layers must be >= 0 and ngf, ndf, d_layers >= 1")
        if self.lambda_l1 < 0 or self.lambda_gan < 0:
            raise ValueError("lambda_l1 and lambda_gan must be >= 0")


def unet_levels(config: Pix2PixConfig) -> tuple[int, int]:
    """(levels, padded side): the U-Net halves a 2^levels square down to 1×1."""
    side = max(config.cond_shape[1:])
    levels = max(1, (side - 1).bit_length())
    return levels, 2 ** levels


def level_channels(config: Pix2PixConfig) -> list[int]:
    """Encoder output channels per level: ngf·min(2^i, 8) (C64-C128-C256-C512-C512...)."""
    return [config.ngf * min(2 ** i, 8) for i in range(unet_levels(config)[0])]


def noise_shapes(config: Pix2PixConfig) -> list[tuple[int, int, int]]:
    """(C, H, W) of each decoder layer with dropout, innermost first."""
    levels, _ = unet_levels(config)
    channels = level_channels(config)
    n = min(config.dropout_layers, levels - 1)  # the output layer never has dropout
    return [(channels[levels - 2 - j], 2 ** (j + 1), 2 ** (j + 1)) for j in range(n)]


class UNetGenerator(nn.Module):
    """The pix2pix U-Net: ``forward(x, masks)``; ``masks`` are the decoder's dropout keep-masks."""

    def __init__(self, config: Pix2PixConfig):
        super().__init__()
        levels, self.side = unet_levels(config)
        ch = level_channels(config)
        self.n_noisy, self.keep = len(noise_shapes(config)), 1.0 - config.dropout
        self.down = nn.ModuleList()
        for i in range(levels):
            if i == 0:
                self.down.append(nn.Conv2d(config.cond_shape[0], ch[0], 4, 2, 1))
                continue
            innermost = i == levels - 1  # the 1×1 bottleneck has no norm (BatchNorm of one value per map)
            self.down.append(nn.Sequential(
                nn.LeakyReLU(0.2), nn.Conv2d(ch[i - 1], ch[i], 4, 2, 1, bias=innermost),
                nn.Identity() if innermost else norm_layer("batch", ch[i])))
        self.up = nn.ModuleList()
        for i in reversed(range(levels)):  # up[j] undoes down[levels - 1 - j]
            cin = ch[i] if i == levels - 1 else 2 * ch[i]
            if i == 0:
                self.up.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(cin, config.data_shape[0], 4, 2, 1)))
            else:
                self.up.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(cin, ch[i - 1], 4, 2, 1, bias=False),
                                             norm_layer("batch", ch[i - 1])))

    def forward(self, x: torch.Tensor, masks: list[torch.Tensor]) -> torch.Tensor:
        h, w = x.shape[2:]
        pad_h, pad_w = self.side - h, self.side - w
        pads = (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2)
        x = F.pad(x, pads, mode="reflect") if any(pads) else x
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        skips.pop()  # the bottleneck feeds the first decoder layer directly
        for j, layer in enumerate(self.up):
            x = layer(x)
            if j < self.n_noisy:
                x = x * masks[j] / self.keep
            if skips:
                x = torch.cat([skips.pop(), x], dim=1)
        return torch.tanh(x[:, :, pads[2]:pads[2] + h, pads[0]:pads[0] + w])


def _bce(logits: torch.Tensor, real: bool) -> torch.Tensor:
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


class Pix2PixSpec(ModelSpec):
    name = "pix2pix"
    paper = "Isola et al. 2017, Image-to-Image Translation with Conditional Adversarial Networks"
    kinds = ("image",)
    config_class = Pix2PixConfig
    image_range = "tanh"
    conditioning = "image"
    pairing = "paired"

    def profile_values(self, kind: str, profile: str) -> dict:
        if profile == "quick":
            return dict(ngf=16, ndf=32, d_layers=1, batch_size=32, steps=1500, checkpoint_every=500)
        return dict(d_layers=1, batch_size=4, steps=20000, checkpoint_every=2000)

    def build(self, config: Pix2PixConfig) -> nn.ModuleDict:
        if tuple(config.cond_shape[1:]) != tuple(config.data_shape[1:]):
            raise GenbenchError(f"pix2pix maps an image to one of the same size; inputs are "
                                f"{tuple(config.cond_shape[1:])}, targets {tuple(config.data_shape[1:])}")
        g = UNetGenerator(config)
        d = PatchDiscriminator(config.cond_shape[0] + config.data_shape[0], config.ndf, config.d_layers, "batch")
        N.dcgan_init(g)
        N.dcgan_init(d)
        return nn.ModuleDict({"G": g, "D": d})

    def make_optimizers(self, nets, config: Pix2PixConfig):
        betas = (config.beta1, config.beta2)
        return {"G": torch.optim.Adam(nets["G"].parameters(), lr=config.lr, betas=betas),
                "D": torch.optim.Adam(nets["D"].parameters(), lr=config.lr, betas=betas)}

    def latent(self, n: int, gen: torch.Generator, config: Pix2PixConfig) -> torch.Tensor | None:
        """Dropout keep-masks (0/1), one flat row per image; None without dropout."""
        shapes = noise_shapes(config)
        if config.dropout == 0 or not shapes:
            return None
        size = sum(c * h * w for c, h, w in shapes)
        return (torch.rand(n, size, generator=gen, device=gen.device) >= config.dropout).float()

    def _masks(self, z: torch.Tensor | None, config: Pix2PixConfig) -> list[torch.Tensor]:
        shapes = noise_shapes(config)
        if config.dropout == 0 or not shapes:
            return []
        if z is None:
            raise GenbenchError("pix2pix needs its dropout masks (latent) to generate")
        masks, start = [], 0
        for c, h, w in shapes:
            masks.append(z[:, start:start + c * h * w].view(-1, c, h, w))
            start += c * h * w
        return masks

    def generate(self, nets, cond, z, config: Pix2PixConfig) -> torch.Tensor:
        return nets["G"](cond, self._masks(z, config))

    def train_step(self, nets, opts, batch: Batch, gen, config: Pix2PixConfig) -> dict[str, torch.Tensor]:
        x, y = batch.cond, batch.x
        fake = self.generate(nets, x, self.latent(len(x), gen, config), config)
        losses = {}
        adversarial = config.lambda_gan > 0
        if adversarial:
            loss_d = 0.5 * (_bce(nets["D"](torch.cat([x, y], 1)), True)
                            + _bce(nets["D"](torch.cat([x, fake.detach()], 1)), False))
            opts["D"].zero_grad(set_to_none=True)
            loss_d.backward()
            opts["D"].step()
            losses["loss_d"] = loss_d.detach()
        l1 = (fake - y).abs().mean()
        loss_g = config.lambda_l1 * l1
        if adversarial:
            nets["D"].requires_grad_(False)
            gan = _bce(nets["D"](torch.cat([x, fake], 1)), True)
            nets["D"].requires_grad_(True)
            loss_g = loss_g + config.lambda_gan * gan
            losses["loss_g_gan"] = gan.detach()
        opts["G"].zero_grad(set_to_none=True)
        loss_g.backward()
        opts["G"].step()
        return {"loss_g": loss_g.detach(), "loss_l1": l1.detach(), **losses}


SPEC = Pix2PixSpec()
