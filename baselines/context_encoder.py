"""``context-encoder`` — Pathak, Krähenbühl, Donahue, Darrell & Efros 2016, "Context Encoders:
Feature Learning by Inpainting" (the centre-region inpainting variant of ``train.lua``).

Faithful: an encoder–decoder reads the image with its hole filled by a constant and predicts the
centre region; the joint loss is 0.999·L2 (reconstruction) + 0.001·adversarial, the adversarial
term from a DCGAN discriminator that judges the predicted region alone (the paper's centre
variant; ``conditionAdv`` off), with the non-saturating generator loss the code uses (BCE with
"real" labels); the prediction covers the hole plus an ``overlap``-pixel band of known context,
whose L2 weight is ×10 (the code's ``overlapL2Weight``); DCGAN layers (4×4 stride-2 convolutions,
BatchNorm except at the encoder's and D's input, LeakyReLU 0.2 in the encoder and D, ReLU in the
decoder, tanh output), weights from N(0, 0.02); no convolution biases (the code zeroes them before
every update); Adam β1 = 0.5 with the context encoder's learning rate 10× the discriminator's
(``train.lua``: 2e-3 and 2e-4, as the paper says "10 times"); batch 64; outputs paste the
predicted hole into the input (the band is predicted but not pasted, as ``test.lua`` does).

Chosen at 28×28 (the paper works at 128×128 with a 64×64 centre):

- Two stride-2 convolutions (28 → 14 → 7) instead of five, then the code's bottleneck: one
  convolution over the whole remaining map to ``bottleneck`` × 1 × 1 (``nBottleneck`` = 4000 in the
  README's centre-inpainting command), i.e. a dense bottleneck — the channel-wise fully connected
  layer is the paper's AlexNet variant for arbitrary regions, not the centre model. The decoder
  mirrors it: a transposed convolution to (region/2)², then one stride-2 step to the region.
- The paper erases the centre minus a 4-pixel band and predicts the full centre; ``mnist-hole``
  erases exactly the 14×14 hole, so the prediction is the hole grown by ``overlap`` = 1 pixel
  (4/128 of the side, scaled to 28 pixels) of known context, 16×16.
- 'full' keeps the paper's widths (64, bottleneck 4000); 'quick' uses 32 and 400 for a 2-core CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from baselines import nets as N
from baselines.inpainting import CENTRE_HOLE_28, HoleFromDataset, check_hole, paste
from baselines.losses import discriminator_loss, generator_loss
from baselines.spec import Batch, ImageConditionConfig

REC_WEIGHT = 0.999  # λ_rec of the joint loss (the adversarial weight is 1 − λ_rec = 0.001)


@dataclass
class ContextEncoderConfig(ImageConditionConfig):
    hole: tuple[int, ...] = CENTRE_HOLE_28  # (top, left, height, width); the dataset's Task.hole
    overlap: int = 1  # band of known context around the hole that is also predicted
    overlap_weight: float = 10.0  # L2 weight of the band relative to the hole (the code's overlapL2Weight)
    rec_weight: float = REC_WEIGHT
    width: int = 64  # nef = ngf = ndf
    bottleneck: int = 4000
    lr_g: float = 2e-3  # 10 × lr_d, as train.lua when 0 < wtl2 < 1
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 64

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.rec_weight <= 1.0:
            raise ValueError(f"rec_weight must be in [0, 1], got {self.rec_weight}")
        if self.overlap < 0 or self.overlap_weight < 0 or self.width < 1 or self.bottleneck < 1:
            raise ValueError("overlap and overlap_weight must be >= 0, width and bottleneck >= 1")

    @property
    def region(self) -> tuple[int, int, int, int]:
        """What the decoder predicts: the hole grown by ``overlap`` on every side."""
        top, left, height, width = self.hole
        o = self.overlap
        return (top - o, left - o, height + 2 * o, width + 2 * o)


def _after_two_strides(size: int) -> int:
    """Side after two 4×4 stride-2 padding-1 convolutions."""
    return (size // 2) // 2


class Encoder(nn.Module):
    """Image with a filled hole → bottleneck code (N × bottleneck × 1 × 1), BN + LeakyReLU after it."""

    def __init__(self, channels: int, size: tuple[int, int], width: int, bottleneck: int):
        super().__init__()
        kh, kw = _after_two_strides(size[0]), _after_two_strides(size[1])
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, bottleneck, (kh, kw), bias=False),  # the whole map → 1×1: dense bottleneck
            nn.BatchNorm2d(bottleneck), nn.LeakyReLU(0.2),
        )

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    """Bottleneck code → the predicted region (tanh), ``region`` = (height, width), both even."""

    def __init__(self, channels: int, region: tuple[int, int], width: int, bottleneck: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(bottleneck, 2 * width, (region[0] // 2, region[1] // 2), bias=False),
            nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, channels, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, code):
        return self.net(code)


class RegionDiscriminator(nn.Module):
    """DCGAN discriminator on the predicted region: two stride-2 convs, then one conv over the rest → a logit."""

    def __init__(self, channels: int, region: tuple[int, int], width: int):
        super().__init__()
        kh, kw = _after_two_strides(region[0]), _after_two_strides(region[1])
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 1, (kh, kw), bias=False),
        )

    def forward(self, x):
        return self.net(x).view(-1)


class ContextEncoderSpec(HoleFromDataset):
    name = "context-encoder"
    paper = "Pathak et al. 2016, Context Encoders: Feature Learning by Inpainting"
    config_class = ContextEncoderConfig
    image_range = "tanh"

    def profile_values(self, kind: str, profile: str) -> dict:
        if profile == "quick":
            return dict(width=32, bottleneck=400, steps=1000, checkpoint_every=250)
        return dict(steps=20000, checkpoint_every=2000)

    def build(self, config: ContextEncoderConfig) -> nn.ModuleDict:
        self.check_shapes(config)
        check_hole(config.hole, config.data_shape, margin=config.overlap)
        c, region = config.data_shape[0], config.region[2:]
        if region[0] % 2 or region[1] % 2 or min(region) < 4:
            raise ValueError(f"the predicted region {region[0]}×{region[1]} (hole grown by overlap) must have "
                             "even sides of at least 4 pixels")
        nets = nn.ModuleDict({
            "G": nn.Sequential(Encoder(c, config.data_shape[1:], config.width, config.bottleneck),
                               Decoder(c, region, config.width, config.bottleneck)),
            "D": RegionDiscriminator(c, region, config.width),
        })
        N.dcgan_init(nets)
        return nets

    def make_optimizers(self, nets, config: ContextEncoderConfig):
        betas = (config.beta1, config.beta2)
        return {"G": torch.optim.Adam(nets["G"].parameters(), lr=config.lr_g, betas=betas),
                "D": torch.optim.Adam(nets["D"].parameters(), lr=config.lr_d, betas=betas)}

    def region_weights(self, config: ContextEncoderConfig, device=None) -> torch.Tensor:
        """1×1×h×w L2 weights over the predicted region: 1 in the hole, ``overlap_weight`` in the band."""
        _, _, h, w = config.region
        o = config.overlap
        weights = torch.full((1, 1, h, w), float(config.overlap_weight), device=device)
        weights[..., o:h - o, o:w - o] = 1.0
        return weights

    def crop_region(self, images: torch.Tensor, config: ContextEncoderConfig) -> torch.Tensor:
        top, left, h, w = config.region
        return images[..., top:top + h, left:left + w]

    def generator_losses(self, nets, pred: torch.Tensor, real: torch.Tensor,
                         config: ContextEncoderConfig) -> dict[str, torch.Tensor]:
        """The context encoder's joint loss on its prediction ``pred`` of the true region ``real``:
        ``rec_weight`` · weighted L2 + (1 − ``rec_weight``) · adversarial, and the two parts."""
        l2 = (self.region_weights(config, pred.device) * (pred - real).pow(2)).mean()
        adv = generator_loss(nets["D"](pred), "non-saturating")
        joint = config.rec_weight * l2 + (1.0 - config.rec_weight) * adv
        return {"loss_g": joint, "loss_l2": l2, "loss_adv": adv}

    def train_step(self, nets, opts, batch: Batch, gen, config: ContextEncoderConfig) -> dict[str, torch.Tensor]:
        # One forward pass of the context encoder serves both updates, as in train.lua (no noise:
        # the model is deterministic).
        pred = nets["G"](batch.cond)
        real = self.crop_region(batch.x, config)
        loss_d = discriminator_loss(nets["D"](real), nets["D"](pred.detach()))
        opts["D"].zero_grad(set_to_none=True)
        loss_d.backward()
        opts["D"].step()
        parts = self.generator_losses(nets, pred, real, config)  # D just updated
        opts["G"].zero_grad(set_to_none=True)
        parts["loss_g"].backward()
        opts["G"].step()
        return {"loss_d": loss_d.detach(), **{k: v.detach() for k, v in parts.items()}}

    def generate(self, nets, cond: torch.Tensor, z, config: ContextEncoderConfig) -> torch.Tensor:
        pred = nets["G"](cond)
        o = config.overlap
        inner = pred[..., o:pred.shape[-2] - o, o:pred.shape[-1] - o]
        return paste(cond, inner, config.hole)


SPEC = ContextEncoderSpec()
