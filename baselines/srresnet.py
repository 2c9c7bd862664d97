"""``srresnet`` — Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a
Generative Adversarial Network" (the MSE-trained generator, SRResNet).

Faithful (Fig. 4 and section 3): a 9×9 conv + PReLU; ``n_blocks`` = 16 residual blocks of
(3×3 conv, BN, PReLU, 3×3 conv, BN, skip); a 3×3 conv + BN with a long skip from the first
PReLU; log2(scale) sub-pixel stages (3×3 conv to 4·channels, PixelShuffle ×2, PReLU); a 9×9
output conv to the image channels (linear, no activation); 64 channels; pixel-wise MSE; Adam
lr 1e-4, β1 = 0.9; minibatch 16; 10⁶ updates ('full'). The inputs are scaled to [0, 1] and the
targets to [-1, 1], as the paper does: the data reach the model in [-1, 1] (``image_range``
'tanh', one range for both) and the generator maps its input to [0, 1] first; MSE is taken in
the targets' [-1, 1] range.

Chosen where the paper is silent: PReLU with one slope per channel; PyTorch's default
initialisation. Scales must be powers of two (×2, ×4, ×8: the paper's ×2 stages).

Differs: the paper trains on 96×96 crops drawn afresh every step from 350k ImageNet images;
genbench's ``photos-sr4`` is a fixed pool of 1,800 crops (see ``genbench/data/sr.py``). 'quick'
(2-core CPU) is 16 channels, 4 blocks, minibatch 16, 2,000 steps at lr 1e-3, ×0.1 after 1,500
(``lr_decay_after``): from scratch the paper's constant 1e-4 is far too slow for a short run.
Measured on photos-sr4 test (Y-PSNR / SSIM, crop 4, seed 0, under load; bicubic 26.03 dB /
0.790): at lr 1e-3, 23.2 dB after 300 steps, 24.4 after 600, 25.4 after 1,000, 25.96 after
1,500; then at 1e-4, 26.09 after 1,750 and 26.11 / 0.779 after 2,000 (the quick profile run from
scratch with this code: 26.08 / 0.777, 978 s under load). On mnist-sr2 (crop 2;
1,500 steps, decay after 1,200):
25.1 dB / 0.947 against bicubic's 18.3 / 0.828.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from baselines.bicubic import sr_scale
from baselines.spec import Batch, ImageConditionConfig, ModelSpec
from genbench.errors import GenbenchError


@dataclass
class SRResNetConfig(ImageConditionConfig):
    channels: int = 64
    n_blocks: int = 16
    lr: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.999
    batch_size: int = 16
    steps: int = 1_000_000
    lr_decay_after: int = 0  # lr × LR_DECAY from this many updates on; 0 = constant (the paper's SRResNet)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.channels < 1 or self.n_blocks < 0:
            raise ValueError(f"channels must be >= 1 and n_blocks >= 0, got {self.channels}, {self.n_blocks}")
        if self.lr_decay_after < 0:
            raise ValueError(f"lr_decay_after must be >= 0 (0: constant lr), got {self.lr_decay_after}")


LR_DECAY = 0.1


def updates(opt: torch.optim.Optimizer) -> int:
    """Updates an Adam optimizer has made (its own step counter, saved in the checkpoint, so a
    schedule read from it resumes bit-exactly); 0 before the first."""
    state = opt.state.get(opt.param_groups[0]["params"][0])
    return int(state["step"]) if state else 0


def set_lr(opt: torch.optim.Optimizer, lr: float, done: int, decay_after: int) -> None:
    """``lr``, × ``LR_DECAY`` once ``done`` >= ``decay_after`` > 0 (a step decay)."""
    for group in opt.param_groups:
        group["lr"] = lr * (LR_DECAY if decay_after and done >= decay_after else 1.0)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.PReLU(channels),
            nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SRResNet(nn.Module):
    """LR in [0, 1] → HR in [-1, 1] (unbounded linear output)."""

    def __init__(self, image_channels: int, channels: int, n_blocks: int, scale: int):
        super().__init__()
        if scale < 2 or scale & (scale - 1):
            raise GenbenchError(f"SRResNet upsamples by ×2 sub-pixel stages: scale must be a power of two, got {scale}")
        self.head = nn.Sequential(nn.Conv2d(image_channels, channels, 9, padding=4), nn.PReLU(channels))
        self.blocks = nn.Sequential(*[ResidualBlock(channels) for _ in range(n_blocks)])
        self.trunk_end = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels))
        stages = []
        for _ in range(scale.bit_length() - 1):
            stages += [nn.Conv2d(channels, 4 * channels, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(channels)]
        self.upsample = nn.Sequential(*stages)
        self.tail = nn.Conv2d(channels, image_channels, 9, padding=4)

    def forward(self, lr_unit: torch.Tensor) -> torch.Tensor:
        h = self.head(lr_unit)
        h = h + self.trunk_end(self.blocks(h))
        return self.tail(self.upsample(h))


class SRResNetSpec(ModelSpec):
    name = "srresnet"
    paper = "Ledig et al. 2017, Photo-Realistic Single Image Super-Resolution Using a GAN (SRResNet)"
    kinds = ("image",)
    config_class = SRResNetConfig
    image_range = "tanh"
    conditioning = "image"
    pairing = "paired"
    fully_convolutional = True

    def profile_values(self, kind: str, profile: str) -> dict:
        if profile == "quick":
            return dict(channels=16, n_blocks=4, lr=1e-3, lr_decay_after=1500, batch_size=16, steps=2000,
                        checkpoint_every=500, log_every=50)
        return dict(steps=1_000_000, checkpoint_every=10_000, log_every=100)

    def build_generator(self, config: SRResNetConfig) -> SRResNet:
        return SRResNet(config.data_shape[0], config.channels, config.n_blocks, sr_scale(config))

    def build(self, config: SRResNetConfig) -> nn.ModuleDict:
        return nn.ModuleDict({"G": self.build_generator(config)})

    def make_optimizers(self, nets, config: SRResNetConfig):
        return {"G": torch.optim.Adam(nets["G"].parameters(), lr=config.lr, betas=(config.beta1, config.beta2))}

    def generate(self, nets, cond: torch.Tensor, z, config: SRResNetConfig) -> torch.Tensor:
        # The paper's LR range [0, 1]; output in the HR range [-1, 1]. Channels-last convolutions
        # are ~1.4× faster on a CPU for these narrow layers.
        return nets["G"](((cond + 1.0) / 2.0).contiguous(memory_format=torch.channels_last))

    def train_step(self, nets, opts, batch: Batch, gen, config: SRResNetConfig) -> dict[str, torch.Tensor]:
        set_lr(opts["G"], config.lr, updates(opts["G"]), config.lr_decay_after)
        return self.mse_step(nets, opts, batch, config)

    def mse_step(self, nets, opts, batch: Batch, config: SRResNetConfig) -> dict[str, torch.Tensor]:
        """One Adam update of G on the pixel MSE, at the optimizer's current learning rate."""
        loss = F.mse_loss(self.generate(nets, batch.cond, None, config), batch.x)
        opts["G"].zero_grad(set_to_none=True)
        loss.backward()
        opts["G"].step()
        return {"loss_mse": loss.detach()}


SPEC = SRResNetSpec()
