"""Suite files: one YAML file that alone reproduces a benchmark run.

A suite names the dataset(s), the seeds, the models (a baseline plus config overrides), the
evaluation protocol (number of samples, reference split, extractor, metrics) and per-profile
changes to all of these (``quick`` for a 2-core CPU, ``full`` for a GPU). Loading validates
everything up front, so a typo fails in a second with the file, line and key path instead of
an hour into a run.
"""

from __future__ import annotations

import copy
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from genbench.errors import GenbenchError

PROFILES = ("quick", "full")
DEFAULT_PROFILE = "quick"

# What ``evaluation.metrics`` may name: the evaluation core's metric groups, each expanding to
# the leaderboard columns it produces. ``psnr``/``ssim`` are scored on reconstructions of the
# reference split, for models that can reconstruct.
METRIC_GROUPS: dict[str, tuple[str, ...]] = {
    "fid": ("fid",),
    "fid_inf": ("fid_inf",),
    "kid": ("kid",),
    "is": ("is",),
    "prdc": ("precision", "recall", "density", "coverage"),
    "parzen": ("parzen",),
    "modes": ("modes", "high_quality", "mode_kl"),
    "psnr": ("psnr",),
    "ssim": ("ssim",),
}
RECONSTRUCTION_METRICS = ("psnr", "ssim")

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

    @property
    def sample_metrics(self) -> tuple[str, ...]:
        return tuple(m for m in self.metrics if m not in RECONSTRUCTION_METRICS)

    @property
    def reconstruction_metrics(self) -> tuple[str, ...]:
        return tuple(m for m in self.metrics if m in RECONSTRUCTION_METRICS)

    @property
    def columns(self) -> tuple[str, ...]:
        """Leaderboard columns, in suite order."""
        return tuple(c for m in self.metrics for c in METRIC_GROUPS.get(m, (m,)))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["metrics"] = list(self.metrics)
        return d


