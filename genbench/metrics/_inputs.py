"""Checking and converting metric inputs (numpy arrays or torch tensors, CPU or CUDA).

Every metric funnels its arguments through here so that bad input fails the same way
everywhere: a ``ValueError`` that names the argument and says what is wrong, before any
arithmetic could turn it into a plausible-looking number.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from genbench.device import resolve_device

ArrayLike = Any  # np.ndarray | torch.Tensor | nested sequences of numbers


def _check_dtype(name: str, kind: str) -> None:
    # numpy dtype kinds: b bool, i/u integers, f float, c complex, O object, U/S strings ...
    if kind not in "biuf":
        raise ValueError(f"{name}: expected a real numeric array, got dtype kind {kind!r}")


def to_numpy(x: ArrayLike, name: str) -> np.ndarray:
    """Any array-like → numpy array (tensors are detached and copied to the CPU), dtype kept."""
    if isinstance(x, torch.Tensor):
        if x.is_complex():
            raise ValueError(f"{name}: expected a real numeric array, got {x.dtype}")
        arr = x.detach().cpu().numpy()
    else:
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}: cannot be read as an array ({exc})") from None
    _check_dtype(name, arr.dtype.kind)
    return arr


def to_tensor(x: ArrayLike, name: str, *, device: str | torch.device | None = None,
              dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Any array-like → tensor of ``dtype`` on ``device``.

    ``device=None`` keeps a tensor where it is (so CUDA inputs are computed on CUDA) and puts
    numpy input on the default device of :func:`genbench.device.resolve_device` (CUDA when present).
    """
    if isinstance(x, torch.Tensor):
        if x.is_complex():
            raise ValueError(f"{name}: expected a real numeric array, got {x.dtype}")
        target = x.device if device is None else resolve_device(device)
        return x.detach().to(device=target, dtype=dtype)
    arr = to_numpy(x, name)
    return torch.as_tensor(arr).to(device=resolve_device(device), dtype=dtype)


def check_finite(t: torch.Tensor | np.ndarray, name: str) -> None:
    finite = torch.isfinite(t).all().item() if isinstance(t, torch.Tensor) else np.isfinite(t).all()
    if not finite:
        bad = (~torch.isfinite(t)).sum().item() if isinstance(t, torch.Tensor) else int((~np.isfinite(t)).sum())
        raise ValueError(f"{name}: contains {bad} NaN or infinite value(s)")


def features(x: ArrayLike, name: str, *, device: str | torch.device | None = None,
             min_samples: int = 2) -> torch.Tensor:
    """A finite N×D float64 feature matrix with at least ``min_samples`` rows."""
    t = to_tensor(x, name, device=device)
    if t.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array of shape (samples, features), got shape {tuple(t.shape)}")
    if t.shape[0] < min_samples:
        raise ValueError(f"{name}: needs at least {min_samples} samples, got {t.shape[0]}")
    if t.shape[1] < 1:
        raise ValueError(f"{name}: has zero feature dimensions")
    check_finite(t, name)
    return t


def same_width(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{name_a} and {name_b}: feature dimensions differ ({a.shape[1]} vs {b.shape[1]}); "
            "were they computed with the same extractor?"
        )


def flat_samples(x: ArrayLike, name: str, *, device: str | torch.device | None = None,
                 min_samples: int = 1) -> torch.Tensor:
    """N×... (images or vectors) → finite N×D float64, flattening everything after axis 0."""
    t = to_tensor(x, name, device=device)
    if t.ndim < 2:
        raise ValueError(f"{name}: expected shape (samples, ...), got shape {tuple(t.shape)}")
    if t.shape[0] < min_samples:
        raise ValueError(f"{name}: needs at least {min_samples} samples, got {t.shape[0]}")
    check_finite(t, name)
    return t.reshape(t.shape[0], -1)


def power_of_two_scale(*tensors: torch.Tensor) -> float:
    """A power of two at least the largest |value| (1 for all zeros). Dividing by it is exact,
    and it keeps squares and products of huge (1e200) or tiny (1e-200) inputs inside float64's
    range — what a scale-invariant metric needs to give the same answer at any scale."""
    top = max((float(t.abs().max()) for t in tensors if t.numel()), default=0.0)
    return 1.0 if top == 0.0 else math.ldexp(1.0, math.frexp(top)[1])


def positive_number(value: Any, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a positive number, got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return v


def positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: must be at least {minimum}, got {value}")
    return int(value)
