"""Suite files: one YAML file that alone reproduces a benchmark run.

A suite names the dataset(s), the seeds, the models (a baseline plus config overrides), the
evaluation protocol (number of samples, reference split, extractor, metrics) and per-profile
changes to all of these (``quick`` for a 2-core CPU, ``full`` for a GPU). Loading validates
everything up front, so a typo fails in a second with the file, line and key path instead of
an hour into a run.
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import yaml

from genbench.data import DATASETS, dataset_spec, expand_dataset_pattern, load_dataset
from genbench.data.dataset import SPLITS, Dataset, Fingerprint, Split
from genbench.errors import GenbenchError
from genbench.features import EXTRACTORS
from genbench.metrics.registry import METRICS, columns_of
from genbench.overrides import OverrideError, apply_overrides
from genbench.profiles import DEFAULT_PROFILE, PROFILES

# Bounds on the YAML document: a suite is a page of text, and one from an untrusted pull request
# must not take a CI runner down with an alias bomb ("billion laughs") or a recursive alias.
MAX_SUITE_BYTES = 1 << 20
MAX_NODES = 10_000  # values after expanding aliases
MAX_DEPTH = 64
MAX_SEED = 2**64 - 1  # torch.manual_seed's range

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class SuiteError(GenbenchError):
    """A suite file that is not valid; the message names the file, line and key path."""


# --------------------------------------------------------------------------- typed objects


@dataclass(frozen=True)
class Evaluation:
    """The evaluation protocol: identical for every model and for the real-data row."""

    n: int = 2000  # generated samples per job (and real samples for the ceiling row)
    split: str = "test"  # reference split the samples are scored against
    real_split: str = "train"  # held-out real data scored as the ceiling row
    extractor: str | None = None  # None: the evaluation core's default for the dataset
    metrics: tuple[str, ...] = ("fid",)
    batch_size: int = 250
    n_reconstruct: int = 500  # reference images reconstructed for psnr/ssim
    bootstrap: int = 0  # FID bootstrap resamples (0: none); gives FID a measured noise for the gate
    # Metric curves: score intermediate checkpoints every k training steps, or at the listed steps
    # (None: final checkpoint only). Not part of the scoring protocol: the final numbers are the same.
    every: int | tuple[int, ...] | None = None
    # Super-resolution tasks: PSNR/SSIM on the Y channel of BT.601 ("y", the SR papers' protocol)
    # or on RGB ("rgb", as BasicSR's model zoo reports). Part of the protocol of SR results only.
    sr_mode: str = "y"
    # Parameters of the model metrics (input "model": ppl, truncation_sweep, edit_accuracy ...) that
    # differ from their defaults, metric → {param: value}: e.g. fewer path-length pairs on a CPU.
    # Checked at load by each metric's check_params; recorded in every result's params.
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def curve_steps(self, final_steps: int | None) -> list[int]:
        """The intermediate steps to score before the final one (those below ``final_steps``)."""
        if self.every is None or not final_steps:
            return []
        ks = range(self.every, final_steps, self.every) if isinstance(self.every, int) else self.every
        return sorted({int(k) for k in ks if 0 < k < final_steps})

    @property
    def sample_metrics(self) -> tuple[str, ...]:
        """Metrics scored on generated samples (by ``evaluate``; the runner adds the text protocol's)."""
        return tuple(m for m in self.metrics if not _scores_pairs(m) and m not in RUNNER_SCORED
                     and not _scores_model(m))

    @property
    def model_metrics(self) -> tuple[str, ...]:
        """Metrics scored from the trained model itself (the runner's model-metrics step)."""
        return tuple(m for m in self.metrics if _scores_model(m))

    def metric_params(self, metric: str) -> dict:
        """A model metric's parameters: its defaults, then the suite's ``evaluation.params``."""
        return {**dict(METRICS[metric].params), **dict(self.params.get(metric, {}))}

    @property
    def reconstruction_metrics(self) -> tuple[str, ...]:
        """Metrics scored on (target, output) pairs: only for models that translate."""
        return tuple(m for m in self.metrics if _scores_pairs(m))

    @property
    def columns(self) -> tuple[str, ...]:
        """Leaderboard columns, in suite order."""
        return columns_of(self.metrics)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["metrics"] = list(self.metrics)
        d["params"] = {m: dict(p) for m, p in self.params.items()}
        if isinstance(self.every, tuple):
            d["every"] = list(self.every)
        return d


# Scored by the runner from what only it knows (the captions a text model's samples were drawn for).
RUNNER_SCORED = ("caption_consistency",)


def _scores_model(metric: str) -> bool:
    """Scored from the trained model (latent paths, truncation, editing), not from samples."""
    return metric in METRICS and METRICS[metric].scores_model


def _scores_pairs(metric: str) -> bool:
    """Scored on (target, output) pairs, i.e. only for models that translate."""
    if metric not in METRICS:
        return False
    inputs = METRICS[metric].inputs  # one tuple, or kind -> tuple
    return any("pairs" in v for v in (inputs.values() if isinstance(inputs, Mapping) else (inputs,)))


@dataclass(frozen=True)
class ModelSpec:
    label: str  # the leaderboard row name (unique in the suite)
    model: str  # baseline name in baselines.MODELS
    overrides: Mapping[str, Any] = field(default_factory=dict)
    steps: int | None = None  # None: the suite's (profile's) train steps
    # label of the model in this suite whose trained checkpoint (same dataset and seed) starts this
    # one's training, e.g. srgan from srresnet; the runner trains (or reuses) it first
    init_from: str | None = None

    def to_dict(self) -> dict:
        return {"label": self.label, "model": self.model, "overrides": dict(self.overrides), "steps": self.steps,
                "init_from": self.init_from}


@dataclass(frozen=True)
class Suite:
    """A suite resolved for one profile: what the runner executes."""

    name: str
    description: str
    datasets: tuple[str, ...]
    seeds: tuple[int, ...]
    steps: int | None  # default training steps for every model (None: the baseline's default)
    models: tuple[ModelSpec, ...]
    evaluation: Evaluation
    profile: str
    path: str
    rank_by: str

    def model(self, label: str) -> ModelSpec:
        for m in self.models:
            if m.label == label:
                return m
        raise GenbenchError(
            f"{self.path}: no model {label!r} in suite {self.name!r}; models: {', '.join(m.label for m in self.models)}"
        )

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "datasets": list(self.datasets),
            "seeds": list(self.seeds),
            "steps": self.steps,
            "models": [m.to_dict() for m in self.models],
            "evaluation": self.evaluation.to_dict(),
            "profile": self.profile,
            "path": self.path,
            "rank_by": self.rank_by,
        }


