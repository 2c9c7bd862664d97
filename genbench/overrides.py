"""Config overrides: the one code path that turns ``key: value`` pairs into a new config.

Suite ``overrides:``, ``genbench train --set`` and the runner all call :func:`apply_overrides`
(``baselines.config`` re-exports it), so a value that passes suite validation is exactly the
value training gets. It lives in genbench, not baselines, because genbench must not import
baselines internals, while both need it.

Values are checked against each field's declared type, not just the default's:

- integers are Python ints (``32.0`` is refused everywhere: a float where an integer is meant is
  usually a mistake, and silently truncating ``1.5`` would hide one);
- floats are finite (an int is accepted and converted);
- lists hold elements of the declared type, with no nesting;
- integers are ``>= 0`` unless the default is negative, and sizes (fields whose name says hidden,
  dim, width, channels, size or kernel) are ``1 .. MAX_SIZE``, so a typo cannot ask for a
  200,000-wide layer;
- the config's own ``__post_init__`` checks run, and their ``ValueError`` becomes an error
  naming the key.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from typing import Any, Mapping

from genbench.errors import GenbenchError

MAX_SIZE = 65_536  # widest layer / largest batch an override or a checkpoint header may declare
MAX_ITEMS = 1_000  # longest list (e.g. layers) an override or a checkpoint header may declare
MAX_INT = 2**63 - 1  # what torch and numpy can hold
_SIZE_RE = re.compile(r"hidden|dim|width|channels|size|kernel")


class OverrideError(GenbenchError):
    """An override that does not fit the config; ``key`` and ``problem`` let callers add a line number."""

    def __init__(self, key: str, problem: str, where: str | None = None, message: str | None = None):
        self.key, self.problem = key, problem
        super().__init__(message or (f"{where}.{key}: {problem}" if where else f"config key {key!r} {problem}"))


def apply_overrides(config: Any, overrides: Mapping[str, Any] | None, where: str | None = None) -> Any:
    """Return a copy of the dataclass ``config`` with ``overrides`` applied and checked.

    ``where`` (e.g. ``"suites/x.yaml: models[1].overrides"``) prefixes the key in error messages.
    Every problem is an :class:`OverrideError` (a ``GenbenchError``) naming the key.
    """
    if not overrides:
        return config
    if not dataclasses.is_dataclass(config):
        raise TypeError(f"apply_overrides needs a dataclass config, got {type(config).__name__}")
    names = sorted(f.name for f in dataclasses.fields(config))
    hints = _hints(type(config))
    unknown = [str(k) for k in overrides if k not in names]
    if unknown:
        problem = f"unknown config key for {type(config).__name__}; valid keys: {', '.join(names)}"
        plain = f"unknown config key(s) {', '.join(unknown)} for {type(config).__name__}; valid keys: {', '.join(names)}"
        raise OverrideError(unknown[0], problem, where, None if where else plain)
    values = {}
    for key, value in overrides.items():
        current = getattr(config, key)
        try:
            values[key] = _check(key, hints.get(key, type(current)), value, current)
        except OverrideError as exc:
            raise OverrideError(exc.key, exc.problem, where) from None
    try:
        return dataclasses.replace(config, **values)
    except (TypeError, ValueError) as exc:
        # Blame the key the config's own check names (its messages start with the field name).
        key = next((k for k in values if re.search(rf"\b{re.escape(k)}\b", str(exc))), ", ".join(values))
        raise OverrideError(key, f"is invalid: {exc}", where) from None


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # unresolvable annotations: fall back to the current value's type
        return {}


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, (list, tuple)):
        return "a nested list" if any(isinstance(v, (list, tuple, dict)) for v in value) else f"the list {list(value)!r}"
    if isinstance(value, dict):
        return "a mapping"
    return _short(value)


def _check(key: str, tp: Any, value: Any, default: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None and len(args) < len(typing.get_args(tp)):
            return None
        if len(args) == 1:
            return _check(key, args[0], value, default)
        return value  # a union of several types: left to the config's own checks
    if origin in (tuple, list):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        elem = args[0] if args else Any
        if not isinstance(value, (list, tuple)):
            raise OverrideError(key, f"must be a list{_of(elem)}, got {_describe(value)}")
        if len(value) > MAX_ITEMS:
            raise OverrideError(key, f"must have at most {MAX_ITEMS:,} items, got {len(value):,}")
        if any(isinstance(v, (list, tuple, dict)) for v in value):
            raise OverrideError(key, f"must be a list{_of(elem)}, got a nested list")
        sample = default[0] if isinstance(default, (list, tuple)) and default else default
        return tuple(_check(f"{key}[{i}]", elem, v, sample) for i, v in enumerate(value))
    if tp is bool:
        if not isinstance(value, bool):
            raise OverrideError(key, f"must be true or false, got {_describe(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise OverrideError(key, f"must be an integer, got {_describe(value)}")
        name = key.split("[")[0]
        if _SIZE_RE.search(name):
            if not 1 <= value <= MAX_SIZE:
                raise OverrideError(key, f"must be between 1 and {MAX_SIZE:,} (a size), got {_short(value)}")
        elif value < 0 and not (isinstance(default, int) and default < 0):
            raise OverrideError(key, f"must be >= 0, got {_short(value)}")
        if abs(value) > MAX_INT:
            raise OverrideError(key, f"does not fit a 64-bit integer: {_short(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise OverrideError(key, f"must be a number, got {_describe(value)}")
        try:
            value = float(value)
        except OverflowError:
            raise OverrideError(key, "is too large for a float") from None
        if not math.isfinite(value):
            raise OverrideError(key, f"must be a finite number, got {value}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise OverrideError(key, f"must be a string, got {_describe(value)}")
        return value
    if isinstance(value, (list, tuple, dict)):
        raise OverrideError(key, f"must be a number, string or boolean, got {_describe(value)}")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:20] + "…" + text[-8:]


def _of(elem: Any) -> str:
    return {int: " of integers", float: " of numbers", str: " of strings", bool: " of booleans"}.get(elem, "")
