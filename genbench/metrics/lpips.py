"""LPIPS (Zhang et al. 2018, v0.1, VGG-16 backbone): the distance StyleGAN's path length uses.

The network is the ``lpips`` package's ``LPIPS(net="vgg")``: inputs in [−1, 1] shifted and scaled
per channel, torchvision's VGG-16 features at relu1_2, relu2_2, relu3_3, relu4_3, relu5_3, each
unit-normalised over channels, squared differences weighted by the learned 1×1 "lin" layers,
averaged over pixels and summed over layers. Grey images are tiled to three channels.

Weights are never downloaded: the lin layers (``vgg.pth`` of the lpips package, weights v0.1) at
``$GENBENCH_LPIPS_WEIGHTS``, and the backbone (``vgg16-397923af.pth``) at
``$GENBENCH_VGG16_WEIGHTS`` or in torch hub's checkpoint cache, where torchvision puts it. Both
are read with ``weights_only=True`` (no pickled code runs).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from genbench.errors import GenbenchError
from genbench.hashing import sha256_file

LIN_ENV = "GENBENCH_LPIPS_WEIGHTS"
VGG_ENV = "GENBENCH_VGG16_WEIGHTS"
VGG_FILENAME = "vgg16-397923af.pth"
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)
_SLICES = ((0, 4), (4, 9), (9, 16), (16, 23), (23, 30))  # torchvision vgg16.features up to relu1_2 … relu5_3
_CHANNELS = (64, 128, 256, 512, 512)


def find_weights() -> tuple[Path, Path]:
    """(lin layers, VGG-16 backbone) paths, or a GenbenchError saying where to put them."""
    lin = os.environ.get(LIN_ENV)
    if not lin or not Path(lin).expanduser().is_file():
        where = f"${LIN_ENV} points to {lin}, which is not a file" if lin else f"${LIN_ENV} is not set"
        raise GenbenchError(f"LPIPS weights not found: {where}; point it to the lpips package's "
                            "weights/v0.1/vgg.pth (genbench never downloads them), or use another distance")
    vgg_env = os.environ.get(VGG_ENV)
    vgg = Path(vgg_env).expanduser() if vgg_env else Path(torch.hub.get_dir()) / "checkpoints" / VGG_FILENAME
    if not vgg.is_file():
        raise GenbenchError(f"LPIPS backbone weights not found at {vgg}: put torchvision's {VGG_FILENAME} there "
                            f"or point ${VGG_ENV} to it (genbench never downloads them)")
    return Path(lin).expanduser(), vgg


class LPIPS(nn.Module):
    """d(x0, x1) per image pair for images in [−1, 1] (N×C×H×W, C = 1 or 3)."""

    def __init__(self, lin_path: Path, vgg_path: Path):
        super().__init__()
        from torchvision.models import vgg16

        features = vgg16().features
        try:
            state = torch.load(vgg_path, map_location="cpu", weights_only=True)
            features.load_state_dict({k[len("features."):]: v for k, v in state.items() if k.startswith("features.")})
            lin_state = torch.load(lin_path, map_location="cpu", weights_only=True)
            self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in _CHANNELS)
            for k, lin in enumerate(self.lins):
                lin.weight.data.copy_(lin_state[f"lin{k}.model.1.weight"])
        except (RuntimeError, KeyError, OSError, ValueError) as exc:
            raise GenbenchError(f"LPIPS weights {lin_path} / {vgg_path} do not fit LPIPS v0.1 (VGG): {exc}") from None
        self.slices = nn.ModuleList(features[a:b] for a, b in _SLICES)
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1))
        self.identity = {"name": "lpips-vgg-v0.1", "lin_sha256": sha256_file(lin_path),
                         "vgg16_sha256": sha256_file(vgg_path)}
        self.eval().requires_grad_(False)

    def forward(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        if x0.shape[1] == 1:
            x0, x1 = x0.expand(-1, 3, -1, -1), x1.expand(-1, 3, -1, -1)
        h0, h1 = (x0 - self.shift) / self.scale, (x1 - self.shift) / self.scale
        total = torch.zeros(x0.shape[0], dtype=x0.dtype, device=x0.device)
        for block, lin in zip(self.slices, self.lins):
            h0, h1 = block(h0), block(h1)
            n0 = h0 / (h0.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
            n1 = h1 / (h1.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
            total = total + lin((n0 - n1).pow(2)).mean(dim=(1, 2, 3))
        return total


def load_lpips() -> LPIPS:
    return LPIPS(*find_weights())