# --------------------------------------------------------------------------- YAML with line numbers


class _Located:
    """Maps key paths of a parsed YAML document to line numbers, for error messages."""

    def __init__(self, path: str, text: str):
        self.path = path
        self.lines: dict[str, int] = {}
        self.nodes = 0
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)  # aliases stay shared nodes here: cheap
        except yaml.YAMLError as exc:
            raise SuiteError(_yaml_error(path, exc)) from None
        except RecursionError:
            raise SuiteError(f"{path}: malformed YAML: nested more than {MAX_DEPTH} levels deep") from None
        if node is not None:
            self._walk(node, "", ())

    def _walk(self, node: yaml.Node, key: str, parents: tuple[int, ...]) -> None:
        """Visit every value as the loaded document will hold it, counting aliases once per use."""
        line = node.start_mark.line + 1
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise SuiteError(f"{self.path}:{line}: {key or '(top level)'}: the document expands to more than "
                             f"{MAX_NODES:,} values (an alias bomb?); a suite must be small")
        if id(node) in parents:
            raise SuiteError(f"{self.path}:{line}: {key or '(top level)'}: recursive alias (a value contains itself)")
        if len(parents) >= MAX_DEPTH:
            raise SuiteError(f"{self.path}:{line}: {key}: nested more than {MAX_DEPTH} levels deep")
        self.lines.setdefault(key, line)
        parents = parents + (id(node),)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in node.value:
                name = str(k.value)
                child = f"{key}.{name}" if key else name
                if name in seen:
                    raise SuiteError(f"{self.path}:{k.start_mark.line + 1}: {child}: duplicate key")
                seen.add(name)
                self.lines[child] = k.start_mark.line + 1
                self._walk(v, child, parents)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                self._walk(v, f"{key}[{i}]", parents)

    def error(self, key: str, message: str) -> SuiteError:
        probe = key
        while probe and probe not in self.lines:
            probe = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", probe)
        line = self.lines.get(probe)
        where = f"{self.path}:{line}" if line else self.path
        return SuiteError(f"{where}: {key or '(top level)'}: {message}")


