"""KID against torch-fidelity's implementation on the same features and the same subsets."""

import numpy as np
import pytest
import torch
from torch_fidelity.metric_kid import kid_features_to_metric

from genbench.metrics import kid


def _features(seed, n, dim, shift=0.0):
    return np.random.default_rng(seed).standard_normal((n, dim)) + shift


@pytest.mark.parametrize("n_a, n_b, dim, subsets, size, seed", [(300, 250, 64, 10, 100, 0), (120, 200, 2048, 3, 100, 7)])
def test_matches_torch_fidelity_with_the_same_subsets(n_a, n_b, dim, subsets, size, seed):
    a, b = _features(1, n_a, dim), _features(2, n_b, dim, shift=0.1)
    # torch-fidelity draws its subsets from np.random.RandomState(rng_seed), as genbench does.
    ref = kid_features_to_metric(torch.from_numpy(a), torch.from_numpy(b), kid_subsets=subsets,
                                 kid_subset_size=size, rng_seed=seed, verbose=False)
    res = kid(a, b, subsets=subsets, subset_size=size, seed=seed)
    assert res.value == pytest.approx(ref["kernel_inception_distance_mean"], rel=1e-6)
    assert res.std == pytest.approx(ref["kernel_inception_distance_std"], rel=1e-6)


def test_unbiased_estimate_is_near_zero_for_one_distribution_and_positive_for_two():
    a, b, c = _features(3, 400, 16), _features(4, 400, 16), _features(5, 400, 16, shift=1.0)
    same = kid(a, b, subsets=20, subset_size=200)
    assert abs(same.value) < 3 * same.std + 1e-3
    assert kid(a, c, subsets=20, subset_size=200).value > 0.1


def test_is_seeded():
    a, b = _features(6, 200, 8), _features(7, 200, 8, shift=0.2)
    assert kid(a, b, subsets=5, subset_size=50, seed=1) == kid(a, b, subsets=5, subset_size=50, seed=1)
    assert kid(a, b, subsets=5, subset_size=50, seed=1).value != kid(a, b, subsets=5, subset_size=50, seed=2).value


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(subset_size=500), "subset_size: 500 is larger than features_a \\(100 samples\\)"),
        (dict(subset_size=1), "subset_size: must be at least 2"),
        (dict(subsets=0), "subsets: must be at least 1"),
    ],
)
def test_bad_parameters(kwargs, match):
    a, b = _features(8, 100, 4), _features(9, 150, 4)
    with pytest.raises(ValueError, match=match):
        kid(a, b, **kwargs)


def test_bad_features():
    a = _features(8, 100, 4)
    with pytest.raises(ValueError, match="feature dimensions differ"):
        kid(a, a[:, :3], subset_size=10)
    with pytest.raises(ValueError, match="features_b: contains 1 NaN"):
        b = a.copy()
        b[3, 2] = np.nan
        kid(a, b, subset_size=10)


def test_a_kernel_beyond_float64_is_an_error_not_nan():
    """Issue 8 defect 11: 1e200 features gave KID = NaN. The cubic kernel is not scale invariant,
    so the answer (~1e1200) is not representable: an error naming the arguments."""
    a, b = _features(1, 40, 8), _features(2, 40, 8)
    with pytest.raises(ValueError, match="features_a and features_b: values overflow float64"):
        kid(a * 1e200, b, subsets=2, subset_size=20)


def test_tiny_features_give_the_limit_of_a_constant_kernel():
    # k(x, y) = (x·y/d + 1)³ → 1 for 1e-200 features: every MMD² term cancels to ~1e-400, i.e. 0.
    a, b = _features(1, 40, 8), _features(2, 40, 8, shift=3.0)
    assert kid(a * 1e-200, b * 1e-200, subsets=2, subset_size=20).value == pytest.approx(0.0, abs=1e-300)
