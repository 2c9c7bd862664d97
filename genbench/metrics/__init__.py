"""The metric library: numpy arrays or torch tensors (CPU or CUDA) in, float64 math,
:class:`MetricResult` out. Each metric lives in its own module; ``METRICS`` is the metric
registry (:mod:`genbench.metrics.registry`): every metric with its columns, better directions,
data kinds, inputs, parameters and compute function, third-party ones included."""

from __future__ import annotations

from genbench.metrics.fid import fid, fid_infinity, frechet_distance, gaussian_statistics, trace_sqrt_product
from genbench.metrics.image_quality import psnr, psnr_per_image, ssim, ssim_per_image
from genbench.metrics.inception_score import inception_score
from genbench.metrics.kid import kid
from genbench.metrics.modes import class_mode_coverage, mode_coverage_2d
from genbench.metrics.parzen import parzen_log_likelihood, select_parzen_sigma
from genbench.metrics.prdc import prdc
from genbench.metrics.result import MetricResult
from genbench.metrics.registry import (  # after the metric modules: registering the built-ins imports them
    COLUMNS,
    METRICS,
    Column,
    MetricInputs,
    MetricSpec,
    columns_of,
    get_metric,
    higher_is_better,
    metric_of_column,
    register_metric,
    unavailable,
)

__all__ = [
    "COLUMNS",
    "METRICS",
    "Column",
    "MetricInputs",
    "MetricResult",
    "MetricSpec",
    "columns_of",
    "get_metric",
    "higher_is_better",
    "metric_of_column",
    "register_metric",
    "unavailable",
    "class_mode_coverage",
    "fid",
    "fid_infinity",
    "frechet_distance",
    "gaussian_statistics",
    "inception_score",
    "kid",
    "mode_coverage_2d",
    "parzen_log_likelihood",
    "prdc",
    "psnr",
    "psnr_per_image",
    "select_parzen_sigma",
    "ssim",
    "ssim_per_image",
    "trace_sqrt_product",
]