def _yaml_error(path: str, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"{path}:{mark.line + 1}:{mark.column + 1}: malformed YAML: {problem}"
    return f"{path}: malformed YAML: {problem}"


# --------------------------------------------------------------------------- validation helpers


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


class _Checker:
    def __init__(self, loc: _Located):
        self.loc = loc

    def mapping(self, value: Any, key: str, allowed: Iterable[str], required: Iterable[str] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.loc.error(key, f"expected a mapping, got {_describe(value)}")
        allowed = tuple(allowed)
        for k in value:
            if not isinstance(k, str):
                raise self.loc.error(key, f"keys must be strings, got {_describe(k)}")
            if k not in allowed:
                raise self.loc.error(_join(key, k), f"unknown key; allowed here: {', '.join(allowed)}")
        for k in required:
            if k not in value:
                raise self.loc.error(key, f"missing required key {k!r}")
        return value

    def integer(self, value: Any, key: str, minimum: int | None = None, maximum: int = 2**63 - 1) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.loc.error(key, f"expected an integer, got {_describe(value)}")
        if minimum is not None and value < minimum:
            raise self.loc.error(key, f"must be at least {minimum}, got {value}")
        if value > maximum:
            raise self.loc.error(key, f"must be at most {maximum}, got {value}")
        return value

    def string(self, value: Any, key: str, choices: Iterable[str] | None = None, what: str = "value") -> str:
        if not isinstance(value, str) or not value:
            raise self.loc.error(key, f"expected a string, got {_describe(value)}")
        if choices is not None:
            choices = sorted(choices)
            if value not in choices:
                raise self.loc.error(key, f"unknown {what} {value!r}; known: {', '.join(choices)}")
        return value

    def string_list(self, value: Any, key: str, choices: Iterable[str] | None = None, what: str = "value") -> tuple[str, ...]:
        if isinstance(value, str):
            return (self.string(value, key, choices, what),)
        if not isinstance(value, list) or not value:
            raise self.loc.error(key, f"expected a non-empty list, got {_describe(value)}")
        out = tuple(self.string(v, f"{key}[{i}]", choices, what) for i, v in enumerate(value))
        dup = {v for v in out if out.count(v) > 1}
        if dup:
            raise self.loc.error(key, f"listed twice: {', '.join(sorted(dup))}")
        return out

    def dataset_list(self, value: Any, key: str, reg: "Registries") -> tuple[str, ...]:
        """Dataset names, a pattern (``sr4:*``) standing for those it finds (maybe none)."""
        entries = self.string_list(value, key)
        names: list[str] = []
        for i, entry in enumerate(entries):
            k = key if isinstance(value, str) else f"{key}[{i}]"
            try:
                found = reg.resolve_dataset(entry) if reg.resolve_dataset is not None else None
            except GenbenchError as exc:
                raise self.loc.error(k, str(exc)) from None
            names.extend(found if found is not None else (self.string(entry, k, reg.datasets, "dataset"),))
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise self.loc.error(key, f"listed twice: {', '.join(dup)}")
        if not names:
            raise self.loc.error(key, f"{', '.join(entries)} found no dataset (no folder of images under the data root)")
        return tuple(names)

    def int_list(self, value: Any, key: str) -> tuple[int, ...]:
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.loc.error(key, f"expected a non-empty list of integers, got {_describe(value)}")
        out = tuple(self.integer(v, f"{key}[{i}]", minimum=0, maximum=MAX_SEED) for i, v in enumerate(value))
        if len(set(out)) != len(out):
            raise self.loc.error(key, "a seed is listed twice")
        return out

    def overrides(self, value: Any, key: str) -> dict:
        value = self.mapping(value, key, allowed=value.keys() if isinstance(value, dict) else ())
        for k, v in value.items():
            if isinstance(v, (dict, list)) and not _is_scalar_list(v):
                raise self.loc.error(_join(key, k), f"expected a number, string, boolean or list of them, got {_describe(v)}")
        return dict(value)


def _is_scalar_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, (int, float, str, bool)) for x in v)


