"""Building, overriding and comparing model configs (dataclasses), with errors a user can act on."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from genbench.data.dataset import Dataset
from genbench.errors import GenbenchError
from genbench.overrides import OverrideError, apply_overrides  # the one override path, re-exported here

import baselines  # the package, for its model registry (always initialised before this submodule)
from baselines.spec import RESUMABLE_FIELDS, BaseConfig

__all__ = ["apply_overrides", "from_dict", "check_size", "check_matches_dataset", "differences", "MAX_PARAMETERS"]

MAX_PARAMETERS = 100_000_000  # per model, all networks together: 400 MB of float32 weights


def field_names(config_class: type[BaseConfig]) -> list[str]:
    return [f.name for f in dataclasses.fields(config_class)]


def from_dict(config_class: type[BaseConfig], d: Any, source: str) -> BaseConfig:
    """A config from a checkpoint header, which is untrusted: the checks of an override, plus a
    limit on the networks' size checked before any of them is allocated."""
    if not isinstance(d, dict):
        raise GenbenchError(f"{source}: checkpoint config must be a mapping, got {type(d).__name__}")
    try:
        config = apply_overrides(config_class(), d)
    except OverrideError as exc:
        raise GenbenchError(f"{source}: checkpoint config: {exc}") from None
    check_size(config, source)
    return config


def check_size(config: BaseConfig, source: str | None = None) -> None:
    """Refuse a config whose networks exceed ``MAX_PARAMETERS``, counted on PyTorch's meta device
    (shapes only, no memory), so a header declaring 200,000-wide layers fails in milliseconds."""
    prefix = f"{source}: " if source else ""
    for name in baselines.MODELS:
        spec = baselines.get_spec(name)
        if type(config) is not spec.config_class:
            continue
        try:
            with torch.device("meta"):
                n = sum(p.numel() for p in spec.build(config).parameters())
        except Exception as exc:  # a config the model cannot build is as invalid as one too large
            raise GenbenchError(f"{prefix}model {name!r} cannot be built from this config ({exc})") from None
        if n > MAX_PARAMETERS:
            raise GenbenchError(
                f"{prefix}config describes {n:,} parameters for model {name!r}; the limit is {MAX_PARAMETERS:,}"
            )


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
