"""genbench.jsonable: the one sanitiser between genbench's values and strict JSON."""

import json
import math
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import torch

from genbench.jsonable import jsonable
from genbench.metrics.result import MetricResult


@dataclass
class _Point:
    x: float
    where: Path


def test_numpy_torch_paths_dataclasses_and_non_finite_numbers_become_strict_json():
    value = {
        1: np.float32(0.5), "i": np.int64(3), "b": np.bool_(True), "arr": np.array([[1.0, np.nan], [np.inf, 2.0]]),
        "t": torch.tensor([1.5, -math.inf]), "path": Path("runs") / "x", "tuple": (np.float64(np.nan), 2),
        "point": _Point(np.float64(-np.inf), Path("a")), "proxy": MappingProxyType({"k": np.int32(7)}),
        "plain": [None, "s", True, 4, 1e300],
    }
    expected = {
        "1": 0.5, "i": 3, "b": True, "arr": [[1.0, None], [None, 2.0]], "t": [1.5, None], "path": "runs/x",
        "tuple": [None, 2], "point": {"x": None, "where": "a"}, "proxy": {"k": 7}, "plain": [None, "s", True, 4, 1e300],
    }
    out = jsonable(value)
    assert json.loads(json.dumps(out, allow_nan=False)) == expected
    assert type(out["i"]) is int and type(out["b"]) is bool and type(out["1"]) is float


def test_metric_results_write_non_finite_values_and_params_as_null():
    res = MetricResult("psnr", math.inf, std=float("nan"), ci=(1.0, math.inf),
                       params={"n": np.int64(2), "sizes": np.array([5, 10]), "bad": np.float64("nan")})
    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert d == {"name": "psnr", "value": None, "std": None, "ci": [1.0, None],
                 "params": {"n": 2, "sizes": [5, 10], "bad": None}}
