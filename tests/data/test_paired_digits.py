"""mnist-edges and mnist-labels: the input formulas on hand-made cases, and the datasets built from them."""

from __future__ import annotations

import numpy as np
import pytest

from genbench.data import DATASETS, load_dataset
from genbench.data.paired_digits import decode_label_map, label_map, outer_contour
from genbench.errors import GenbenchError


def test_outer_contour_of_a_hand_made_stroke():
    img = np.zeros((1, 1, 6, 7), np.uint8)
    img[0, 0, 2, 2] = 200  # one stroke pixel ...
    img[0, 0, 2, 3] = 127  # ... and a grey one just below the threshold (background)
    img[0, 0, 5, 6] = 128  # a stroke pixel in the corner: its ring is clipped by the border
    expected = np.zeros((6, 7), np.uint8)
    expected[1:4, 1:4] = 255
    expected[2, 2] = 0
    expected[4:6, 5:7] = 255
    expected[5, 6] = 0
    np.testing.assert_array_equal(outer_contour(img)[0, 0], expected)


def test_label_map_encodes_and_decodes_each_class():
    digits = np.zeros((10, 1, 3, 3), np.uint8)
    digits[:, 0, 1, 1] = 255
    digits[:, 0, 0, 0] = 100  # below the threshold: background
    maps = label_map(digits, np.arange(10))
    assert maps.dtype == np.uint8
    assert [int(m[0, 1, 1]) for m in maps] == [20, 40, 60, 80, 100, 120, 140, 160, 180, 200]
    assert int(maps[:, 0, 0, 0].max()) == 0
    decoded = decode_label_map(maps)
    assert decoded[:, 0, 1, 1].tolist() == list(range(1, 11)) and int(decoded[:, 0, 0, 0].max()) == 0
    # Levels off the grid decode to the nearest class: what a resized or noisy map would hold.
    assert decode_label_map(np.array([9, 11, 29, 31, 255], np.uint8)).tolist() == [0, 1, 1, 2, 10]
    with pytest.raises(GenbenchError, match="classes 0..9"):
        label_map(digits[:1], np.array([10]))


@pytest.mark.parametrize("name", ["mnist-edges", "mnist-labels"])
def test_paired_digit_datasets_keep_mnist5k_and_are_deterministic(name):
    base, ds = load_dataset("mnist-5k"), load_dataset(name)
    spec = DATASETS[name]
    assert ds.task.kind == "translation" and ds.task.classifier == "mnist-classifier"
    assert spec.extractor == "mnist-classifier" and spec.sample_shape == (1, 28, 28) and ds.n_classes == 10
    assert ds.pairing == "paired"
    for split_name in ("train", "val", "test"):
        split, ref = ds.split(split_name), base.split(split_name)
        np.testing.assert_array_equal(split.samples, ref.samples)
        np.testing.assert_array_equal(split.labels, ref.labels)
        assert split.inputs.shape == ref.samples.shape and split.inputs.dtype == np.uint8
    again = load_dataset(name)
    assert again.fingerprint == ds.fingerprint
    np.testing.assert_array_equal(again.split("test").inputs, ds.split("test").inputs)
    assert ds.fingerprint.sha256 != base.fingerprint.sha256


def test_edges_lie_just_outside_the_strokes():
    test = load_dataset("mnist-edges").split("test")
    inputs, digits = test.inputs[:50, 0], test.samples[:50, 0]
    assert set(np.unique(inputs).tolist()) == {0, 255}
    for edges, digit in zip(inputs, digits):
        stroke = digit >= 128
        assert not (edges.astype(bool) & stroke).any()
        for y, x in zip(*np.nonzero(edges)):  # each edge pixel touches a stroke pixel (8-neighbourhood)
            assert stroke[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2].any()
        assert edges.any()


def test_label_maps_decode_to_each_digits_class():
    test = load_dataset("mnist-labels").split("test")
    decoded = decode_label_map(test.inputs)[:, 0]
    stroke = test.samples[:, 0] >= 128
    assert np.array_equal(decoded > 0, stroke)
    for classes, label, mask in zip(decoded, test.labels, stroke):
        assert set(np.unique(classes[mask]).tolist()) == {int(label) + 1}
