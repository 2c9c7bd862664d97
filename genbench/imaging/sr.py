"""The super-resolution test protocol's image side: how an HR test image becomes the LR input a
model gets (Ledig et al. 2017 and the SR literature since SRCNN; BasicSR's ``--test`` pipeline).

1. Trim: the HR image is cropped at its right and bottom to a multiple of the scale, as MATLAB
   ``modcrop`` does (``img(1:h - mod(h, s), 1:w - mod(w, s), :)``), so that LR × scale is HR.
2. Degrade: LR = MATLAB ``imresize(HR, 1/scale, 'bicubic')`` (antialiased Keys a = −0.5),
   uint8 (:func:`genbench.imaging.resize.imresize`).
3. The model's output must be exactly scale × the LR, i.e. the trimmed HR's size; it is scored
   against the trimmed HR (PSNR/SSIM with ``y_channel`` and ``crop_border = scale``).
"""

from __future__ import annotations

import re

import numpy as np

from genbench.errors import GenbenchError
from genbench.imaging.resize import imresize

TRIM = "right and bottom cropped to a multiple of the scale (MATLAB modcrop)"
RESIZE = "matlab-bicubic"  # genbench.imaging.resize.imresize, antialiased, uint8 after each pass

_TASK = re.compile(r"^sr([1-9][0-9]?)$")


def parse_sr_task(task: str) -> int:
    """``"sr4"`` → 4; anything else is an error naming the accepted form."""
    m = _TASK.match(str(task).strip().lower())
    if not m or int(m.group(1)) < 2:
        raise GenbenchError(f"task {task!r} is not a super-resolution task: give srN with N ≥ 2 (e.g. sr4)")
    return int(m.group(1))


def modcrop(image: np.ndarray, scale: int, *, where: str = "image") -> np.ndarray:
    """``image`` (C×H×W or H×W) trimmed at the right and bottom to a multiple of ``scale``."""
    h, w = image.shape[-2:]
    if h < scale or w < scale:
        raise GenbenchError(f"{where}: {h}×{w} is smaller than the scale {scale}; nothing is left after trimming")
    return image[..., : h - h % scale, : w - w % scale]


def degrade(hr: np.ndarray, scale: int) -> np.ndarray:
    """The LR input of a trimmed uint8 HR image (C×H×W): MATLAB-bicubic ×1/scale, uint8."""
    if hr.dtype != np.uint8 or hr.ndim != 3:
        raise GenbenchError(f"degrade: expected a uint8 C×H×W image, got {hr.dtype} {hr.shape}")
    if hr.shape[1] % scale or hr.shape[2] % scale:
        raise GenbenchError(f"degrade: {hr.shape[1]}×{hr.shape[2]} is not a multiple of the scale {scale}; trim it first")
    return imresize(hr[None], 1.0 / scale)[0]


def bicubic_upscaler(scale: int):
    """The bicubic baseline as a translator (uint8 N×C×H×W tensor in, MATLAB-bicubic ×scale out),
    the reference row of every SR table."""
    import torch

    def upscale(images):
        arr = images.cpu().numpy() if hasattr(images, "cpu") else np.asarray(images)
        if arr.dtype != np.uint8:
            raise GenbenchError(f"the bicubic upscaler takes uint8 images, got {arr.dtype} (do not pass --range)")
        return torch.from_numpy(imresize(arr, scale))

    return upscale


# Entry points: ``genbench eval genbench.imaging.sr:bicubic_x4 --task sr4 --targets Set5/HR``.
def bicubic_x2():
    return bicubic_upscaler(2)


def bicubic_x3():
    return bicubic_upscaler(3)


def bicubic_x4():
    return bicubic_upscaler(4)