def _join(key: str, k: str) -> str:
    return f"{key}.{k}" if key else k


# --------------------------------------------------------------------------- loading


_TOP_KEYS = ("name", "description", "dataset", "datasets", "seeds", "steps", "models", "evaluation", "profiles", "rank_by")
_MODEL_KEYS = ("model", "label", "overrides", "steps", "init_from")
_EVAL_KEYS = ("n", "split", "real_split", "extractor", "metrics", "batch_size", "n_reconstruct", "bootstrap", "every",
              "sr_mode", "params")
_PROFILE_KEYS = ("dataset", "datasets", "seeds", "steps", "evaluation", "models")
_PROFILE_MODEL_KEYS = ("overrides", "steps")


@dataclass(frozen=True)
class Registries:
    """The names a suite may use; injectable so tests need no trained models or data.

    ``dataset_kinds`` (dataset → 'image' | 'points') lets validation refuse a metric that cannot
    score a dataset; ``default_config(model, dataset, profile)`` lets it apply every model's
    overrides to the config the runner will start from, and ``check_config`` checks the result.
    Any of them may be None (not checked).
    """

    models: Iterable[str]
    datasets: Iterable[str]
    metrics: Iterable[str] = field(default_factory=lambda: tuple(METRICS))  # the metric registry's names
    extractors: Iterable[str] | None = None
    dataset_kinds: Mapping[str, str] | None = None
    default_config: Callable[[str, str, str], Any] | None = None
    # check_config(model, dataset, config) raises GenbenchError for a config the model cannot
    # train on the dataset (wrong shape, networks over the size limit).
    check_config: Callable[[str, str, Any], None] | None = None
    # resolve_dataset(entry) → the dataset names a suite's dataset entry stands for: a pattern
    # (srN:*) → one per folder found under the data root (maybe none), a family member
    # (folder:PATH?size=N) → itself; None: check the entry against ``datasets``.
    resolve_dataset: Callable[[str], tuple[str, ...] | None] | None = None
    # check_init_source(model, config, source_model, source_config) raises GenbenchError when the
    # model cannot start from the source's checkpoint (a suite's init_from: another architecture).
    check_init_source: Callable[[str, Any, str, Any], None] | None = None

    @classmethod
    def default(cls, data_root: str | None = None) -> "Registries":
        """The installed registries; ``data_root`` is where folder datasets and patterns are read."""
        # Imported here: the model registry imports every model module, which a suite test
        # with injected registries never needs.
        import baselines

        def data(model: str, dataset: str) -> Dataset:
            # an image-conditioned model's config reads its input shape: the declared sample
            # shape does not say it, so the dataset itself is loaded
            if baselines.MODELS[model].conditioning in ("image", "text"):
                return _loaded_dataset(dataset, data_root)
            return _dataset_for_config(dataset, data_root)

        def default_config(model: str, dataset: str, profile: str) -> Any:
            return baselines.default_config(model, data(model, dataset), profile)

        def check_config(model: str, dataset: str, config: Any) -> None:
            baselines.check_config(model, data(model, dataset), config)

        def resolve_dataset(entry: str) -> tuple[str, ...] | None:
            expanded = expand_dataset_pattern(entry, data_root)
            if expanded is not None:
                return expanded
            return (entry,) if dataset_spec(entry) is not None else None

        return cls(models=tuple(baselines.MODELS), datasets=tuple(DATASETS), extractors=tuple(EXTRACTORS),
                   dataset_kinds={name: info.kind for name, info in DATASETS.items()},
                   default_config=default_config, check_config=check_config, resolve_dataset=resolve_dataset,
                   check_init_source=baselines.check_init_source)


