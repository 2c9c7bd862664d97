"""Mode coverage: how many modes of a known mixture (2-D rings/grids) or of a labelled dataset
(MNIST digits, stacked-MNIST's 1000 classes) a model produces, and how evenly.

KL convention (both functions): KL(p_model ‖ q) = Σₖ pₖ log(pₖ/qₖ) — the "reverse KL" of the
VEEGAN/PacGAN tables — where p is the model's histogram over modes and q is uniform or the
reference histogram. Empty model bins contribute 0 (0·log 0 = 0), so dropped modes raise the KL
only through the extra mass elsewhere; the value is finite and at most log K against uniform.
"""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np
import torch

from genbench.metrics import _inputs
from genbench.metrics.result import MetricResult

log = logging.getLogger(__name__)

# Floor for reference bins that are empty where the model has mass (see class_mode_coverage).
_REFERENCE_FLOOR = 1e-6


def kl_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p ‖ q) for probability vectors, 0·log(0/q) = 0; requires q > 0 wherever p > 0."""
    mask = p > 0
    return float(np.sum(p[mask] * (np.log(p[mask]) - np.log(q[mask]))))


def mode_coverage_2d(points, means, std, *, threshold: float = 3.0, min_count: int = 1) -> list[MetricResult]:
    """Coverage of a Gaussian mixture with modes at ``means`` (K×2) and component ``std``.

    Each point goes to its nearest mode (Euclidean); it is *high quality* if it lies within
    ``threshold``·``std`` of that mode. Results: ``modes`` = modes holding ≥ ``min_count``
    high-quality points; ``high_quality`` = fraction of points that are high quality;
    ``mode_kl`` = KL(histogram of all points over their nearest modes ‖ uniform) (module docstring).
    """
    pts = _inputs.to_tensor(points, "points", device="cpu")
    centres = _inputs.to_tensor(means, "means", device="cpu")
    if pts.ndim != 2 or pts.shape[0] < 1:
        raise ValueError(f"points: expected shape (N, dims) with N ≥ 1, got {tuple(pts.shape)}")
    if centres.ndim != 2 or centres.shape[0] < 1:
        raise ValueError(f"means: expected shape (modes, dims), got {tuple(centres.shape)}")
    if pts.shape[1] != centres.shape[1]:
        raise ValueError(f"points and means: dimensions differ ({pts.shape[1]} vs {centres.shape[1]})")
    _inputs.check_finite(pts, "points")
    _inputs.check_finite(centres, "means")
    std = _inputs.positive_number(std, "std")
    threshold = _inputs.positive_number(threshold, "threshold")
    min_count = _inputs.positive_int(min_count, "min_count")

    # Assignments and the threshold test are scale invariant: divide by a power of two (exact)
    # so that distances between 1e200 or 1e-200 points neither overflow nor underflow.
    scale = _inputs.power_of_two_scale(pts, centres)
    dist = torch.cdist(pts / scale, centres / scale)
    nearest_dist, nearest = dist.min(dim=1)
    good = nearest_dist <= threshold * (std / scale)
    k = centres.shape[0]
    good_counts = np.bincount(nearest[good].numpy(), minlength=k)
    all_counts = np.bincount(nearest.numpy(), minlength=k)
    covered = int((good_counts >= min_count).sum())
    p = all_counts / all_counts.sum()
    params = {"n_modes": k, "n": pts.shape[0], "std": std, "threshold": threshold, "min_count": min_count}
    return [
        MetricResult("modes", float(covered), params=params),
        MetricResult("high_quality", float(good.double().mean()), params=params),
        MetricResult("mode_kl", kl_divergence(p, np.full(k, 1.0 / k)),
                     params={**params, "kl": "KL(model nearest-mode histogram || uniform)"}),
    ]


def class_mode_coverage(labels, n_classes: int, *, reference=None, min_count: int = 1) -> list[MetricResult]:
    """Classes (modes) a model hits and KL of its class histogram against a reference.

    ``labels``: predicted class per sample, integers in [0, n_classes) (stacked MNIST:
    r·100 + g·10 + b). ``modes`` = classes with ≥ ``min_count`` samples; ``mode_kl`` =
    KL(model histogram ‖ q), q uniform or ``reference`` (non-negative per-class weights, e.g. the
    dataset's label counts; normalised here). If the reference has an empty class that the model
    does produce, KL would be infinite: those bins of q are floored at 1e-6 (then renormalised),
    a warning says so and ``params['reference_floored']`` counts them.
    """
    lab = _inputs.to_numpy(labels, "labels")
    n_classes = _inputs.positive_int(n_classes, "n_classes")
    min_count = _inputs.positive_int(min_count, "min_count")
    if lab.ndim != 1 or lab.size < 1:
        raise ValueError(f"labels: expected a non-empty 1-D array of class indices, got shape {lab.shape}")
    if lab.dtype.kind == "f":
        if not np.all(np.isfinite(lab)) or not np.all(lab == np.round(lab)):
            raise ValueError("labels: must be integer class indices (got non-integer values)")
    elif lab.dtype.kind not in "iu":
        raise ValueError(f"labels: must be integer class indices, got dtype {lab.dtype}")
    lab = lab.astype(np.int64)
    if lab.min() < 0 or lab.max() >= n_classes:
        raise ValueError(f"labels: values must lie in [0, {n_classes}), got range [{lab.min()}, {lab.max()}]")

    counts = np.bincount(lab, minlength=n_classes)
    p = counts / counts.sum()
    params: dict = {"n_classes": n_classes, "n": int(lab.size), "min_count": min_count}
    if reference is None:
        q = np.full(n_classes, 1.0 / n_classes)
        params["kl"] = "KL(model class histogram || uniform)"
    else:
        ref = _inputs.to_numpy(reference, "reference").astype(np.float64).reshape(-1)
        if ref.size != n_classes:
            raise ValueError(f"reference: expected {n_classes} per-class weights, got {ref.size}")
        _inputs.check_finite(ref, "reference")
        if (ref < 0).any() or ref.max() <= 0:
            raise ValueError("reference: weights must be non-negative with a positive sum")
        ref = ref / ref.max()  # a sum of weights near 1e308 would overflow
        q = ref / ref.sum()
        holes = (q == 0) & (p > 0)
        if holes.any():
            warnings.warn(
                f"reference: {int(holes.sum())} class(es) the model produces are empty in the reference; "
                f"flooring them at {_REFERENCE_FLOOR:g} to keep mode_kl finite",
                stacklevel=2,
            )
            q = np.where(q == 0, _REFERENCE_FLOOR, q)
            q = q / q.sum()
            params["reference_floored"] = int(holes.sum())
        params["kl"] = "KL(model class histogram || reference histogram)"
    return [
        MetricResult("modes", float((counts >= min_count).sum()), params=params),
        MetricResult("mode_kl", kl_divergence(p, q), params={**params, "max_kl_uniform": math.log(n_classes)}),
    ]
