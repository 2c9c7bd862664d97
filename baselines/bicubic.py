"""``bicubic`` — MATLAB's bicubic ``imresize``: the reference row of every super-resolution table.

No networks and no training (``steps`` = 0: "training" writes a checkpoint holding only the
config). ``generate`` upsamples the condition by the dataset's scale with
``genbench.imaging.resize.imresize`` and rounds to uint8, exactly as SR papers make their bicubic
baseline. Model space is the 'unit' range (x / 255 in float32): the input's grey levels are
recovered exactly by rounding, and the uint8 output, re-encoded as v / 255, decodes back to v
(``round(v / 255 * 255)``), so ``translate(lr)`` equals ``imresize(lr, scale)`` bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from baselines.spec import ImageConditionConfig, ModelSpec
from genbench.errors import GenbenchError
from genbench.imaging.resize import imresize


def sr_scale(config: ImageConditionConfig) -> int:
    """The integer upscaling factor from the target and input shapes (96 / 24 → 4)."""
    (c, h, w), (ci, hi, wi) = config.data_shape, config.cond_shape
    if c != ci or h % hi or w % wi or h // hi != w // wi or h // hi < 1:
        raise GenbenchError(f"super-resolution needs targets an integer multiple of the inputs with the same "
                            f"channels; got targets {tuple(config.data_shape)}, inputs {tuple(config.cond_shape)}")
    return h // hi


@dataclass
class BicubicConfig(ImageConditionConfig):
    steps: int = 0
    batch_size: int = 1


class BicubicSpec(ModelSpec):
    name = "bicubic"
    paper = "MATLAB imresize bicubic (Keys 1981, a = -0.5, antialiased), the SR literature's baseline"
    kinds = ("image",)
    config_class = BicubicConfig
    image_range = "unit"
    conditioning = "image"
    pairing = "paired"
    fully_convolutional = True

    def profile_values(self, kind: str, profile: str) -> dict:
        return dict(steps=0)

    def build(self, config: BicubicConfig) -> nn.ModuleDict:
        sr_scale(config)
        return nn.ModuleDict()

    def make_optimizers(self, nets, config):
        return {}

    def train_step(self, nets, opts, batch, gen, config):
        raise GenbenchError("bicubic has nothing to train: use steps=0")

    def generate(self, nets, cond: torch.Tensor, z, config: BicubicConfig) -> torch.Tensor:
        lr = torch.round(cond.detach().float().clamp(0, 1) * 255).to(torch.uint8).cpu().numpy()
        hr = imresize(lr, float(sr_scale(config)))
        return torch.from_numpy(hr.astype(np.float32) / np.float32(255)).to(cond.device)


SPEC = BicubicSpec()
