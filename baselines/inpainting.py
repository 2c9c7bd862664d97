"""What the inpainting baselines (``context-encoder``, ``gan-inpainting``) share: the hole.

A hole is ``(top, left, height, width)`` in target pixels, the ``Task.hole`` of an inpainting
dataset (``mnist-hole``: the centre 14×14). Both models keep the known pixels of their input and
fill only the hole, so an output equals its input outside the hole, as the papers paste their
predictions in.
"""

from __future__ import annotations

import dataclasses

import torch

from genbench.data.dataset import Dataset
from genbench.errors import GenbenchError

from baselines.spec import BaseConfig, ModelSpec

CENTRE_HOLE_28 = (7, 7, 14, 14)  # Pathak's centre region (half the side, centred) at 28×28


def check_hole(hole: tuple[int, ...], image_shape: tuple[int, ...], margin: int = 0) -> None:
    """The hole (grown by ``margin`` on every side) lies inside the image and is not empty."""
    if len(hole) != 4:
        raise GenbenchError(f"hole must be (top, left, height, width), got {tuple(hole)}")
    top, left, height, width = hole
    _, h, w = image_shape
    if height < 1 or width < 1 or top - margin < 0 or left - margin < 0 \
            or top + height + margin > h or left + width + margin > w:
        grown = f" grown by {margin} pixel(s)" if margin else ""
        raise GenbenchError(f"hole {tuple(hole)}{grown} does not fit inside {h}×{w} images")


def known_mask(hole: tuple[int, ...], image_shape: tuple[int, ...], device=None) -> torch.Tensor:
    """1×1×H×W float mask: 1 where the input's pixel is known, 0 in the hole."""
    top, left, height, width = hole
    mask = torch.ones(1, 1, *image_shape[1:], device=device)
    mask[..., top:top + height, left:left + width] = 0.0
    return mask


def paste(inputs: torch.Tensor, fill: torch.Tensor, hole: tuple[int, ...]) -> torch.Tensor:
    """``inputs`` with the hole replaced by ``fill`` (N×C×height×width)."""
    top, left, height, width = hole
    out = inputs.clone()
    out[..., top:top + height, left:left + width] = fill
    return out


class HoleFromDataset(ModelSpec):
    """Mixin for inpainting specs: the config's ``hole`` is the dataset's ``Task.hole`` when it has one."""

    kinds = ("image",)
    conditioning = "image"
    pairing = "paired"

    def default_config(self, dataset: Dataset, profile: str = "quick") -> BaseConfig:
        config = super().default_config(dataset, profile)
        task = dataset.task
        if task is not None and task.kind != "inpainting":
            raise GenbenchError(f"model {self.name!r} inpaints, but dataset {dataset.name!r} is a {task.kind} task")
        if task is not None and task.hole is not None:
            config = dataclasses.replace(config, hole=tuple(int(v) for v in task.hole))
        return config

    def check_shapes(self, config) -> None:
        if tuple(config.cond_shape) != tuple(config.data_shape):
            raise GenbenchError(f"model {self.name!r} fills a hole in its input: inputs {tuple(config.cond_shape)} "
                                f"and targets {tuple(config.data_shape)} must have the same shape")
