"""Inception Score against a float64 transcription of the improved-gan code and closed forms."""

import numpy as np
import pytest
import torch

from genbench.metrics import inception_score


def improved_gan_is(preds, splits):
    """Transcribed from openai/improved-gan inception_score/model.py (float64)."""
    scores = []
    for i in range(splits):
        part = preds[(i * preds.shape[0] // splits):((i + 1) * preds.shape[0] // splits), :]
        kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
        kl = np.mean(np.sum(kl, 1))
        scores.append(np.exp(kl))
    return np.mean(scores), np.std(scores)


@pytest.mark.parametrize("n, splits", [(1003, 10), (500, 7), (64, 1)])
def test_matches_the_original_code_including_uneven_splits(n, splits):
    rng = np.random.default_rng(n)
    probs = rng.dirichlet(np.full(10, 0.3), size=n)
    mean, std = improved_gan_is(probs, splits)
    res = inception_score(probs, splits=splits)
    assert res.value == pytest.approx(mean, rel=1e-12)
    assert res.std == pytest.approx(std, rel=1e-9, abs=1e-15)
    assert inception_score(torch.from_numpy(probs).float(), splits=splits).value == pytest.approx(mean, rel=1e-5)


def test_uniform_predictions_score_one():
    res = inception_score(np.full((100, 10), 0.1), splits=10)
    assert res.value == pytest.approx(1.0, abs=1e-12)
    assert res.std == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("k", [2, 10, 1000])
def test_confident_predictions_spread_evenly_over_k_classes_score_k(k):
    labels = np.tile(np.arange(k), 3)  # every split (3 of them) holds each class exactly once
    probs = np.eye(k)[labels]
    res = inception_score(probs, splits=3)
    assert res.value == pytest.approx(k, rel=1e-12)
    assert res.std == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    "probs, splits, match",
    [
        (np.full((10, 4), 0.25), 11, "probs: 10 samples cannot be cut into splits=11"),
        (np.full((10, 4), 0.25), 0, "splits: must be at least 1"),
        (np.random.default_rng(0).standard_normal((10, 4)), 2, "probs: values must lie in \\[0, 1\\].*logits"),
        (np.full((10, 4), 0.2), 2, "probs: rows must sum to 1"),
        (np.full((10, 4), np.nan), 2, "probs: contains 40 NaN"),
        (np.full(10, 0.1), 2, "probs: expected a 2-D array"),
        (np.ones((10, 1)), 2, "probs: needs at least 2 classes"),
    ],
)
def test_bad_input(probs, splits, match):
    with pytest.raises(ValueError, match=match):
        inception_score(probs, splits=splits)


def test_subnormal_probabilities_are_finite_and_count_as_their_value():
    """Issue 8 defect 11 audit: probabilities lie in [0, 1], so only tiny values can misbehave;
    5e-324 (the smallest subnormal) contributes 5e-324·log(…) ≈ 0, as an exact zero does."""
    p = np.tile([0.5, 0.3, 0.2, 0.0], (8, 1))
    p[::2] = [0.2, 0.3, 0.5, 0.0]
    tiny = p.copy()
    tiny[:, 3] = 5e-324
    expected = inception_score(p, splits=2)
    got = inception_score(tiny, splits=2)
    assert got.value == pytest.approx(expected.value, rel=1e-15)
    # closed form: two row types, equal halves: marginal m, KL per row, IS = exp(mean KL)
    m = (np.array([0.5, 0.3, 0.2]) + np.array([0.2, 0.3, 0.5])) / 2
    kl = np.sum(np.array([0.5, 0.3, 0.2]) * np.log(np.array([0.5, 0.3, 0.2]) / m))
    assert got.value == pytest.approx(np.exp(kl), rel=1e-12)
