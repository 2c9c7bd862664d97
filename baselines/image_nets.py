"""Building blocks shared by the image-to-image baselines (pix2pix, CycleGAN, SPADE, SRGAN...).

``PatchDiscriminator`` is the PatchGAN of Isola et al. 2017 (junyanz's ``NLayerDiscriminator``):
4×4 convolutions, stride 2 for ``n_layers`` downsamplings then two stride-1 layers, LeakyReLU
0.2, a norm layer everywhere but the first and last convolution, one logit per overlapping patch.
Its receptive field with ``n_layers = 3`` is 70×70 (the paper's default); with 2 it is 34×34 and
with 1 it is 16×16, the sizes that make sense for 28×28 digits (see ``receptive_field``).
"""

from __future__ import annotations

from torch import nn


def norm_layer(kind: str, channels: int) -> nn.Module:
    """'batch' (pix2pix), 'instance' (CycleGAN, no affine, as junyanz's default) or 'none'."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be 'batch', 'instance' or 'none', got {kind!r}")


class PatchDiscriminator(nn.Module):
    """PatchGAN: image (or an input‖output pair stacked on channels) → a map of patch logits."""

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, norm: str = "batch"):
        super().__init__()
        bias = norm == "instance"  # a BatchNorm after the conv makes its bias redundant (junyanz)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for i in range(1, n_layers + 1):
            prev, mult = mult, min(2 ** i, 8)
            stride = 2 if i < n_layers else 1
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride, 1, bias=bias), norm_layer(norm, ndf * mult),
                       nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)
        self.n_layers = n_layers

    def forward(self, x):
        return self.net(x)


def receptive_field(n_layers: int) -> int:
    """Side of the input patch one output logit of ``PatchDiscriminator(n_layers=...)`` sees."""
    # Layers from output back to input: two stride-1 4×4 convs, then n_layers stride-2 4×4 convs.
    size = 1
    for stride in [1, 1] + [2] * n_layers:
        size = (size - 1) * stride + 4
    return size
