"""Layers of the Karras et al. GANs (ProGAN 2018, StyleGAN 2019) that ``progan`` and ``stylegan`` share.

- **Equalised learning rate** (ProGAN §4.1): weights are stored as N(0, 1) draws and multiplied
  at run time by He's constant c = gain / √fan_in (gain √2 for LReLU layers), so Adam's
  per-parameter step size moves every layer's effective weights at the same relative speed.
  ``lr_mul`` (StyleGAN's mapping network: 0.01) stores w / lr_mul and scales by c · lr_mul, which
  multiplies that layer's effective learning rate by ``lr_mul``.
- **Pixel norm** (ProGAN §4.2): each pixel's feature vector divided by its RMS over channels.
- **Minibatch standard deviation** (ProGAN §3): one extra feature map holding the average over
  features and pixels of the per-feature std across a group of samples.
- **Padding digits to a power of two**: both papers grow 4 → 8 → 16 …; a 28×28 digit is padded
  with background to 32×32 for the networks, and the generator's 32×32 output is centre-cropped.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from genbench.errors import GenbenchError

LRELU_GAIN = math.sqrt(2.0)


class EqualizedLinear(nn.Module):
    """A dense layer with equalised learning rate: stored weight N(0, 1/lr_mul²), used × c·lr_mul."""

    def __init__(self, in_features: int, out_features: int, gain: float = LRELU_GAIN, lr_mul: float = 1.0,
                 bias_init: float = 0.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init) / lr_mul))
        self.scale = gain / math.sqrt(in_features) * lr_mul
        self.lr_mul = lr_mul

    def effective_weight(self) -> torch.Tensor:
        return self.weight * self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.effective_weight(), self.bias * self.lr_mul)


class EqualizedConv2d(nn.Module):
    """A stride-1 'same' convolution with equalised learning rate (c = gain / √(C_in·k·k))."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, gain: float = LRELU_GAIN,
                 bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.scale = gain / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2

    def effective_weight(self) -> torch.Tensor:
        return self.weight * self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.effective_weight(), self.bias, padding=self.padding)


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """b = a / √(mean over channels of a² + ε), per pixel (dim 1 is the channel/feature axis)."""
    return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + eps)


def minibatch_stddev(x: torch.Tensor, group_size: int, eps: float = 1e-8) -> torch.Tensor:
    """Append one feature map: the mean over C×H×W of the std (biased, over each group of
    ``group_size`` samples) of every feature, replicated over the group's samples and pixels.

    The batch is split into groups as the official code does (sample i belongs to group
    i mod n_groups); ``group_size`` ≥ the batch uses the whole minibatch, as the paper's text says.
    """
    n, c, h, w = x.shape
    g = min(group_size, n)
    if n % g:
        raise GenbenchError(f"minibatch stddev: the minibatch ({n}) must be a multiple of the group size ({g})")
    y = x.reshape(g, n // g, c, h, w)
    y = (y - y.mean(dim=0, keepdim=True)).pow(2).mean(dim=0)  # variance per group, feature, pixel
    y = torch.sqrt(y + eps).mean(dim=(1, 2, 3))  # one number per group
    y = y.view(1, n // g, 1, 1, 1).expand(g, n // g, 1, h, w).reshape(n, 1, h, w)
    return torch.cat([x, y], dim=1)


def blur(x: torch.Tensor) -> torch.Tensor:
    """The [1, 2, 1]⊗[1, 2, 1]/16 low-pass filter StyleGAN applies around resampling (per channel)."""
    k = torch.tensor([1.0, 2.0, 1.0], dtype=x.dtype, device=x.device)
    k = (k[:, None] * k[None, :]) / 16.0
    c = x.shape[1]
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k.expand(c, 1, 3, 3), groups=c)


def upsample(x: torch.Tensor) -> torch.Tensor:
    """×2 nearest-neighbour (the papers' up-sampling before each 3×3 conv)."""
    return F.interpolate(x, scale_factor=2, mode="nearest")


def downsample(x: torch.Tensor) -> torch.Tensor:
    """×½ by 2×2 average pooling."""
    return F.avg_pool2d(x, 2)


def power_of_two_side(data_shape: tuple[int, ...]) -> int:
    """The smallest power-of-two side ≥ 8 that holds an H×W image (28×28 → 32)."""
    if len(data_shape) != 3:
        raise GenbenchError(f"the Karras GANs need image data (C, H, W), got shape {tuple(data_shape)}")
    side = 8
    while side < max(data_shape[1:]):
        side *= 2
    return side


def pad_to(x: torch.Tensor, side: int, fill: float) -> torch.Tensor:
    """Centre ``x`` on a side×side canvas of ``fill`` (the background: −1 in tanh space)."""
    h, w = x.shape[-2:]
    top, left = (side - h) // 2, (side - w) // 2
    return F.pad(x, (left, side - w - left, top, side - h - top), value=fill)


def crop_to(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """The centre h×w window (the inverse of ``pad_to``)."""
    top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    return x[..., top:top + h, left:left + w]


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """θ_ema ← decay · θ_ema + (1 − decay) · θ for every parameter (buffers are copied)."""
    for p_ema, p in zip(ema.parameters(), model.parameters()):
        p_ema.mul_(decay).add_(p.detach(), alpha=1.0 - decay)
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.copy_(b)


def gradient_penalty_norms(d_out: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """‖∇ₓ D(x)‖₂ per sample, with the graph kept so the penalty can be back-propagated."""
    (grad,) = torch.autograd.grad(d_out.sum(), inputs, create_graph=True)
    return grad.flatten(1).norm(dim=1)


class StepClock(nn.Module):
    """The number of training steps taken, as a buffer: train_step is not told its step, and a
    buffer is checkpointed with the weights, so the schedule it drives resumes bit-exactly."""

    def __init__(self):
        super().__init__()
        self.register_buffer("step", torch.zeros((), dtype=torch.int64))

    def value(self) -> int:
        return int(self.step)

    def tick(self) -> None:
        self.step += 1
