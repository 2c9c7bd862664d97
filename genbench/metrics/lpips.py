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

import numpy as np
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
    vgg_env = os.environ.get(VGG_ENV)
    vgg = Path(vgg_env).expanduser() if vgg_env else Path(torch.hub.get_dir()) / "checkpoints" / VGG_FILENAME
    if not lin or not Path(lin).expanduser().is_file():
        where = f"${LIN_ENV} points to {lin}, which is not a file" if lin else f"${LIN_ENV} is not set"
        also = "" if vgg.is_file() else f"; its VGG-16 backbone ({VGG_FILENAME}) goes at {vgg} or ${VGG_ENV}"
        raise GenbenchError(f"LPIPS weights not found: {where}; point it to the lpips package's "
                            f"weights/v0.1/vgg.pth{also} (genbench never downloads them), or use another distance")
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


# ---------------------------------------------------------------------------- the `lpips` metric
# Mean LPIPS of outputs against their targets (lower: perceptually closer), for paired image-to-
# image outputs (suites' translation/SR/inpainting protocols, ``genbench eval OUT/ --targets HR/``).
# Optional: scored only where the weights are present, and asked for by name.

_LOADED: dict[tuple, LPIPS] = {}
BATCH = 16  # pairs per forward pass: bounds memory on large images


def weights_problem() -> str | None:
    """Why LPIPS cannot be computed on this machine (its weights absent), or None."""
    try:
        find_weights()
    except GenbenchError as exc:
        return str(exc)
    return None


def _network(device) -> LPIPS:
    """One network per weight files (by path, size and mtime) and device: hashing and loading
    VGG-16 once per process, not once per image pair."""
    paths = find_weights()
    key = tuple((str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in paths) + (str(device),)
    if key not in _LOADED:
        _LOADED[key] = LPIPS(*paths).to(device)
    return _LOADED[key]


def lpips_per_image(targets, outputs, device=None) -> tuple[np.ndarray, dict]:
    """LPIPS of each (target, output) pair of uint8 N×C×H×W images, and the weights' identity."""
    a, b = np.asarray(targets), np.asarray(outputs)
    if a.dtype != np.uint8 or b.dtype != np.uint8 or a.shape != b.shape or a.ndim != 4 or a.shape[1] not in (1, 3):
        raise ValueError(f"LPIPS scores uint8 N×C×H×W pairs with C = 1 or 3 of one shape, got {a.dtype} {a.shape} "
                         f"and {b.dtype} {b.shape}")
    if min(a.shape[2:]) < 16:
        raise ValueError(f"LPIPS's VGG-16 needs images of at least 16×16 pixels, got {a.shape[2]}×{a.shape[3]}")
    device = torch.device(device or "cpu")
    net = _network(device)
    values = []
    with torch.no_grad():
        for i in range(0, len(a), BATCH):
            x0, x1 = (torch.from_numpy(v[i:i + BATCH]).to(device, torch.float32) / 127.5 - 1.0 for v in (a, b))
            values.append(net(x0, x1).double().cpu().numpy())
    return np.concatenate(values), dict(net.identity)


def lpips_metric(x) -> list:
    """The registry's compute: mean over pairs of LPIPS(target, output), std over pairs."""
    from genbench.metrics.result import MetricResult

    targets, outputs = x.pairs
    values, identity = lpips_per_image(targets, outputs, x.device)
    return [MetricResult("lpips", float(values.mean()), std=float(values.std()) if values.size > 1 else float("nan"),
                         params={"n": int(values.size), "weights": identity, "input_range": "uint8 / 127.5 − 1",
                                 "grey": "tiled to three channels", "pixels": "whole image, every channel"})]