@functools.lru_cache(maxsize=None)
def _loaded_dataset(name: str, data_root: str | None = None) -> Dataset:
    return load_dataset(name, data_root=data_root)


@functools.lru_cache(maxsize=None)
def _dataset_for_config(name: str, data_root: str | None = None) -> Dataset:
    """An empty dataset of the declared shape and classes, which is all a default config reads
    (or the dataset itself, loaded, when its registry entry does not declare them)."""
    spec = dataset_spec(name)
    if spec.sample_shape is None:
        return load_dataset(name, data_root=data_root)
    dtype = np.float32 if spec.kind == "points" else np.uint8
    empty = Split(np.zeros((0, *spec.sample_shape), dtype=dtype))
    return Dataset(name=name, kind=spec.kind, splits={s: empty for s in SPLITS},
                   fingerprint=Fingerprint(name, {}, ""), n_classes=spec.n_classes)


def load_suite(path: str | Path, profile: str = DEFAULT_PROFILE, *, registries: Registries | None = None,
               data_root: str | None = None) -> Suite:
    """Read, validate and resolve a suite file for ``profile``; ``data_root`` (``--data-root``) is
    where its folder datasets and ``srN:*`` patterns are read."""
    path_str = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SUITE_BYTES + 1)
    except FileNotFoundError:
        raise SuiteError(f"{path_str}: no such suite file") from None
    except OSError as exc:
        raise SuiteError(f"{path_str}: cannot read suite file: {exc.strerror}") from None
    if len(data) > MAX_SUITE_BYTES:
        raise SuiteError(f"{path_str}: larger than {MAX_SUITE_BYTES:,} bytes; a suite file is a page of YAML")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SuiteError(f"{path_str}: not UTF-8 text (byte {exc.start})") from None
    return parse_suite(text, path_str, profile, registries=registries, data_root=data_root)


@dataclass
class _Resolved:
    """One profile's values, with the key path each came from (for error messages)."""

    datasets: tuple[str, ...]
    datasets_key: str
    seeds: tuple[int, ...]
    steps: int | None
    models: list[ModelSpec]
    override_keys: dict[str, dict[str, str]]  # label -> config key -> key path of its value
    evaluation: Evaluation
    metrics_key: str


