"""Parzen log-likelihood against scikit-learn's Gaussian KDE and a direct float64 transcription."""

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from sklearn.neighbors import KernelDensity

from genbench.metrics import parzen_log_likelihood, select_parzen_sigma


def direct_parzen(samples, test, sigma):
    """Goodfellow et al. 2014 (parzen_ll.py) written out with an explicit N×M×D difference tensor."""
    a = (test[:, None, :] - samples[None, :, :]) / sigma
    e = -0.5 * (a**2).sum(axis=2)
    return logsumexp(e, axis=1) - math.log(samples.shape[0]) - samples.shape[1] * math.log(sigma * math.sqrt(2 * math.pi))


def _data(seed, n_samples=300, n_test=60, dim=20):
    rng = np.random.default_rng(seed)
    return rng.random((n_samples, dim)), rng.random((n_test, dim))


@pytest.mark.parametrize("sigma", [0.35, 1.0, 2.0])
def test_matches_sklearn_kernel_density_per_point(sigma):
    samples, test = _data(0)
    ref = KernelDensity(kernel="gaussian", bandwidth=sigma).fit(samples).score_samples(test)
    res = parzen_log_likelihood(samples, test, sigma)
    assert res.value == pytest.approx(ref.mean(), rel=1e-10)
    assert res.std == pytest.approx(ref.std() / math.sqrt(len(test)), rel=1e-8)
    assert res.params["sigma"] == sigma


def test_small_sigma_matches_the_direct_computation():
    """Here scikit-learn's tree KDE is known to be wrong (scikit-learn#25799): at σ = 0.1 it
    reports a mean of about -26 nats where the exact log-mean-exp gives about -43."""
    samples, test = _data(0)
    ref = direct_parzen(samples, test, 0.1)
    assert parzen_log_likelihood(samples, test, 0.1).value == pytest.approx(ref.mean(), rel=1e-10)


@pytest.mark.parametrize("batch_size", [1, 7, None])
def test_stable_in_784_dimensions_where_plain_exp_underflows(batch_size):
    rng = np.random.default_rng(1)
    samples, test = rng.random((50, 784)), rng.random((13, 784))
    ref = direct_parzen(samples, test, 0.1)
    assert np.all(np.isfinite(ref)) and np.exp(-0.5 * ((test[0] - samples[0]) / 0.1) ** 2).prod() == 0.0
    res = parzen_log_likelihood(samples, test, 0.1, batch_size=batch_size)
    assert res.value == pytest.approx(ref.mean(), rel=1e-10)


def test_images_are_flattened_and_tensors_accepted():
    rng = np.random.default_rng(2)
    samples, test = rng.random((40, 1, 6, 6)), rng.random((9, 1, 6, 6))
    ref = direct_parzen(samples.reshape(40, -1), test.reshape(9, -1), 0.2)
    res = parzen_log_likelihood(torch.from_numpy(samples).float(), torch.from_numpy(test), 0.2)
    assert res.value == pytest.approx(ref.mean(), rel=1e-6)


def test_select_sigma_takes_the_best_validation_likelihood_on_the_default_grid():
    samples, valid = _data(3, n_samples=200, n_test=40, dim=5)
    best, scores = select_parzen_sigma(samples, valid)
    grid = np.logspace(-1, 0, 10)
    ref = {s: KernelDensity(bandwidth=s).fit(samples).score_samples(valid).mean() for s in grid}
    assert list(scores) == pytest.approx(list(grid))
    assert list(scores.values()) == pytest.approx(list(ref.values()), rel=1e-10)
    assert best == pytest.approx(max(ref, key=ref.get))
    best2, scores2 = select_parzen_sigma(samples, valid, sigmas=[0.05, 0.5])
    assert set(scores2) == {0.05, 0.5} and best2 == max(scores2, key=scores2.get)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda s, t: parzen_log_likelihood(s, t[:, :3], 0.1), "samples and test: dimensions differ"),
        (lambda s, t: parzen_log_likelihood(s, t, 0.0), "sigma: expected a positive finite number"),
        (lambda s, t: parzen_log_likelihood(s, t, "wide"), "sigma: expected a positive number"),
        (lambda s, t: parzen_log_likelihood(s * np.nan, t, 0.1), "samples: contains .* NaN"),
        (lambda s, t: parzen_log_likelihood(s, t[0], 0.1), "test: expected shape \\(samples, ...\\)"),
        (lambda s, t: parzen_log_likelihood(s, t, 0.1, batch_size=0), "batch_size: must be at least 1"),
        (lambda s, t: select_parzen_sigma(s, t, sigmas=[0.1, -1]), "sigmas: need one or more positive"),
        (lambda s, t: select_parzen_sigma(s, t[:, :2]), "samples and validation: dimensions differ"),
    ],
)
def test_bad_input(call, match):
    s, t = _data(4, n_samples=20, n_test=5, dim=4)
    with pytest.raises(ValueError, match=match):
        call(s, t)


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_huge_and_tiny_data_with_a_matching_sigma_are_finite_and_exact(scale):
    """Issue 8 defect 11: 1e200 data gave NaN, and 1e-200 data with σ = 1e-201 too (σ² underflow).
    The density of s·x under bandwidth s·σ is that of x under σ, divided by s^D."""
    samples, test = _data(3, n_samples=50, n_test=10, dim=6)
    expected = direct_parzen(samples, test, 0.2).mean() - 6 * math.log(scale)
    got = parzen_log_likelihood(samples * scale, test * scale, 0.2 * scale).value
    assert got == pytest.approx(expected, rel=1e-12)


def test_a_log_likelihood_beyond_float64_is_an_error_not_nan():
    samples, test = _data(4, n_samples=20, n_test=5, dim=4)
    with pytest.raises(ValueError, match="samples and test: the log-likelihood overflows float64"):
        parzen_log_likelihood(samples * 1e200, test * 1e200, 0.5)
    with pytest.raises(ValueError, match="samples and test: the log-likelihood overflows float64"):
        select_parzen_sigma(samples * 1e200, test * 1e200)
