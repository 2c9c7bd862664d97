"""The memorisation statistic against brute-force distances (scipy) and hand-built cases."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from suite_fakes import make_image_dataset, make_points_dataset
from genbench.metrics.memorization import decode_images, encode_images, memorization, nearest_train
from genbench.metrics.registry import MetricInputs, get_metric


def test_nearest_train_matches_brute_force():
    rng = np.random.default_rng(0)
    q, t = rng.standard_normal((37, 5)), rng.standard_normal((101, 5))
    d, i = nearest_train(q, t, k=3, chunk=8)
    full = cdist(q, t)
    order = np.argsort(full, axis=1)[:, :3]
    np.testing.assert_array_equal(i, order)
    np.testing.assert_allclose(d, np.take_along_axis(full, order, axis=1), rtol=1e-9, atol=1e-9)


def test_fraction_below_the_held_out_percentile_by_hand():
    # train on the integers 0..9 of a line; held-out points at distances 0.1, 0.2, ..., 0.4 from train
    train = np.arange(10.0)[:, None]
    held = np.array([[0.1], [3.2], [5.3], [7.4]])  # NN distances 0.1, 0.2, 0.3, 0.4
    tau = np.percentile([0.1, 0.2, 0.3, 0.4], 50)  # 0.25
    gen = np.array([[2.0], [4.05], [6.3], [8.45], [1.5]])  # NN distances 0, 0.05, 0.3, 0.45, 0.5
    r = memorization(gen, train, held, percentile=50, n_examples=2, k_examples=2)
    assert r.params["threshold"] == pytest.approx(tau) == pytest.approx(0.25)
    assert r.value == pytest.approx(2 / 5)  # 0 and 0.05 are below 0.25
    assert r.std == pytest.approx(np.sqrt(0.4 * 0.6 / 5))
    assert r.params["examples"][0] == {"sample": 0, "train": [2, 1], "distance": [0.0, 1.0]} or \
        r.params["examples"][0]["train"] == [2, 3]  # 1 and 3 are equally near: either is right
    assert r.params["median_nn_held_out"] == pytest.approx(0.25)


def test_copies_score_one_and_fresh_samples_about_the_percentile():
    rng = np.random.default_rng(1)
    train, held, fresh = rng.standard_normal((2000, 2)), rng.standard_normal((2000, 2)), rng.standard_normal((4000, 2))
    assert memorization(train[:500] + 1e-9, train, held).value == 1.0
    assert abs(memorization(fresh, train, held).value - 0.05) < 0.015  # same distribution: ~5 % by construction


def test_registered_metric_on_images_and_points():
    spec = get_metric("memorized")
    ds = make_image_dataset()
    copies = ds.split("train").samples[:30]
    x = MetricInputs(kind="image", dataset=ds, split="test", n_real=60, samples=copies)
    (r,) = spec.compute(x, **dict(spec.params))
    assert r.name == "memorized" and r.value == 1.0 and r.params["space"] == "pixels / 255, L2"
    e = r.params["examples"][0]
    imgs = decode_images(e["images"])
    assert imgs.shape == (4, 1, 8, 8) and (imgs[0] == copies[0]).all() and (imgs[1] == copies[0]).all()
    assert e["distance"][0] < 1e-6  # a copy (up to the rounding of |a|² + |b|² − 2ab)
    pts = make_points_dataset()
    x = MetricInputs(kind="points", dataset=pts, split="test", n_real=100,
                     samples=np.full((50, 2), 40.0))  # far from everything
    (r,) = spec.compute(x, **dict(spec.params))
    assert r.value == 0.0 and len(r.params["examples"][0]["points"]) == 4
    x = MetricInputs(kind="points", dataset=pts, split="train", n_real=100, samples=np.zeros((5, 2)))
    spec.compute(x, **dict(spec.params))
    assert "not held out" in x.warnings[0]


def test_encode_round_trip():
    a = np.arange(2 * 3 * 4 * 5, dtype=np.uint8).reshape(2, 3, 4, 5)
    np.testing.assert_array_equal(decode_images(encode_images(a)), a)
