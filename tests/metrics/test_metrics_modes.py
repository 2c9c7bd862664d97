"""Mode coverage on hand-built point sets and label histograms with known answers."""

import math

import numpy as np
import pytest

from genbench.metrics import class_mode_coverage, mode_coverage_2d


def _by_name(results):
    return {r.name: r.value for r in results}


def test_two_modes_hand_built():
    means = np.array([[0.0, 0.0], [10.0, 0.0]])
    points = np.array([
        [0.0, 0.5], [0.5, 0.0], [-1.0, -1.0],  # mode 0, all within 3σ
        [10.0, 2.9],  # mode 1, within 3σ
        [6.5, 0.0],  # nearest mode 1 but 3.5σ away: not high quality
    ])
    got = _by_name(mode_coverage_2d(points, means, std=1.0))
    assert got["modes"] == 2
    assert got["high_quality"] == pytest.approx(4 / 5)
    # KL(p ‖ uniform) with every point on its nearest mode: p = (3/5, 2/5)
    assert got["mode_kl"] == pytest.approx(0.6 * math.log(0.6 * 2) + 0.4 * math.log(0.4 * 2))
    # mode 1 has one high-quality point: min_count=2 leaves one mode covered
    assert _by_name(mode_coverage_2d(points, means, std=1.0, min_count=2))["modes"] == 1
    # a tighter threshold (2σ) drops (10, 2.9) as well
    assert _by_name(mode_coverage_2d(points, means, std=1.0, threshold=2.0))["high_quality"] == pytest.approx(3 / 5)


def test_ring_with_two_of_eight_modes_collapsed_onto():
    angles = 2 * np.pi * np.arange(8) / 8
    means = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    rng = np.random.default_rng(0)
    points = np.concatenate([means[2] + 0.001 * rng.standard_normal((50, 2)),
                             means[5] + 0.001 * rng.standard_normal((50, 2))])
    got = _by_name(mode_coverage_2d(points, means, std=0.01))
    assert got == pytest.approx({"modes": 2, "high_quality": 1.0, "mode_kl": math.log(4)})


def test_perfect_grid_coverage_has_zero_kl():
    means = np.array([[x, y] for x in (-2.0, 0.0, 2.0) for y in (-2.0, 0.0, 2.0)])
    got = _by_name(mode_coverage_2d(np.repeat(means, 3, axis=0), means, std=0.05))
    assert got == pytest.approx({"modes": 9, "high_quality": 1.0, "mode_kl": 0.0})


def test_class_mode_coverage_against_uniform_and_reference():
    labels = [0, 0, 1, 3]
    got = _by_name(class_mode_coverage(labels, 4))
    assert got["modes"] == 3
    assert got["mode_kl"] == pytest.approx(0.5 * math.log(2))  # p = (.5, .25, 0, .25) vs 1/4
    assert _by_name(class_mode_coverage(labels, 4, min_count=2))["modes"] == 1
    ref = _by_name(class_mode_coverage(labels, 4, reference=[4, 2, 1, 1]))  # q = (.5, .25, .125, .125)
    assert ref["mode_kl"] == pytest.approx(0.25 * math.log(2))
    assert _by_name(class_mode_coverage(labels, 4, reference=[1, 1, 1, 1]))["mode_kl"] == pytest.approx(got["mode_kl"])


def test_stacked_mnist_style_1000_classes_all_hit_once():
    got = _by_name(class_mode_coverage(np.arange(1000)[::-1], 1000))
    assert got == pytest.approx({"modes": 1000, "mode_kl": 0.0}, abs=1e-12)
    one = _by_name(class_mode_coverage(np.full(10, 123), 1000))
    assert one == pytest.approx({"modes": 1, "mode_kl": math.log(1000)})


def test_reference_with_an_empty_class_the_model_produces_stays_finite_and_warns():
    with pytest.warns(UserWarning, match="reference: 1 class"):
        res = class_mode_coverage([0, 0, 1, 3], 4, reference=[2, 1, 1, 0])
    kl = res[1]
    assert math.isfinite(kl.value) and kl.value > 0 and kl.params["reference_floored"] == 1


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: class_mode_coverage([0, 4], 4), "labels: values must lie in \\[0, 4\\)"),
        (lambda: class_mode_coverage([0.5, 1], 4), "labels: must be integer class indices"),
        (lambda: class_mode_coverage([], 4), "labels: expected a non-empty 1-D array"),
        (lambda: class_mode_coverage([0, 1], 4, reference=[1, 1]), "reference: expected 4 per-class weights"),
        (lambda: class_mode_coverage([0, 1], 4, reference=[1, -1, 1, 1]), "reference: weights must be non-negative"),
        (lambda: mode_coverage_2d(np.zeros((3, 2)), np.zeros((2, 3)), 1.0), "points and means: dimensions differ"),
        (lambda: mode_coverage_2d(np.zeros((3, 2)), np.zeros((2, 2)), 0.0), "std: expected a positive"),
        (lambda: mode_coverage_2d(np.full((3, 2), np.nan), np.zeros((2, 2)), 1.0), "points: contains 6 NaN"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_huge_and_tiny_points_are_assigned_as_at_unit_scale(scale):
    """Issue 8 defect 11: distances of 1e200 points overflowed (0 modes); coverage is scale invariant.
    Oracle: nearest mode and threshold test written out in numpy on the unscaled points."""
    rng = np.random.default_rng(6)
    means = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    points = means[rng.integers(0, 2, 60)] + 0.4 * rng.standard_normal((60, 2))
    dist = np.linalg.norm(points[:, None, :] - means[None, :, :], axis=2)
    nearest, good = dist.argmin(axis=1), dist.min(axis=1) <= 3.0 * 0.3
    got = _by_name(mode_coverage_2d(points * scale, means * scale, 0.3 * scale))
    assert got["modes"] == len(set(nearest[good]))
    assert got["high_quality"] == pytest.approx(good.mean(), rel=1e-12)
    p = np.bincount(nearest, minlength=3) / 60
    assert got["mode_kl"] == pytest.approx(sum(x * math.log(3 * x) for x in p if x > 0), rel=1e-12)


def test_reference_weights_near_the_float64_limit_do_not_overflow(recwarn):
    got = _by_name(class_mode_coverage(np.array([0, 1, 1, 2]), 3, reference=np.array([1.5e308, 1.5e308, 1.5e308])))
    assert got["mode_kl"] == pytest.approx(0.5 * math.log(0.75) + 0.5 * math.log(1.5), rel=1e-12)
    assert not [w for w in recwarn if "flooring" in str(w.message)]
