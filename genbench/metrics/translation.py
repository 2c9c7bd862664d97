"""Metrics of image-to-image outputs that PSNR/SSIM do not cover: per-pixel L1 error, the task
classifier's accuracy on outputs (the FCN-score idea of pix2pix at digit scale), and the crop of
a task's region (an inpainting hole) that the hole metrics score.

L1 is reported on pixel values / 255 (0 = identical, 1 = black vs white), the scale image
translation papers quote it on; per image, then the mean and std over images, like PSNR/SSIM.
"""

from __future__ import annotations

import numpy as np

from genbench.metrics import _inputs
from genbench.metrics.result import MetricResult


def l1_per_image(a, b, data_range) -> np.ndarray:
    """Mean |a − b| / data_range per image (N×C×H×W or N×H×W)."""
    x = _inputs.to_numpy(a, "a").astype(np.float64)
    y = _inputs.to_numpy(b, "b").astype(np.float64)
    if x.shape != y.shape:
        raise ValueError(f"a and b: shapes differ ({x.shape} vs {y.shape})")
    if x.ndim not in (3, 4) or x.shape[0] < 1:
        raise ValueError(f"a: expected images N×C×H×W or N×H×W, got shape {x.shape}")
    _inputs.check_finite(x, "a")
    _inputs.check_finite(y, "b")
    data_range = _inputs.positive_number(data_range, "data_range")
    return np.abs(x - y).reshape(len(x), -1).mean(axis=1) / data_range


def l1(a, b, data_range) -> MetricResult:
    """Mean over images of the per-image mean absolute error / data_range; std (ddof 0) over images."""
    values = l1_per_image(a, b, data_range)
    return MetricResult("l1", float(values.mean()), std=float(values.std()) if values.size > 1 else float("nan"),
                        params={"data_range": float(data_range), "n": int(values.size), "scale": "pixel values / data_range"})


def classifier_accuracy(probs, labels, name: str = "task_accuracy") -> MetricResult:
    """Share of rows whose most probable class is the label; std = the binomial standard error
    √(p(1−p)/n) of that share (the uncertainty of the mean, as the leaderboard's ± is)."""
    p = _inputs.to_numpy(probs, "probs").astype(np.float64)
    y = _inputs.to_numpy(labels, "labels")
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 2:
        raise ValueError(f"probs: expected N×K class probabilities with K >= 2, got shape {p.shape}")
    if y.shape != (p.shape[0],) or y.dtype.kind not in "iu":
        raise ValueError(f"labels: expected {p.shape[0]} integer labels, got {y.dtype} {y.shape}")
    if y.min() < 0 or y.max() >= p.shape[1]:
        raise ValueError(f"labels: values must lie in 0..{p.shape[1] - 1} (the classifier's classes), "
                         f"got {int(y.min())}..{int(y.max())}")
    _inputs.check_finite(p, "probs")
    acc = float(np.mean(np.argmax(p, axis=1) == y))
    return MetricResult(name, acc, std=float(np.sqrt(acc * (1 - acc) / len(y))),
                        params={"n": int(len(y)), "rule": "argmax of the class probabilities == label",
                                "std_is": "binomial standard error of the share"})


def crop_region(images: np.ndarray, region: tuple[int, int, int, int]) -> np.ndarray:
    """``images[..., top:top+height, left:left+width]`` for ``region`` = (top, left, height, width),
    refusing a region that does not lie inside the images."""
    top, left, height, width = (int(v) for v in region)
    h, w = images.shape[-2:]
    if top < 0 or left < 0 or height < 1 or width < 1 or top + height > h or left + width > w:
        raise ValueError(f"region (top {top}, left {left}, height {height}, width {width}) does not lie inside "
                         f"{h}×{w} images")
    return images[..., top:top + height, left:left + width]
