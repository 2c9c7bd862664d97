"""The one metric registry: what every layer (suite validation, ``evaluate``, results, report,
gate, ``genbench metrics``) reads to know a metric.

A *metric* is what a suite's ``evaluation.metrics`` or ``eval --metrics`` names (``fid``,
``prdc``, ``modes``, ``psnr`` ...). It produces one or more leaderboard *columns* (``prdc`` →
precision, recall, density, coverage), each with its better direction. It declares the data
kinds it scores, the inputs it needs from one pass over the samples, whether it needs a dataset
(not just another set of samples) as reference, whether a pytorch-fid statistics file suffices,
its parameters, which kinds it is a default for, and its compute function, which receives a
:class:`MetricInputs` record of what the pass gathered. Adding a metric is one module plus one
``register_metric`` call (the built-ins: :mod:`genbench.metrics.builtin`); third-party packages
register a ``MetricSpec`` under the entry-point group ``genbench.metrics``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from genbench.errors import GenbenchError
from genbench.registry import Registry

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "genbench.metrics"

DATA_KINDS = ("image", "points", "voxels")
# What a metric may ask the evaluation pass for:
#   features       extractor features of generated and real samples
#   probabilities  the extractor's class probabilities of generated samples
#   pixels         generated and real images as pixels (uint8)
#   points         generated 2-D points and the dataset's modes
#   pairs          (target, output) pairs: a model's translation/reconstruction of reference inputs
#   model          the trained model itself (path length, truncation sweep, editing): no sample set
#                  holds what these measure, so the suite runner scores them from the checkpoint
INPUTS = ("features", "probabilities", "pixels", "points", "pairs", "model")


@dataclass(frozen=True)
class Column:
    """One leaderboard column: ``higher_is_better`` is None where neither direction is better."""

    name: str
    description: str
    higher_is_better: bool | None


@dataclass(frozen=True)
class MetricSpec:
    """A metric's declaration. ``inputs`` is one tuple for every kind it scores, or a mapping
    kind → tuple where a kind is scored from other inputs (``modes``: class probabilities of
    images, the 2-D points themselves); it is stored as the mapping (see :meth:`inputs_for`)."""

    name: str
    description: str
    columns: tuple[Column, ...]
    kinds: tuple[str, ...]  # data kinds it can score (DATA_KINDS)
    inputs: tuple[str, ...] | Mapping[str, tuple[str, ...]]  # what it needs from the evaluation pass (INPUTS)
    needs_dataset: bool = False  # a dataset reference (val split, classes, modes), not just samples
    stats_reference: bool = False  # computable against a pytorch-fid statistics file (mu, sigma)
    params: Mapping[str, Any] = field(default_factory=dict)  # defaults, recorded with every result
    # compute(inputs: MetricInputs, **params) -> list[MetricResult], one per column it produced.
    compute: Callable[..., list] | None = None
    # check(kind, dataset) -> None, or why this dataset cannot be scored (called before anything runs)
    check: Callable[[str, Any], str | None] | None = None
    # requires() -> None, or why this machine cannot compute it at all (weights absent): asked when a
    # suite or command is validated, so a listed metric fails before anything runs, not after training
    requires: Callable[[], str | None] | None = None
    default: tuple[str, ...] = ()  # kinds for which it is in evaluate's default set
    # check_params(params) -> None, or why these parameters (defaults merged with a suite's
    # evaluation.params) are invalid: called when a suite is loaded, before anything runs
    check_params: Callable[[Mapping[str, Any]], str | None] | None = None
    # resolved(params) -> what else fixes a model metric's numbers besides its params (the weights an
    # "auto" choice resolves to here): part of the runner's cache key, so new weights mean a rerun
    resolved: Callable[[Mapping[str, Any]], dict] | None = None

    def __post_init__(self) -> None:
        inputs = self.inputs if isinstance(self.inputs, Mapping) else {k: tuple(self.inputs) for k in self.kinds}
        object.__setattr__(self, "inputs", {k: tuple(v) for k, v in inputs.items()})
        bad = ([k for k in self.kinds + tuple(self.default) if k not in DATA_KINDS] + [k for k in self.inputs if k not in self.kinds]
               + [i for v in self.inputs.values() for i in v if i not in INPUTS])
        if bad or not self.columns or not self.kinds or set(self.inputs) != set(self.kinds) \
                or not set(self.default) <= set(self.kinds):
            raise ValueError(f"metric {self.name!r}: invalid declaration (unknown {bad}, or no columns/kinds/inputs per kind)")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def scores_model(self) -> bool:
        """Scored from the trained model (input ``model``) by the suite runner, not from samples."""
        return any("model" in v for v in self.inputs.values())

    def inputs_for(self, kind: str) -> tuple[str, ...]:
        return self.inputs.get(kind, ())


@dataclass
class MetricInputs:
    """What one evaluation pass gathered, handed to every ``compute``: a metric reads the fields
    its declared inputs name (None where nothing of that kind was gathered)."""

    kind: str  # "image", "points" or "voxels"
    seed: int = 0  # seeds every random choice a metric makes (subsets, bootstrap)
    device: Any = None  # torch device the metric library computes on
    bootstrap: int = 0  # FID bootstrap resamples asked for (0: none)
    dataset: Any = None  # the reference genbench Dataset, when the reference is one
    split: str | None = None  # the dataset split scored against
    n_real: int | None = None  # reference samples used (statistics file: the count it records)
    fake: Any = None  # "features"/"probabilities": Features of the generated samples
    real: Any = None  # "features": Features of the reference (None against a statistics file)
    stats: Any = None  # the ReferenceStats, against a statistics file
    samples: Any = None  # "pixels": generated uint8 N×C×H×W; "points": generated float64 N×2
    pairs: tuple | None = None  # "pairs": (targets, outputs), uint8 arrays of one shape
    # The class each generated image should have, where the evaluation knows it (an image-to-image
    # model's outputs for labelled inputs): what task_accuracy scores the class probabilities against.
    labels: Any = None
    warnings: list[str] = field(default_factory=list)  # what a metric wants the result to say
    # "model": the loaded trained model (``baselines.trained.TrainedModel``) a model metric scores;
    # it records each column it cannot compute for this model here, column → why (e.g. no W space)
    model: Any = None
    n: int | None = None  # the evaluation's sample count: what a model metric with n = None samples
    extractor: str | None = None  # the evaluation's extractor name (model metrics sample and extract themselves)
    cache_dir: str | None = None  # where evaluate() caches the reference's features
    not_applicable: dict[str, str] = field(default_factory=dict)


def _column_clash(spec: MetricSpec) -> str | None:
    owners = {c.name: s.name for s in METRICS.registered() for c in s.columns}
    taken = [c.name for c in spec.columns if c.name in owners]
    return f"column {taken[0]!r} already belongs to metric {owners[taken[0]]!r}" if taken else None


# The one metric registry: built-ins below, third parties from the entry points on first lookup.
METRICS: Registry[MetricSpec] = Registry("metric", MetricSpec, ENTRY_POINT_GROUP, check=_column_clash)
register_metric = METRICS.register


class _Columns(Mapping[str, Column]):
    """Every registered metric's columns by name, in registration order: derived from METRICS,
    so there is nothing to keep in step."""

    def _all(self) -> dict[str, tuple[Column, str]]:
        return {c.name: (c, s.name) for s in METRICS.values() for c in s.columns}

    def owner(self, column: str) -> str:
        return self._all()[column][1]

    def __getitem__(self, column: str) -> Column:
        return self._all()[column][0]

    def __iter__(self):
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


COLUMNS = _Columns()


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
    return METRICS[COLUMNS.owner(column)] if column in COLUMNS else None


KIND_WORDS = {"image": "images", "points": "2-D points", "voxels": "voxels"}


def unavailable(name: str, kind: str, *, dataset=None, reference: str = "dataset") -> str | None:
    """Why metric ``name`` cannot score ``kind`` samples against this reference — a ``dataset``
    (pass it, so the metric's own check can look at its splits, classes, modes), another
    ``source`` of samples, or a ``stats`` file — or None when it can. Asked before anything runs."""
    spec = get_metric(name)
    if spec.scores_model:
        return ("it is scored from the trained model itself (its latent space, truncation or editing), which only "
                "the suite runner has: name it in a suite's evaluation.metrics and use genbench run")
    if kind not in spec.kinds:
        return f"it scores {' and '.join(KIND_WORDS[k] for k in spec.kinds)}, and these are {KIND_WORDS[kind]}"
    if spec.requires is not None and (why := spec.requires()) is not None:
        return why
    if reference == "stats" and not spec.stats_reference:
        enough = ", ".join(m for m, s in METRICS.items() if s.stats_reference)
        return (f"a statistics file holds only mu and sigma, which is enough for {enough}; use a dataset "
                f"or a sample source as the reference for {name}")
    if spec.needs_dataset and dataset is None:
        return "it needs a dataset (--dataset) as its reference, not another set of samples"
    if spec.check is not None and dataset is not None:
        return spec.check(kind, dataset)
    return None


# The built-in metrics declare themselves, next to their compute functions (a module that
# imports this one: hence at the bottom).
from genbench.metrics import builtin as _builtin  # noqa: E402,F401
