"""Inception Score (Salimans et al. 2016) from class probabilities, as the original code computes it."""

from __future__ import annotations

import numpy as np

from genbench.metrics import _inputs
from genbench.metrics.result import MetricResult

# Rows of a probability matrix must sum to 1 within this (softmax outputs stored in float32).
_ROW_SUM_TOLERANCE = 1e-3


def inception_score(probs, splits: int = 10) -> MetricResult:
    """IS = exp(E_x KL(p(y|x) ‖ p(y))), mean and std over ``splits`` consecutive chunks.

    Exactly the improved-gan procedure: chunk i holds rows ⌊i·N/splits⌋ … ⌊(i+1)·N/splits⌋−1,
    p(y) is the chunk's mean prediction, the score of a chunk is exp(mean KL), and the result is
    the mean and the population std (ddof 0) of the chunk scores. Computed in float64 with
    0·log 0 = 0 (the original would produce NaN for exact zeros). ``probs`` is N×K, rows
    non-negative and summing to 1 (softmax outputs, not logits).
    """
    p = _inputs.to_numpy(probs, "probs").astype(np.float64, copy=False)
    if p.ndim != 2:
        raise ValueError(f"probs: expected a 2-D array (samples, classes), got shape {p.shape}")
    _inputs.check_finite(p, "probs")
    splits = _inputs.positive_int(splits, "splits")
    n = p.shape[0]
    if n < splits:
        raise ValueError(f"probs: {n} samples cannot be cut into splits={splits} chunks")
    if p.shape[1] < 2:
        raise ValueError(f"probs: needs at least 2 classes, got {p.shape[1]}")
    if (p < 0).any() or (p > 1).any():
        raise ValueError(
            f"probs: values must lie in [0, 1] (got min {p.min():.3g}, max {p.max():.3g}); pass softmax "
            "probabilities, not logits"
        )
    worst = np.abs(p.sum(axis=1) - 1).max()
    if worst > _ROW_SUM_TOLERANCE:
        raise ValueError(f"probs: rows must sum to 1 (worst row is off by {worst:.3g}); pass softmax probabilities")

    scores = []
    for i in range(splits):
        part = p[i * n // splits:(i + 1) * n // splits]
        marginal = part.mean(axis=0, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            # where part == 0 the term is 0; marginal > 0 wherever part > 0.
            terms = np.where(part > 0, part * (np.log(part) - np.log(marginal)), 0.0)
        scores.append(np.exp(terms.sum(axis=1).mean()))
    scores_arr = np.asarray(scores)
    return MetricResult(
        "is", float(scores_arr.mean()), std=float(scores_arr.std()),
        params={"splits": splits, "n": n, "classes": p.shape[1]},
    )
