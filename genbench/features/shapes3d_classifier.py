"""``shapes3d-classifier``: a small 3-D CNN trained on shapes3d, the voxel-domain feature extractor.

No ImageNet network sees voxels, so voxel generators are scored as digit generators are: with a
classifier of their own domain (as Wu et al. 2016 judge 3D-GAN by classification on its
features). Its penultimate activations give FID/KID/PRDC, its softmax IS and class-mode coverage.

The network (``VoxelCNN``) is trained by ``scripts/train_shapes3d_classifier.py`` on the shapes3d
train split and shipped frozen as ``genbench/assets/shapes3d_classifier.safetensors``
(safetensors: loading never executes code). Its identity is the name plus the file's sha256.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn

from genbench.device import resolve_device
from genbench.errors import GenbenchError
from genbench.features.base import (ExtractorIdentity, Features, ImageBatches, checked_weights, load_safetensors,
                                    uint8_tensor)

logger = logging.getLogger(__name__)

NAME = "shapes3d-classifier"
DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "assets" / "shapes3d_classifier.safetensors"
DEFAULT_WEIGHTS_SHA256 = "a68ad50b01ea96c5f7c3b48224bd679d32ee40914a7f1bd336ea305dcffe8539"
FEATURE_DIM = 128
N_CLASSES = 10
VOXEL_SHAPE = (1, 32, 32, 32)


class VoxelCNN(nn.Module):
    """Three strided 4³ convolutions (32³ → 16³ → 8³ → 4³, GroupNorm + ReLU), global average
    pooling, a 128-unit hidden layer and a 10-way head: about 0.2 M parameters, ≈ 30 M
    multiply-adds per shape, so CPU training takes minutes. GroupNorm rather than BatchNorm: it
    has no running statistics, so the frozen network computes exactly what it was trained to (a
    BatchNorm version's eval-mode accuracy swung between 17 % and 79 % from epoch to epoch on
    mostly-empty 32³ inputs). ``forward`` returns (penultimate features, logits)."""

    def __init__(self) -> None:
        super().__init__()

        def block(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv3d(c_in, c_out, 4, stride=2, padding=1, bias=False), nn.GroupNorm(8, c_out),
                                 nn.ReLU())

        self.body = nn.Sequential(block(1, 16), block(16, 32), block(32, 64), nn.AdaptiveAvgPool3d(1), nn.Flatten())
        self.hidden = nn.Linear(64, FEATURE_DIM)
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(FEATURE_DIM, N_CLASSES)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = torch.relu(self.hidden(self.body(x)))
        return features, self.head(self.dropout(features))


def to_input(voxels_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 occupancy 0..255 → float32 in [0, 1], the one preprocessing training and extraction share."""
    return voxels_uint8.to(torch.float32) / 255.0


def load_model(path: Path) -> VoxelCNN:
    """Build ``VoxelCNN`` from a safetensors file; any mismatch is an error naming the file."""
    return load_safetensors(VoxelCNN(), path, NAME)


def _check_batch(batch) -> torch.Tensor:
    tensor = uint8_tensor(batch, NAME, "voxels")
    if tuple(tensor.shape[1:]) != VOXEL_SHAPE or tensor.ndim != 5:
        raise GenbenchError(f"{NAME}: expects voxels N×1×32×32×32, got shape {tuple(tensor.shape)}")
    return tensor


class Shapes3dClassifierExtractor:
    """Features (penultimate layer, float64) and 10-way class probabilities of ``VoxelCNN``."""

    def __init__(self, weights_path: str | Path | None = None) -> None:
        path, digest = checked_weights(NAME, weights_path, DEFAULT_WEIGHTS, DEFAULT_WEIGHTS_SHA256,
                                       "scripts/train_shapes3d_classifier.py")
        self.weights_path = path
        self.identity = ExtractorIdentity(NAME, digest)
        self.feature_dim = FEATURE_DIM
        self.n_classes = N_CLASSES
        self._model = load_model(path)

    def extract(self, batches: ImageBatches, *, device: torch.device | str | None = None, progress: bool = True,
                total: int | None = None) -> Features:
        from tqdm.auto import tqdm

        dev = resolve_device(device)
        model = self._model.to(dev)
        features, probs = [], []
        with torch.inference_mode(), tqdm(total=total, unit="shape", desc=NAME, disable=not progress) as bar:
            for batch in batches:
                tensor = _check_batch(batch)
                if tensor.shape[0] == 0:
                    continue
                feats, logits = model(to_input(tensor.to(dev)))
                features.append(feats.to(torch.float64).cpu().numpy())
                probs.append(torch.softmax(logits.to(torch.float64), dim=1).cpu().numpy())
                bar.update(tensor.shape[0])
        if not features:
            raise GenbenchError(f"{NAME}: no voxels to extract features from (empty input)")
        logger.debug("extracted %s features from %d shapes on %s", NAME, sum(len(f) for f in features), dev)
        return Features(features=np.concatenate(features), probs=np.concatenate(probs), extractor=self.identity)
