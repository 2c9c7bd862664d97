"""VGG19 feature maps for SRGAN's perceptual content loss (Ledig et al. 2017, ``l_VGG/5.4``).

The loss compares φ5,4 — the feature map after the ReLU of the 4th convolution before the 5th
max-pooling of an ImageNet-trained VGG19 — of the output and of the target. genbench never
downloads these weights: they are looked up, like the Inception weights, at
``$GENBENCH_VGG19_WEIGHTS``, then in torch hub's checkpoint cache under torchvision's file name
(``vgg19-dcbb9e9d.pth``, where ``torchvision.models.vgg19(weights="IMAGENET1K_V1")`` puts them),
and a missing file is an error naming it and where to put it. The file is a torchvision VGG19
state dict; only the ``features.*`` tensors up to conv5_4 are used (the classifier's may be
absent). It is loaded with ``weights_only=True`` (no pickled code runs). Inputs follow
torchvision's convention: RGB in [0, 1], normalised with the ImageNet mean and std.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from genbench.errors import GenbenchError

WEIGHTS_FILENAME = "vgg19-dcbb9e9d.pth"
WEIGHTS_URL = "https://download.pytorch.org/models/" + WEIGHTS_FILENAME  # named in errors, never fetched
WEIGHTS_ENV = "GENBENCH_VGG19_WEIGHTS"
# VGG19 ("E") up to conv5_4: channels of each 3×3 conv, "M" a 2×2 max-pool. Layer indices (and so
# state-dict keys ``features.<i>.weight``) match torchvision's ``vgg19().features``.
_LAYERS_TO_CONV5_4 = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
                      512, 512, 512, 512)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def hub_weights_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILENAME


def find_weights() -> Path:
    """``$GENBENCH_VGG19_WEIGHTS``, else torch hub's cache; never downloaded."""
    env = os.environ.get(WEIGHTS_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise GenbenchError(f"${WEIGHTS_ENV} points to {path}, which is not a file: set it to the path of "
                                f"{WEIGHTS_FILENAME} (from {WEIGHTS_URL}) or unset it to use {hub_weights_path()}")
        return path
    path = hub_weights_path()
    if path.is_file():
        return path
    raise GenbenchError(
        f"the VGG19 weights file {WEIGHTS_FILENAME} (needed by the vgg54 content loss) was not found: "
        f"${WEIGHTS_ENV} is not set and it is not in the torch hub checkpoint cache ({path}); genbench "
        f"does not download it. Fetch it from {WEIGHTS_URL} and put it at {path} or point ${WEIGHTS_ENV} "
        "to it, or use content_loss=mse."
    )


def vgg19_to_conv5_4() -> nn.Sequential:
    """VGG19's convolutional layers up to the ReLU after conv5_4 (φ5,4), randomly initialised."""
    layers: list[nn.Module] = []
    channels = 3
    for item in _LAYERS_TO_CONV5_4:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU()]
            channels = item
    return nn.Sequential(*layers)


class VGG54(nn.Module):
    """[0, 1] RGB images → φ5,4 feature maps; frozen, always in eval mode."""

    def __init__(self, features: nn.Sequential):
        super().__init__()
        self.features = features.eval().requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def train(self, mode: bool = True) -> "VGG54":
        return super().train(False)

    def forward(self, unit_rgb: torch.Tensor) -> torch.Tensor:
        return self.features((unit_rgb - self.mean) / self.std)


def load_vgg54(path: str | Path | None = None) -> VGG54:
    """The φ5,4 network with the weights at ``path`` (default: ``find_weights()``)."""
    path = Path(path) if path is not None else find_weights()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated file, not a torch file, pickled code refused
        raise GenbenchError(f"cannot read the VGG19 weights {path}: {type(exc).__name__}: {exc}") from None
    if not isinstance(state, dict):
        raise GenbenchError(f"the VGG19 weights {path} are not a state dict")
    features = vgg19_to_conv5_4()
    wanted = {f"features.{k}": v for k, v in features.state_dict().items()}
    missing = [k for k in wanted if k not in state]
    if missing:
        raise GenbenchError(f"the VGG19 weights {path} lack {missing[0]} (and {len(missing) - 1} more): "
                            f"not a torchvision VGG19 state dict ({WEIGHTS_FILENAME})")
    try:
        features.load_state_dict({k[len("features."):]: state[k] for k in wanted}, strict=True)
    except RuntimeError as exc:
        raise GenbenchError(f"the VGG19 weights {path} do not fit VGG19 ({exc})") from None
    return VGG54(features)