def parse_suite(text: str, path: str, profile: str = DEFAULT_PROFILE, *, registries: Registries | None = None,
                data_root: str | None = None) -> Suite:
    if profile not in PROFILES:
        raise SuiteError(f"{path}: unknown profile {profile!r}; use one of {', '.join(PROFILES)}")
    loc = _Located(path, text)
    try:
        raw = yaml.safe_load(text)  # bounded: _Located refused bombs and recursion
    except yaml.YAMLError as exc:  # pragma: no cover - compose() above catches the same
        raise SuiteError(_yaml_error(path, exc)) from None
    except ValueError as exc:  # e.g. an integer literal longer than Python converts
        raise SuiteError(f"{path}: malformed YAML: {exc}") from None
    # (no argument without a data root: callers and tests that substitute default() keep working)
    reg = registries or (Registries.default() if data_root is None else Registries.default(data_root))
    c = _Checker(loc)
    raw = c.mapping(raw, "", _TOP_KEYS, required=("name", "models", "evaluation"))

    name = c.string(raw["name"], "name")
    if not _NAME_RE.match(name):
        raise loc.error("name", f"{name!r} must be letters, digits, '-', '_' or '.' (it names directories)")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise loc.error("description", f"expected a string, got {_describe(description)}")

    if ("dataset" in raw) == ("datasets" in raw):
        raise loc.error("", "give exactly one of 'dataset' (one name) or 'datasets' (a list)")
    dkey = "dataset" if "dataset" in raw else "datasets"
    datasets = c.dataset_list(raw[dkey], dkey, reg)

    seeds = c.int_list(raw.get("seeds", [0]), "seeds")
    steps = None if raw.get("steps") is None else c.integer(raw["steps"], "steps", minimum=1)

    if not isinstance(raw["models"], list) or not raw["models"]:
        raise loc.error("models", f"expected a non-empty list of models, got {_describe(raw['models'])}")
    models: list[ModelSpec] = []
    override_keys: dict[str, dict[str, str]] = {}
    for i, m in enumerate(raw["models"]):
        key = f"models[{i}]"
        if isinstance(m, str):
            m = {"model": m}
        m = c.mapping(m, key, _MODEL_KEYS, required=("model",))
        model = c.string(m["model"], f"{key}.model", reg.models, "model")
        label = c.string(m.get("label", model), f"{key}.label")
        if not _NAME_RE.match(label):
            raise loc.error(f"{key}.label", f"{label!r} must be letters, digits, '-', '_' or '.'")
        if any(x.label == label for x in models):
            raise loc.error(key, f"two models are labelled {label!r}; give one a distinct 'label'")
        overrides = c.overrides(m.get("overrides", {}), f"{key}.overrides")
        override_keys[label] = {k: f"{key}.overrides.{k}" for k in overrides}
        msteps = None if m.get("steps") is None else c.integer(m["steps"], f"{key}.steps", minimum=0)
        init_from = None if m.get("init_from") is None else c.string(m["init_from"], f"{key}.init_from")
        models.append(ModelSpec(label=label, model=model, overrides=overrides, steps=msteps, init_from=init_from))
    _check_init_labels(loc, models)

    evaluation = _evaluation(c, raw["evaluation"], "evaluation", reg, Evaluation())
    base = _Resolved(datasets, dkey, seeds, steps, models, override_keys, evaluation,
                     "evaluation.metrics" if "metrics" in raw["evaluation"] else "evaluation")

    profiles = c.mapping(raw.get("profiles", {}), "profiles", PROFILES)
    # Resolve and check every profile, not only the selected one: a broken `full` must not hide
    # until a GPU run, and nothing may fail after training that could fail now.
    resolved = {p: _apply_profile(c, profiles.get(p) or {}, f"profiles.{p}", reg, base) for p in PROFILES}
    for p, r in resolved.items():
        _check_metric_kinds(c, reg, r)
        _check_configs(c, reg, p, r)
        _check_init_sources(c, reg, p, r)
    r = resolved[profile]

    rank_by = raw.get("rank_by", r.evaluation.columns[0])
    rank_by = c.string(rank_by, "rank_by", r.evaluation.columns, "leaderboard column")
    for p, other in resolved.items() if "rank_by" in raw else ():
        if rank_by not in other.evaluation.columns:
            raise loc.error("rank_by", f"profile {p!r} does not compute the column {rank_by!r}")
    return Suite(
        name=name,
        description=description.strip(),
        datasets=r.datasets,
        seeds=r.seeds,
        steps=r.steps,
        models=tuple(r.models),
        evaluation=r.evaluation,
        profile=profile,
        path=path,
        rank_by=rank_by,
    )


