"""``mnist-classifier``: a small CNN trained on mnist-5k, the digit-domain feature extractor.

Inception-v3 features are a poor yardstick for 28×28 grey digits (upsampled ×10, an ImageNet
network sees them as blurry blobs), so the field scores MNIST generators with an MNIST
classifier: its penultimate activations for FID/KID/PRDC and its softmax for IS and for
counting modes (stacked MNIST: one digit per channel → 1000 modes).

The network (``MnistCNN``) is trained by ``scripts/train_mnist_classifier.py`` on the mnist-5k
train split and shipped frozen as ``genbench/assets/mnist_classifier.safetensors`` (safetensors:
loading never executes code). Its identity is ``mnist-classifier`` plus the file's sha256.
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

NAME = "mnist-classifier"
DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "assets" / "mnist_classifier.safetensors"
DEFAULT_WEIGHTS_SHA256 = "7f29362280127f3d8c5e06e79b3830cf86b75b6219ffa469c66eb0caeb3a1391"
FEATURE_DIM = 128
N_CLASSES = 10
IMAGE_SIZE = 28
PIXEL_MEAN, PIXEL_STD = 0.1307, 0.3081  # MNIST train statistics of pixels scaled to [0, 1]


class MnistCNN(nn.Module):
    """Three conv blocks, global average pooling, a 128-unit hidden layer, a 10-way head.

    About 110k parameters (≈ 0.45 MB as float32). ``forward`` returns the penultimate
    activations (after ReLU) and the logits.
    """

    def __init__(self) -> None:
        super().__init__()

        def block(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())

        self.body = nn.Sequential(
            block(1, 32),
            nn.MaxPool2d(2),  # 14×14
            block(32, 64),
            nn.MaxPool2d(2),  # 7×7
            block(64, 128),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.hidden = nn.Linear(128, FEATURE_DIM)
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(FEATURE_DIM, N_CLASSES)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = torch.relu(self.hidden(self.body(x)))
        return features, self.head(self.dropout(features))


def to_input(images_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 N×1×28×28 → normalised float32, the one preprocessing training and extraction share."""
    return (images_uint8.to(torch.float32) / 255.0 - PIXEL_MEAN) / PIXEL_STD


def load_model(path: Path) -> MnistCNN:
    """Build ``MnistCNN`` from a safetensors file; any mismatch is an error naming the file."""
    return fold_batchnorm(load_safetensors(MnistCNN(), path, NAME))


@torch.no_grad()
def fold_batchnorm(model: MnistCNN) -> MnistCNN:
    """Fold each eval-mode BatchNorm into the convolution before it (≈25 % faster on CPU).

    ``conv(x)·s + t`` with ``s = γ/√(var+ε)``, ``t = β − mean·s`` is one convolution with weights
    ``w·s`` and bias ``t``; the outputs agree with the unfolded network to float32 rounding.
    """
    for block in model.body:
        if isinstance(block, nn.Sequential) and isinstance(block[1], nn.BatchNorm2d):
            conv, bn = block[0], block[1]
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, padding=conv.padding, bias=True)
            folded.weight.copy_(conv.weight * scale[:, None, None, None])
            folded.bias.copy_(bn.bias - bn.running_mean * scale)
            block[0], block[1] = folded, nn.Identity()
    return model.eval()


def _check_batch(batch, expected_channels: int | None) -> torch.Tensor:
    tensor = uint8_tensor(batch, NAME, "images")
    shape = tuple(tensor.shape)
    if len(shape) != 4 or shape[1] not in (1, 3) or shape[2:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise GenbenchError(
            f"mnist-classifier: expects images N×C×28×28 with C = 1 (MNIST) or 3 (stacked MNIST), got shape {shape}"
        )
    if expected_channels is not None and shape[1] != expected_channels:
        raise GenbenchError(
            f"mnist-classifier: a batch has {shape[1]} channels but earlier batches had {expected_channels}"
        )
    return tensor


def stacked_probs(channel_probs: np.ndarray) -> np.ndarray:
    """Per-channel digit probabilities B×3×10 → 1000-way B×1000, index r*100 + g*10 + b."""
    r, g, b = channel_probs[:, 0], channel_probs[:, 1], channel_probs[:, 2]
    return (r[:, :, None, None] * g[:, None, :, None] * b[:, None, None, :]).reshape(len(channel_probs), -1)


class MnistClassifierExtractor:
    """Features (penultimate layer, float64) and class probabilities of ``MnistCNN``.

    1-channel input gives ``FEATURE_DIM`` features and 10 probabilities; 3-channel input
    (stacked MNIST) classifies each channel separately: features are the three channels'
    features concatenated (r, g, b), probabilities the 1000-way outer product.
    """

    def __init__(self, weights_path: str | Path | None = None) -> None:
        path, digest = checked_weights(NAME, weights_path, DEFAULT_WEIGHTS, DEFAULT_WEIGHTS_SHA256,
                                       "scripts/train_mnist_classifier.py")
        self.weights_path = path
        self.identity = ExtractorIdentity(NAME, digest)
        self.feature_dim = FEATURE_DIM  # per channel: 3-channel input gives 3 * FEATURE_DIM
        self.n_classes = N_CLASSES  # per channel: 3-channel input gives N_CLASSES ** 3
        self._model = load_model(path)

    @staticmethod
    def output_dims(channels: int) -> tuple[int, int]:
        """``(feature_dim, n_classes)`` for images with ``channels`` channels (1 or 3)."""
        if channels not in (1, 3):
            raise GenbenchError(f"mnist-classifier: images must have 1 or 3 channels, not {channels}")
        return FEATURE_DIM * channels, N_CLASSES**channels

    def extract(
        self,
        batches: ImageBatches,
        *,
        device: torch.device | str | None = None,
        progress: bool = True,
        total: int | None = None,
    ) -> Features:
        from tqdm.auto import tqdm

        dev = resolve_device(device)
        model = self._model.to(dev)
        features, probs = [], []
        channels = None
        with torch.inference_mode(), tqdm(total=total, unit="img", desc=NAME, disable=not progress) as bar:
            for batch in batches:
                tensor = _check_batch(batch, channels)
                channels = tensor.shape[1]
                n = tensor.shape[0]
                if n == 0:
                    continue
                x = to_input(tensor.to(dev).reshape(n * channels, 1, IMAGE_SIZE, IMAGE_SIZE))
                feats, logits = model(x)
                p = torch.softmax(logits.to(torch.float64), dim=1).cpu().numpy()
                f = feats.to(torch.float64).cpu().numpy().reshape(n, channels * FEATURE_DIM)
                if channels == 3:
                    p = stacked_probs(p.reshape(n, 3, N_CLASSES))
                features.append(f)
                probs.append(p)
                bar.update(n)
        if not features:
            raise GenbenchError("mnist-classifier: no images to extract features from (empty input)")
        logger.debug("extracted %s features from %d images on %s", NAME, sum(len(f) for f in features), dev)
        return Features(features=np.concatenate(features), probs=np.concatenate(probs), extractor=self.identity)
