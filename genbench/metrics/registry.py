"""The one metric registry: what every layer (suite validation, ``evaluate``, results, report,
gate, ``genbench metrics``) reads to know a metric.

A *metric* is what a suite's ``evaluation.metrics`` or ``eval --metrics`` names (``fid``,
``prdc``, ``modes``, ``psnr`` ...). It produces one or more leaderboard *columns* (``prdc`` →
precision, recall, density, coverage), each with its better direction. It declares the data
kinds it scores, the inputs it needs from one pass over the samples, whether it needs a dataset
(not just another set of samples) as reference, whether a pytorch-fid statistics file suffices,
its parameters, and its compute function. Adding a metric is one module plus one
``register_metric`` call; third-party packages register a ``MetricSpec`` under the entry-point
group ``genbench.metrics``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Callable, Iterable, Mapping

from genbench.errors import GenbenchError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "genbench.metrics"

DATA_KINDS = ("image", "points")
# What a metric may ask the evaluation pass for:
#   features       extractor features of generated and real samples
#   probabilities  the extractor's class probabilities of generated samples
#   pixels         generated and real images as pixels (uint8)
#   points         generated 2-D points and the dataset's modes
#   pairs          (target, output) pairs: a model's translation/reconstruction of reference inputs
INPUTS = ("features", "probabilities", "pixels", "points", "pairs")


@dataclass(frozen=True)
class Column:
    """One leaderboard column: ``higher_is_better`` is None where neither direction is better."""

    name: str
    description: str
    higher_is_better: bool | None


@dataclass(frozen=True)
class MetricSpec:
    name: str
    description: str
    columns: tuple[Column, ...]
    kinds: tuple[str, ...]  # data kinds it can score (DATA_KINDS)
    inputs: tuple[str, ...]  # what it needs from the evaluation pass (INPUTS)
    needs_dataset: bool = False  # a dataset reference (val split, classes, modes), not just samples
    stats_reference: bool = False  # computable against a pytorch-fid statistics file (mu, sigma)
    params: Mapping[str, Any] = field(default_factory=dict)  # defaults, recorded with every result
    # compute(inputs, **params) -> list[MetricResult]; ``inputs`` is evaluate's typed record of
    # what the pass gathered (see genbench.evaluate). None only while a spec is being declared.
    compute: Callable[..., list] | None = None

    def __post_init__(self) -> None:
        bad = [k for k in self.kinds if k not in DATA_KINDS] + [i for i in self.inputs if i not in INPUTS]
        if bad or not self.columns or not self.kinds:
            raise ValueError(f"metric {self.name!r}: invalid declaration (unknown {bad}, or no columns/kinds)")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


METRICS: dict[str, MetricSpec] = {}
COLUMNS: dict[str, Column] = {}


def register_metric(spec: MetricSpec) -> MetricSpec:
    """Add ``spec``; a metric or column name may be registered once."""
    if spec.name in METRICS:
        raise ValueError(f"metric {spec.name!r} is registered twice")
    for c in spec.columns:
        if c.name in COLUMNS:
            raise ValueError(f"column {c.name!r} of metric {spec.name!r} already belongs to another metric")
    METRICS[spec.name] = spec
    for c in spec.columns:
        COLUMNS[c.name] = c
    return spec


def get_metric(name: str) -> MetricSpec:
    try:
        return METRICS[name]
    except KeyError:
        raise GenbenchError(f"unknown metric {name!r}; known metrics: {', '.join(sorted(METRICS))}") from None


def higher_is_better(column: str) -> bool | None:
    """The better direction of a leaderboard column (or of a metric with one column); None if unknown."""
    if column in COLUMNS:
        return COLUMNS[column].higher_is_better
    spec = METRICS.get(column)
    return spec.columns[0].higher_is_better if spec is not None and len(spec.columns) == 1 else None


def columns_of(metrics: Iterable[str]) -> tuple[str, ...]:
    """Leaderboard columns of the named metrics, in order."""
    return tuple(c for m in metrics for c in get_metric(m).column_names)


def metric_of_column(column: str) -> MetricSpec | None:
    return next((s for s in METRICS.values() if column in s.column_names), None)


def load_plugins() -> None:
    """Register third-party metrics from the ``genbench.metrics`` entry points (a broken one warns)."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            spec = obj() if callable(obj) and not isinstance(obj, MetricSpec) else obj
            if not isinstance(spec, MetricSpec):
                raise TypeError("not a genbench.metrics.registry.MetricSpec")
            register_metric(spec)
        except Exception as exc:  # a broken plug-in must not break genbench
            log.warning("could not load metric plug-in %r (%s): %s", ep.name, ep.value, exc)


def _col(name: str, description: str, higher: bool | None) -> Column:
    return Column(name, description, higher)


# The built-in declarations. ``compute`` is attached by each metric's module (see evaluate).
for _spec in (
    MetricSpec("fid", "Fréchet distance between Gaussians fitted to real and generated features (Heusel et al. 2017)",
               (_col("fid", "Fréchet Inception Distance", False),), ("image",), ("features",), stats_reference=True),
    MetricSpec("fid_inf", "FID extrapolated to infinitely many samples by a linear fit against 1/N (Chong & Forsyth 2020)",
               (_col("fid_inf", "FID∞", False),), ("image",), ("features",)),
    MetricSpec("kid", "Kernel distance: unbiased MMD² with a cubic polynomial kernel, mean over random subsets "
               "(Bińkowski et al. 2018)", (_col("kid", "Kernel Inception Distance", False),), ("image",), ("features",),
               params={"subsets": 100, "max_subset_size": 1000}),
    MetricSpec("is", "Inception Score: exp of the mean KL between per-sample and marginal class predictions "
               "(Salimans et al. 2016)", (_col("is", "Inception Score", True),), ("image",), ("probabilities",),
               stats_reference=True, params={"splits": 10}),
    MetricSpec("prdc", "Precision/recall (Kynkäänniemi et al. 2019), density/coverage (Naeem et al. 2020) in feature space",
               (_col("precision", "Fraction of generated samples inside the real data's k-NN manifold", True),
                _col("recall", "Fraction of real samples inside the generated data's k-NN manifold", True),
                _col("density", "Mean number of real k-NN balls containing a generated sample, over k", True),
                _col("coverage", "Fraction of real samples whose k-NN ball contains a generated sample", True)),
               ("image",), ("features",), params={"k": 5}),
    MetricSpec("parzen", "Parzen-window (Gaussian KDE) log-likelihood of test data under the samples, nats "
               "(Goodfellow et al. 2014)", (_col("parzen", "Parzen log-likelihood, nats", True),),
               ("image", "points"), ("pixels",), needs_dataset=True),
    MetricSpec("modes", "Modes (mixture components or classes) the samples cover, quality and balance",
               (_col("modes", "Number of modes the samples cover", True),
                _col("high_quality", "Fraction of 2-D samples within 3 standard deviations of a mode", True),
                _col("mode_kl", "KL(model's histogram over modes ‖ uniform or reference histogram), nats", False)),
               ("image", "points"), ("probabilities",), needs_dataset=True),
    MetricSpec("psnr", "Peak signal-to-noise ratio of a model's outputs against their targets, dB",
               (_col("psnr", "PSNR, dB", True),), ("image",), ("pairs",), needs_dataset=True),
    MetricSpec("ssim", "Structural similarity of outputs against targets (11×11 Gaussian window, σ = 1.5)",
               (_col("ssim", "SSIM", True),), ("image",), ("pairs",), needs_dataset=True),
):
    register_metric(_spec)
del _spec