@dataclass(frozen=True)
class ModelSpec:
    label: str  # the leaderboard row name (unique in the suite)
    model: str  # baseline name in baselines.MODELS
    overrides: Mapping[str, Any] = field(default_factory=dict)
    steps: int | None = None  # None: the suite's (profile's) train steps

    def to_dict(self) -> dict:
        return {"label": self.label, "model": self.model, "overrides": dict(self.overrides), "steps": self.steps}


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
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            raise SuiteError(_yaml_error(path, exc)) from None
        if node is not None:
            self._walk(node, "")

    def _walk(self, node: yaml.Node, key: str) -> None:
        self.lines.setdefault(key, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in node.value:
                name = str(k.value)
                child = f"{key}.{name}" if key else name
                if name in seen:
                    raise SuiteError(f"{self.path}:{k.start_mark.line + 1}: {child}: duplicate key")
                seen.add(name)
                self.lines[child] = k.start_mark.line + 1
                self._walk(v, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                self._walk(v, f"{key}[{i}]")

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

    def integer(self, value: Any, key: str, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.loc.error(key, f"expected an integer, got {_describe(value)}")
        if minimum is not None and value < minimum:
            raise self.loc.error(key, f"must be at least {minimum}, got {value}")
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

    def int_list(self, value: Any, key: str) -> tuple[int, ...]:
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.loc.error(key, f"expected a non-empty list of integers, got {_describe(value)}")
        out = tuple(self.integer(v, f"{key}[{i}]", minimum=0) for i, v in enumerate(value))
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
_MODEL_KEYS = ("model", "label", "overrides", "steps")
_EVAL_KEYS = ("n", "split", "real_split", "extractor", "metrics", "batch_size", "n_reconstruct", "bootstrap")
_PROFILE_KEYS = ("dataset", "datasets", "seeds", "steps", "evaluation", "models")
_PROFILE_MODEL_KEYS = ("overrides", "steps")
_SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Registries:
    """The names a suite may use; injectable so tests need no trained models or data."""

    models: Iterable[str]
    datasets: Iterable[str]
    metrics: Iterable[str] = tuple(METRIC_GROUPS)
    extractors: Iterable[str] | None = None

    @classmethod
    def default(cls) -> "Registries":
        import baselines
        from genbench.data import DATASETS
        from genbench.features import EXTRACTORS

        return cls(models=tuple(baselines.MODELS), datasets=tuple(DATASETS), extractors=tuple(EXTRACTORS))


def load_suite(path: str | Path, profile: str = DEFAULT_PROFILE, *, registries: Registries | None = None) -> Suite:
    """Read, validate and resolve a suite file for ``profile``."""
    path_str = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SuiteError(f"{path_str}: no such suite file") from None
    except OSError as exc:
        raise SuiteError(f"{path_str}: cannot read suite file: {exc.strerror}") from None
    return parse_suite(text, path_str, profile, registries=registries)


def parse_suite(text: str, path: str, profile: str = DEFAULT_PROFILE, *, registries: Registries | None = None) -> Suite:
    loc = _Located(path, text)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:  # pragma: no cover - compose() above catches the same
        raise SuiteError(_yaml_error(path, exc)) from None
    if profile not in PROFILES:
        raise SuiteError(f"{path}: unknown profile {profile!r}; use one of {', '.join(PROFILES)}")
    reg = registries or Registries.default()
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
    datasets = c.string_list(raw[dkey], dkey, reg.datasets, "dataset")

    seeds = c.int_list(raw.get("seeds", [0]), "seeds")
    steps = None if raw.get("steps") is None else c.integer(raw["steps"], "steps", minimum=1)

    if not isinstance(raw["models"], list) or not raw["models"]:
        raise loc.error("models", f"expected a non-empty list of models, got {_describe(raw['models'])}")
    models: list[ModelSpec] = []
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
        msteps = None if m.get("steps") is None else c.integer(m["steps"], f"{key}.steps", minimum=1)
        models.append(ModelSpec(label=label, model=model, overrides=overrides, steps=msteps))

    evaluation = _evaluation(c, raw["evaluation"], "evaluation", reg, Evaluation())

    profiles = c.mapping(raw.get("profiles", {}), "profiles", PROFILES)
    for pname, praw in profiles.items():
        # Validate every profile, not only the selected one: a broken `full` must not hide until a GPU run.
        _apply_profile(c, praw or {}, f"profiles.{pname}", reg, datasets, seeds, steps, models, evaluation)
    datasets, seeds_p, steps_p, models_p, evaluation_p = _apply_profile(
        c, profiles.get(profile) or {}, f"profiles.{profile}", reg, datasets, seeds, steps, models, evaluation
    )

    rank_by = raw.get("rank_by", evaluation_p.columns[0])
    rank_by = c.string(rank_by, "rank_by", evaluation_p.columns, "leaderboard column")
    return Suite(
        name=name,
        description=description.strip(),
        datasets=datasets,
        seeds=seeds_p,
        steps=steps_p,
        models=tuple(models_p),
        evaluation=evaluation_p,
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
    if "split" in raw:
        kw["split"] = c.string(raw["split"], f"{key}.split", _SPLITS, "split")
    if "real_split" in raw:
        kw["real_split"] = c.string(raw["real_split"], f"{key}.real_split", _SPLITS, "split")
    if "extractor" in raw:
        kw["extractor"] = None if raw["extractor"] is None else c.string(
            raw["extractor"], f"{key}.extractor", reg.extractors, "extractor"
        )
    if "metrics" in raw:
        kw["metrics"] = c.string_list(raw["metrics"], f"{key}.metrics", reg.metrics, "metric")
    ev = Evaluation(**{**asdict(base), **kw})
    if ev.split == ev.real_split:
        raise c.loc.error(f"{key}.real_split", f"the real-data row must come from a split other than the reference split {ev.split!r}")
    return ev


def _apply_profile(c, praw, key, reg, datasets, seeds, steps, models, evaluation):
    praw = c.mapping(praw, key, _PROFILE_KEYS)
    if "dataset" in praw and "datasets" in praw:
        raise c.loc.error(key, "give at most one of 'dataset' or 'datasets'")
    for dkey in ("dataset", "datasets"):
        if dkey in praw:
            datasets = c.string_list(praw[dkey], f"{key}.{dkey}", reg.datasets, "dataset")
    seeds = c.int_list(praw["seeds"], f"{key}.seeds") if "seeds" in praw else seeds
    if "steps" in praw:
        steps = c.integer(praw["steps"], f"{key}.steps", minimum=1)
    if "evaluation" in praw:
        evaluation = _evaluation(c, praw["evaluation"], f"{key}.evaluation", reg, evaluation)
    models = list(models)
    labels = [m.label for m in models]
    for label, mraw in c.mapping(praw.get("models", {}), f"{key}.models", labels).items():
        mkey = f"{key}.models.{label}"
        mraw = c.mapping(mraw or {}, mkey, _PROFILE_MODEL_KEYS)
        i = labels.index(label)
        spec = models[i]
        overrides = dict(spec.overrides)
        overrides.update(c.overrides(mraw.get("overrides", {}), f"{mkey}.overrides"))
        msteps = c.integer(mraw["steps"], f"{mkey}.steps", minimum=1) if "steps" in mraw else spec.steps
        models[i] = ModelSpec(label=spec.label, model=spec.model, overrides=overrides, steps=msteps)
    return datasets, seeds, steps, models, evaluation


# --------------------------------------------------------------------------- config overrides


def check_overrides(suite: Suite, label: str, default_config: Any, where: str | None = None) -> dict:
    """Check a model's overrides against its baseline's config; return the merged config dict.

    Types follow the default value: a number where the default is a number, and so on, so
    ``lr: fast`` fails here rather than deep inside training.
    """
    spec = suite.model(label)
    base = asdict(default_config) if hasattr(default_config, "__dataclass_fields__") else dict(default_config)
    merged = copy.deepcopy(base)
    where = where or f"{suite.path}: models[{label}].overrides"
    for k, v in spec.overrides.items():
        if k not in base:
            raise SuiteError(f"{where}.{k}: unknown config key for model {spec.model!r}; known: {', '.join(sorted(base))}")
        merged[k] = _coerce(base[k], v, f"{where}.{k}")
    return merged


def _coerce(default: Any, value: Any, where: str) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise SuiteError(f"{where}: expected true or false, got {_describe(value)}")
        return value
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SuiteError(f"{where}: expected a number, got {_describe(value)}")
        if isinstance(default, int) and not isinstance(value, int):
            if float(value).is_integer():
                return int(value)
            raise SuiteError(f"{where}: expected an integer, got {value!r}")
        return float(value) if isinstance(default, float) else value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise SuiteError(f"{where}: expected a string, got {_describe(value)}")
        return value
    if isinstance(default, (list, tuple)):
        if not isinstance(value, list):
            raise SuiteError(f"{where}: expected a list, got {_describe(value)}")
        return list(value)
    return value


def column_names(groups: Iterable[str]) -> tuple[str, ...]:
    return tuple(c for g in groups for c in METRIC_GROUPS.get(g, (g,)))

