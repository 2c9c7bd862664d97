"""Building, overriding and comparing model configs (dataclasses), with errors a user can act on."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from genbench.data.dataset import Dataset
from genbench.errors import GenbenchError

from baselines.spec import RESUMABLE_FIELDS, BaseConfig


def field_names(config_class: type[BaseConfig]) -> list[str]:
    return [f.name for f in dataclasses.fields(config_class)]


def _coerce(key: str, current: Any, value: Any) -> Any:
    """Check ``value`` against the type of the field's current value (YAML gives int/float/bool/str/None)."""
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise GenbenchError(f"config key {key!r} must be true or false, got {value!r}")
        return value
    if isinstance(current, int) or (current is None and key == "n_classes"):
        if isinstance(value, bool) or not isinstance(value, int):
            if current is None and value is None:
                return None
            raise GenbenchError(f"config key {key!r} must be an integer, got {value!r}")
        return value
    if isinstance(current, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise GenbenchError(f"config key {key!r} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise GenbenchError(f"config key {key!r} must be finite, got {value!r}")
        return float(value)
    if isinstance(current, str):
        if not isinstance(value, str):
            raise GenbenchError(f"config key {key!r} must be a string, got {value!r}")
        return value
    if isinstance(current, (tuple, list)):
        if not isinstance(value, (tuple, list)):
            raise GenbenchError(f"config key {key!r} must be a list, got {value!r}")
        return tuple(int(v) if isinstance(current[0] if current else 0, int) else v for v in value)
    return value


def apply_overrides(config: BaseConfig, overrides: dict[str, Any] | None) -> BaseConfig:
    """Return ``config`` with ``overrides`` applied; unknown keys and wrong types are errors."""
    if not overrides:
        return config
    names = field_names(type(config))
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise GenbenchError(
            f"unknown config key(s) {', '.join(unknown)} for {type(config).__name__}; valid keys: {', '.join(names)}"
        )
    values = {k: _coerce(k, getattr(config, k), v) for k, v in overrides.items()}
    try:
        return dataclasses.replace(config, **values)
    except (TypeError, ValueError) as exc:
        raise GenbenchError(f"invalid config: {exc}") from exc


def from_dict(config_class: type[BaseConfig], d: dict, source: str) -> BaseConfig:
    names = set(field_names(config_class))
    unknown = sorted(set(d) - names)
    if unknown:
        raise GenbenchError(f"{source}: config has keys {unknown} that {config_class.__name__} does not know")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    try:
        return config_class(**values)
    except (TypeError, ValueError) as exc:
        raise GenbenchError(f"{source}: invalid config ({exc})") from exc


def check_matches_dataset(config: BaseConfig, dataset: Dataset) -> None:
    shape = tuple(int(s) for s in dataset.split("train").samples.shape[1:])
    if config.data_kind != dataset.kind or tuple(config.data_shape) != shape:
        raise GenbenchError(
            f"config is for {config.data_kind} data of shape {tuple(config.data_shape)} but dataset "
            f"{dataset.name!r} holds {dataset.kind} data of shape {shape}"
        )
    if config.n_classes is not None and dataset.n_classes is not None and config.n_classes != dataset.n_classes:
        raise GenbenchError(f"config has n_classes={config.n_classes}, dataset {dataset.name!r} has {dataset.n_classes}")


def differences(stored: dict, requested: dict) -> list[str]:
    """Keys (other than the resumable ones) whose values differ, as 'key: stored → requested'."""
    out = []
    for key in sorted(set(stored) | set(requested)):
        if key in RESUMABLE_FIELDS:
            continue
        if stored.get(key) != requested.get(key):
            out.append(f"{key}: {stored.get(key)!r} → {requested.get(key)!r}")
    return out