def _evaluation(c: _Checker, raw: Any, key: str, reg: Registries, base: Evaluation) -> Evaluation:
    raw = c.mapping(raw, key, _EVAL_KEYS)
    kw: dict[str, Any] = {}
    if "n" in raw:
        kw["n"] = c.integer(raw["n"], f"{key}.n", minimum=2)
    if "batch_size" in raw:
        kw["batch_size"] = c.integer(raw["batch_size"], f"{key}.batch_size", minimum=1)
    if "bootstrap" in raw:
        kw["bootstrap"] = c.integer(raw["bootstrap"], f"{key}.bootstrap", minimum=0)
    if "n_reconstruct" in raw:
        kw["n_reconstruct"] = c.integer(raw["n_reconstruct"], f"{key}.n_reconstruct", minimum=1)
    if "every" in raw:
        every = raw["every"]
        if isinstance(every, list):
            if not every:
                raise c.loc.error(f"{key}.every", "expected a step interval or a non-empty list of steps, got []")
            kw["every"] = tuple(c.integer(k, f"{key}.every[{i}]", minimum=1) for i, k in enumerate(every))
        else:
            kw["every"] = None if every is None else c.integer(every, f"{key}.every", minimum=1)
    if "split" in raw:
        kw["split"] = c.string(raw["split"], f"{key}.split", SPLITS, "split")
    if "real_split" in raw:
        kw["real_split"] = c.string(raw["real_split"], f"{key}.real_split", SPLITS, "split")
    if "extractor" in raw:
        kw["extractor"] = None if raw["extractor"] is None else c.string(
            raw["extractor"], f"{key}.extractor", reg.extractors, "extractor"
        )
    if "sr_mode" in raw:
        kw["sr_mode"] = c.string(raw["sr_mode"], f"{key}.sr_mode", ("y", "rgb"), "SR scoring mode")
    if "metrics" in raw:
        kw["metrics"] = c.string_list(raw["metrics"], f"{key}.metrics", reg.metrics, "metric")
    if "params" in raw:
        params = {**base.params}
        for metric, values in c.mapping(raw["params"], f"{key}.params", METRICS).items():
            pkey = f"{key}.params.{metric}"
            spec = METRICS[metric]
            if not spec.scores_model:
                raise c.loc.error(pkey, f"only the model metrics ({', '.join(m for m, s_ in METRICS.items() if s_.scores_model)}) "
                                        "take parameters from a suite")
            params[metric] = {**params.get(metric, {}), **c.overrides(c.mapping(values, pkey, spec.params), pkey)}
        kw["params"] = params
    ev = Evaluation(**{**asdict(base), **kw})
    for metric, values in ev.params.items():
        why = None
        if metric not in ev.metrics:
            why = f"metric {metric!r} is not in this evaluation's metrics"
        elif METRICS[metric].check_params is not None:
            why = METRICS[metric].check_params(ev.metric_params(metric))
        if why:
            raise c.loc.error(f"{key}.params.{metric}", why)
    if ev.split == ev.real_split:
        raise c.loc.error(f"{key}.real_split", f"the real-data row must come from a split other than the reference split {ev.split!r}")
    return ev


def _apply_profile(c: _Checker, praw: Any, key: str, reg: Registries, base: _Resolved) -> _Resolved:
    praw = c.mapping(praw, key, _PROFILE_KEYS)
    if "dataset" in praw and "datasets" in praw:
        raise c.loc.error(key, "give at most one of 'dataset' or 'datasets'")
    datasets, datasets_key = base.datasets, base.datasets_key
    for dkey in ("dataset", "datasets"):
        if dkey in praw:
            datasets = c.dataset_list(praw[dkey], f"{key}.{dkey}", reg)
            datasets_key = f"{key}.{dkey}"
    seeds = c.int_list(praw["seeds"], f"{key}.seeds") if "seeds" in praw else base.seeds
    steps = c.integer(praw["steps"], f"{key}.steps", minimum=1) if "steps" in praw else base.steps
    evaluation, metrics_key = base.evaluation, base.metrics_key
    if "evaluation" in praw:
        evaluation = _evaluation(c, praw["evaluation"], f"{key}.evaluation", reg, evaluation)
        if isinstance(praw["evaluation"], dict) and "metrics" in praw["evaluation"]:
            metrics_key = f"{key}.evaluation.metrics"
    models = list(base.models)
    override_keys = {label: dict(keys) for label, keys in base.override_keys.items()}
    labels = [m.label for m in models]
    for label, mraw in c.mapping(praw.get("models", {}), f"{key}.models", labels).items():
        mkey = f"{key}.models.{label}"
        mraw = c.mapping(mraw or {}, mkey, _PROFILE_MODEL_KEYS)
        i = labels.index(label)
        spec = models[i]
        extra = c.overrides(mraw.get("overrides", {}), f"{mkey}.overrides")
        override_keys[label].update({k: f"{mkey}.overrides.{k}" for k in extra})
        msteps = c.integer(mraw["steps"], f"{mkey}.steps", minimum=0) if "steps" in mraw else spec.steps
        models[i] = ModelSpec(label=spec.label, model=spec.model, overrides={**spec.overrides, **extra}, steps=msteps,
                              init_from=spec.init_from)
    return _Resolved(datasets, datasets_key, seeds, steps, models, override_keys, evaluation, metrics_key)


