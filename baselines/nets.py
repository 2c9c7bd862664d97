"""Network building blocks shared by the baselines.

Two families: MLPs for 2-D points (and Goodfellow's maxout discriminator), and DCGAN-style
convolutional nets for small images (28×28, or any H×W divisible by 4): strided convolutions
instead of pooling, no hidden dense layers, BatchNorm except at the generator's output and the
discriminator's input, ReLU in the generator and LeakyReLU(0.2) in the discriminator (Radford et
al. 2016). GAN variants use these conv nets for images as the mode-collapse literature does
(Metz 2017, Srivastava 2017 and Lin 2018 all use DCGAN-like nets on (stacked) MNIST); the
autoencoder family uses the discriminator body as its encoder and the generator as its decoder.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from genbench.errors import GenbenchError


class Maxout(nn.Module):
    """Linear map to ``out_features × pieces`` followed by a max over the pieces (Goodfellow 2013)."""

    def __init__(self, in_features: int, out_features: int, pieces: int):
        super().__init__()
        self.out_features, self.pieces = out_features, pieces
        self.linear = nn.Linear(in_features, out_features * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear(x).view(x.shape[0], self.out_features, self.pieces)
        return y.max(dim=2).values


def mlp_body(in_features: int, hidden: list[int] | tuple[int, ...], *, activation: str = "relu",
             batchnorm: bool = False, batchnorm_first: bool = True, maxout_pieces: int = 5) -> nn.Sequential:
    """Hidden layers only (output width ``hidden[-1]``); ``activation`` is relu | leaky_relu | tanh | maxout.

    ``batchnorm_first=False`` leaves the first layer unnormalised (DCGAN: no BN at D's input).
    """
    layers: list[nn.Module] = []
    width = in_features
    for i, h in enumerate(hidden):
        if activation == "maxout":
            layers.append(Maxout(width, h, maxout_pieces))
        else:
            layers.append(nn.Linear(width, h))
            if batchnorm and (i > 0 or batchnorm_first):
                layers.append(nn.BatchNorm1d(h))
            act = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh}.get(activation)
            if act is None:
                raise ValueError(f"unknown activation {activation!r}: use relu, leaky_relu, tanh or maxout")
            layers.append(act())
        width = h
    return nn.Sequential(*layers)


def mlp(in_features: int, hidden: list[int] | tuple[int, ...], out_features: int, **kwargs) -> nn.Sequential:
    """``mlp_body`` followed by a linear output layer."""
    body = mlp_body(in_features, hidden, **kwargs)
    width = hidden[-1] if len(hidden) else in_features
    return nn.Sequential(*body, nn.Linear(width, out_features))


def _base_size(image_shape: tuple[int, ...]) -> tuple[int, int]:
    _, h, w = image_shape
    if h % 4 or w % 4:
        raise GenbenchError(f"convolutional baselines need image sides divisible by 4, got {h}×{w}")
    return h // 4, w // 4


class ConvGenerator(nn.Module):
    """z → projection to 2w×(H/4)×(W/4) → BN ReLU → ConvT to w → BN ReLU → ConvT to C channels.

    The output is linear (logits); the model applies tanh or sigmoid as its data range needs.
    """

    def __init__(self, in_features: int, image_shape: tuple[int, ...], width: int, out_channels: int | None = None):
        super().__init__()
        c = image_shape[0] if out_channels is None else out_channels
        self.h0, self.w0 = _base_size(image_shape)
        self.width = width
        self.project = nn.Linear(in_features, 2 * width * self.h0 * self.w0)
        self.body = nn.Sequential(
            nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, c, 4, 2, 1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(z.shape[0], 2 * self.width, self.h0, self.w0)
        return self.body(h)


class ConvFeatures(nn.Module):
    """Image → Conv(w) LReLU → Conv(2w) BN LReLU → flattened features (no BN at the input)."""

    def __init__(self, image_shape: tuple[int, ...], width: int, in_channels: int | None = None):
        super().__init__()
        c = image_shape[0] if in_channels is None else in_channels
        h0, w0 = _base_size(image_shape)
        self.body = nn.Sequential(
            nn.Conv2d(c, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        self.out_features = 2 * width * h0 * w0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ConvDiscriminator(nn.Module):
    """``ConvFeatures`` followed by one linear layer to ``out_features`` logits."""

    def __init__(self, image_shape: tuple[int, ...], width: int, out_features: int = 1,
                 in_channels: int | None = None):
        super().__init__()
        self.features = ConvFeatures(image_shape, width, in_channels)
        self.head = nn.Linear(self.features.out_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def dcgan_init(module: nn.Module) -> None:
    """Radford et al. 2016: all weights from N(0, 0.02); BatchNorm scale from N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def normal_init(module: nn.Module, std: float) -> None:
    """Every Linear weight from N(0, std²) and zero biases (the PacGAN/ALI toy nets: std 0.02)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            nn.init.zeros_(m.bias)


def orthogonal_init(module: nn.Module, gain: float) -> None:
    """Metz et al. 2017 (toy experiments): orthogonal weights scaled by ``gain``."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.orthogonal_(m.weight, gain=gain)
            nn.init.zeros_(m.bias)


def n_pixels(shape: tuple[int, ...]) -> int:
    return int(math.prod(shape))
