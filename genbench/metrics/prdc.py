"""Precision/recall (Kynkäänniemi et al. 2019) and density/coverage (Naeem et al. 2020).

All four compare k-nearest-neighbour balls in feature space. Distances are float64 and computed
in blocks of rows, so the N×M distance matrix never exists in full; the decisions use strict
``<`` and the k-th neighbour counts the point itself, exactly as the authors' ``prdc`` package.
"""

from __future__ import annotations

import torch

from genbench.metrics import _inputs
from genbench.metrics.result import MetricResult

_BLOCK_ELEMENTS = 1 << 22


def _blocks(n_rows: int, n_cols: int):
    step = max(1, _BLOCK_ELEMENTS // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def _distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.cdist(x, y, compute_mode="use_mm_for_euclid_dist")


def knn_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each row to its k-th nearest neighbour, the row itself being the 0-th."""
    return torch.cat([_distances(x[rows], x).kthvalue(k + 1, dim=1).values for rows in _blocks(len(x), len(x))])


def prdc(real_features, fake_features, *, k: int = 5, device=None) -> list[MetricResult]:
    """[precision, recall, density, coverage] of ``fake_features`` against ``real_features``.

    precision: fraction of fakes inside some real k-NN ball; recall: fraction of reals inside some
    fake k-NN ball; density: (1/k)·mean over fakes of the number of real balls containing it;
    coverage: fraction of reals whose ball contains at least one fake.
    """
    real = _inputs.features(real_features, "real_features", device=device)
    fake = _inputs.features(fake_features, "fake_features", device=real.device)
    _inputs.same_width(real, fake, "real_features", "fake_features")
    k = _inputs.positive_int(k, "k")
    for name, t in (("real_features", real), ("fake_features", fake)):
        if k >= t.shape[0]:
            raise ValueError(f"k: {k} neighbours need more than {k} samples, {name} has {t.shape[0]}")

    # The decisions are invariant to a common scale; a power of two is exact and keeps squared
    # distances of 1e200 or 1e-200 features from overflowing or underflowing.
    scale = _inputs.power_of_two_scale(real, fake)
    real, fake = real / scale, fake / scale
    real_radii = knn_radii(real, k)
    fake_radii = knn_radii(fake, k)
    in_real_balls = torch.zeros(fake.shape[0], dtype=torch.float64, device=real.device)  # per fake
    recalled = torch.zeros(real.shape[0], dtype=torch.bool, device=real.device)  # per real
    covered = torch.zeros(real.shape[0], dtype=torch.bool, device=real.device)  # per real
    for rows in _blocks(real.shape[0], fake.shape[0]):
        d = _distances(real[rows], fake)  # (block of reals) × fakes
        inside = d < real_radii[rows].unsqueeze(1)
        in_real_balls += inside.sum(dim=0)
        recalled[rows] = (d < fake_radii.unsqueeze(0)).any(dim=1)
        covered[rows] = d.min(dim=1).values < real_radii[rows]
    params = {"k": k, "n_real": real.shape[0], "n_fake": fake.shape[0], "dims": real.shape[1]}
    return [
        MetricResult("precision", float((in_real_balls > 0).double().mean()), params=params),
        MetricResult("recall", float(recalled.double().mean()), params=params),
        MetricResult("density", float(in_real_balls.mean() / k), params=params),
        MetricResult("coverage", float(covered.double().mean()), params=params),
    ]
