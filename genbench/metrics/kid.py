"""Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD² with a cubic polynomial kernel."""

from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from genbench.metrics import _inputs
from genbench.metrics.result import MetricResult


def _polynomial_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x @ y.mT / x.shape[1] + 1.0) ** 3


def unbiased_mmd2(x: torch.Tensor, y: torch.Tensor) -> float:
    """Unbiased MMD² between equally sized sets: the within-set sums skip the diagonal
    (i ≠ j), the cross term keeps every pair — the estimator of the KID paper's code."""
    m = x.shape[0]
    k_xx = _polynomial_kernel(x, x)
    k_yy = _polynomial_kernel(y, y)
    k_xy = _polynomial_kernel(x, y)
    within = (k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return float(within - 2 * k_xy.sum() / (m * m))


def subset_indices(n_a: int, n_b: int, subsets: int, subset_size: int, seed: int):
    """The subsets KID averages over: per subset, ``subset_size`` rows of each set without
    replacement, drawn alternately from ``np.random.RandomState(seed)`` — the same draws as
    torch-fidelity's ``rng_seed`` and the KID paper's code, so results can be cross-checked."""
    rng = np.random.RandomState(seed)
    for _ in range(subsets):
        yield rng.choice(n_a, subset_size, replace=False), rng.choice(n_b, subset_size, replace=False)


def kid(features_a, features_b, *, subsets: int = 100, subset_size: int = 1000, seed: int = 0,
        device=None) -> MetricResult:
    """KID: mean (and std, ddof 0) of the unbiased MMD² with kernel k(x, y) = (x·y/d + 1)³ over
    ``subsets`` random subsets of ``subset_size`` rows of each set (see :func:`subset_indices`).

    Float64, on the features' device (or ``device``). Unlike FID it is unbiased, so it can be
    slightly negative when the two sets come from the same distribution.
    """
    a = _inputs.features(features_a, "features_a", device=device)
    b = _inputs.features(features_b, "features_b", device=a.device)
    _inputs.same_width(a, b, "features_a", "features_b")
    subsets = _inputs.positive_int(subsets, "subsets")
    subset_size = _inputs.positive_int(subset_size, "subset_size", minimum=2)
    for name, t in (("features_a", a), ("features_b", b)):
        if subset_size > t.shape[0]:
            raise ValueError(
                f"subset_size: {subset_size} is larger than {name} ({t.shape[0]} samples); "
                "lower subset_size or provide more samples"
            )
    mmds = np.array([
        unbiased_mmd2(a[torch.as_tensor(ia, device=a.device)], b[torch.as_tensor(ib, device=b.device)])
        for ia, ib in tqdm(subset_indices(a.shape[0], b.shape[0], subsets, subset_size, seed),
                           total=subsets, desc="KID subsets", leave=False, disable=None)
    ])
    if not np.isfinite(mmds).all():
        # the cubic kernel is not scale invariant, so there is no rescaling that gives the answer
        raise ValueError(
            "features_a and features_b: values overflow float64 in KID's kernel (x·y/d + 1)³ "
            f"(largest |value| {max(float(a.abs().max()), float(b.abs().max())):.3g})"
        )
    return MetricResult(
        "kid", float(mmds.mean()), std=float(mmds.std()),
        params={"subsets": subsets, "subset_size": subset_size, "seed": seed, "degree": 3,
                "n_a": a.shape[0], "n_b": b.shape[0], "dims": a.shape[1]},
    )
