"""The one JSON sanitiser: what genbench writes (results, summaries, protocols) must be strict JSON."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any


def jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON values, recursively: numpy/torch scalars and arrays → Python numbers
    and lists (via ``tolist``), paths → str, dataclass instances → dicts, tuples/sets → lists,
    mapping keys → str, and NaN/±inf → None (JSON has no non-finite numbers; ``allow_nan=False``
    writers would refuse them, other readers choke on ``NaN``). Anything else is returned as is."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, float):  # also numpy.float64, a float subclass
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, (str, int, type(None))):  # bool is an int
        return obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})
    if hasattr(obj, "tolist"):  # numpy and torch scalars and arrays
        return jsonable(obj.tolist())
    return obj
