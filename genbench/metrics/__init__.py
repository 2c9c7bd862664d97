"""The metric library: numpy arrays or torch tensors (CPU or CUDA) in, float64 math,
:class:`MetricResult` out. Each metric lives in its own module; ``METRICS`` lists the
leaderboard columns with what they mean and which direction is better."""

from __future__ import annotations

from dataclasses import dataclass

from genbench.metrics.fid import fid, fid_infinity, frechet_distance, gaussian_statistics, trace_sqrt_product
from genbench.metrics.image_quality import psnr, psnr_per_image, ssim, ssim_per_image
from genbench.metrics.inception_score import inception_score
from genbench.metrics.kid import kid
from genbench.metrics.modes import class_mode_coverage, mode_coverage_2d
from genbench.metrics.parzen import parzen_log_likelihood, select_parzen_sigma
from genbench.metrics.prdc import prdc
from genbench.metrics.result import MetricResult

__all__ = [
    "METRICS",
    "MetricInfo",
    "MetricResult",
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


@dataclass(frozen=True)
class MetricInfo:
    """A leaderboard column: ``higher_is_better`` is None where neither direction is "better"."""

    name: str
    description: str
    higher_is_better: bool | None


METRICS: dict[str, MetricInfo] = {
    info.name: info
    for info in (
        MetricInfo("fid", "Fréchet distance between Gaussians fitted to real and generated features "
                   "(Heusel et al. 2017)", False),
        MetricInfo("fid_inf", "FID extrapolated to infinitely many samples by a linear fit against 1/N "
                   "(Chong & Forsyth 2020)", False),
        MetricInfo("kid", "Kernel distance: unbiased MMD² with a cubic polynomial kernel, mean over "
                   "random subsets (Bińkowski et al. 2018)", False),
        MetricInfo("is", "Inception Score: exp of the mean KL between per-sample and marginal class "
                   "predictions (Salimans et al. 2016)", True),
        MetricInfo("parzen", "Parzen-window (Gaussian KDE) log-likelihood of test data under the "
                   "samples, nats (Goodfellow et al. 2014)", True),
        MetricInfo("precision", "Fraction of generated samples inside the real data's k-NN manifold "
                   "(Kynkäänniemi et al. 2019)", True),
        MetricInfo("recall", "Fraction of real samples inside the generated data's k-NN manifold "
                   "(Kynkäänniemi et al. 2019)", True),
        MetricInfo("density", "Mean number of real k-NN balls containing a generated sample, over k "
                   "(Naeem et al. 2020)", True),
        MetricInfo("coverage", "Fraction of real samples whose k-NN ball contains a generated sample "
                   "(Naeem et al. 2020)", True),
        MetricInfo("modes", "Number of modes (mixture components or classes) the samples cover", True),
        MetricInfo("high_quality", "Fraction of 2-D samples within 3 standard deviations of a mode", True),
        MetricInfo("mode_kl", "KL(model's histogram over modes ‖ uniform or reference histogram), nats", False),
        MetricInfo("psnr", "Peak signal-to-noise ratio of reconstructions, dB", True),
        MetricInfo("ssim", "Structural similarity of reconstructions (11×11 Gaussian window, σ=1.5)", True),
    )
}