def _check_metric_kinds(c: _Checker, reg: Registries, r: _Resolved) -> None:
    """A metric that cannot score a dataset's kind of data fails now, not after training."""
    for i, m in enumerate(r.evaluation.metrics):  # e.g. lpips without its weights on this machine
        spec = METRICS.get(m)
        why = spec.requires() if spec is not None and spec.requires is not None else None
        if why is not None:
            key = f"{r.metrics_key}[{i}]" if r.metrics_key.endswith("metrics") else r.metrics_key
            raise c.loc.error(key, f"metric {m!r} cannot run on this machine: {why}")
    if reg.dataset_kinds is None:
        return
    for d in r.datasets:
        kind = reg.dataset_kinds.get(d)
        for i, m in enumerate(r.evaluation.metrics):
            spec = METRICS.get(m)
            if kind is not None and spec is not None and kind not in spec.kinds:
                key = f"{r.metrics_key}[{i}]" if r.metrics_key.endswith("metrics") else r.metrics_key
                raise c.loc.error(key, f"metric {m!r} scores {'/'.join(spec.kinds)} data, but dataset {d!r} "
                                       f"({r.datasets_key}) holds {kind} data")


def _check_configs(c: _Checker, reg: Registries, profile: str, r: _Resolved) -> None:
    """Apply each model's overrides, through the runner's own code, to the config it will start
    from on every dataset: `batch_size: 32.0` or `lr: .nan` fails here, before any job runs."""
    if reg.default_config is None:
        return
    for d in r.datasets:
        for i, spec in enumerate(r.models):
            try:
                default = reg.default_config(spec.model, d, profile)
            except GenbenchError as exc:
                raise c.loc.error(f"models[{i}].model", f"{exc} (profile {profile}, {r.datasets_key})") from None
            context = f"(model {spec.model}, dataset {d}, profile {profile})"
            try:
                config = apply_overrides(default, spec.overrides)
            except OverrideError as exc:
                name, bracket, rest = exc.key.partition("[")
                key = r.override_keys[spec.label].get(name, f"models[{i}].overrides.{name}") + bracket + rest
                raise c.loc.error(key, f"{exc.problem} {context}") from None
            if reg.check_config is not None:
                try:
                    reg.check_config(spec.model, d, config)
                except GenbenchError as exc:
                    keys = list(r.override_keys[spec.label].values())
                    raise c.loc.error(keys[-1] if keys else f"models[{i}]", f"{exc} {context}") from None


# --------------------------------------------------------------------------- init_from (one model starts from another's checkpoint)


def _check_init_labels(loc: _Located, models: list[ModelSpec]) -> None:
    """``init_from`` names another model of the suite, and following it never comes back."""
    labels = {m.label: m for m in models}
    for i, m in enumerate(models):
        if m.init_from is None:
            continue
        key = f"models[{i}].init_from"
        if m.init_from not in labels:
            raise loc.error(key, f"no model labelled {m.init_from!r} in this suite; models: {', '.join(labels)}")
        seen, at = [m.label], m.init_from
        while at is not None:
            if at in seen:
                raise loc.error(key, f"init_from goes round in a cycle: {' -> '.join([*seen, at])}")
            seen.append(at)
            at = labels[at].init_from


def _check_init_sources(c: _Checker, reg: Registries, profile: str, r: _Resolved) -> None:
    """A model may start only from a checkpoint it can load (srgan: an srresnet of its own generator
    architecture): refused now, not after the source has trained."""
    if reg.default_config is None or reg.check_init_source is None:
        return
    specs = {m.label: m for m in r.models}
    for d in r.datasets:
        for i, spec in enumerate(r.models):
            if spec.init_from is None:
                continue
            source = specs[spec.init_from]
            try:
                configs = [apply_overrides(reg.default_config(m.model, d, profile), m.overrides) for m in (spec, source)]
                reg.check_init_source(spec.model, configs[0], source.model, configs[1])
            except GenbenchError as exc:
                raise c.loc.error(f"models[{i}].init_from", f"{exc} (dataset {d}, profile {profile})") from None
