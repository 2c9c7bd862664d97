"""``mnist-hole``: the centre 14×14 of each mnist-5k digit filled with grey 128, targets unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from genbench.data import DATASETS, load_dataset
from genbench.data.mnist5k import load_mnist5k


@pytest.fixture(scope="module")
def hole():
    return load_dataset("mnist-hole")


def test_splits_shapes_labels_and_task(hole):
    digits = load_mnist5k()
    assert hole.kind == "image" and hole.n_classes == 10 and hole.pairing == "paired"
    assert hole.task.kind == "inpainting" and hole.task.hole == (7, 7, 14, 14)
    assert hole.task.classifier == "mnist-classifier" and DATASETS["mnist-hole"].extractor == "mnist-classifier"
    assert {k: len(v) for k, v in hole.splits.items()} == {"train": 3500, "val": 500, "test": 1000}
    for name, split in hole.splits.items():
        assert split.inputs.shape == split.samples.shape == (len(split), 1, 28, 28)
        assert split.inputs.dtype == np.uint8
        np.testing.assert_array_equal(split.samples, digits.split(name).samples)  # targets are the digits
        np.testing.assert_array_equal(split.labels, digits.split(name).labels)


def test_the_hole_is_grey_128_and_everything_else_is_the_target(hole):
    for split in hole.splits.values():
        inside = np.zeros((28, 28), bool)
        inside[7:21, 7:21] = True  # rows/cols 7..20, written independently of HOLE
        assert np.all(split.inputs[:, :, inside] == 128)
        np.testing.assert_array_equal(split.inputs[:, :, ~inside], split.samples[:, :, ~inside])
        # no real digit shows the fill as a block: the hole is unambiguous
        assert not np.any(np.all(split.samples[:, :, inside] == 128, axis=(1, 2)))


def test_deterministic(hole):
    again = load_dataset("mnist-hole")
    assert again.fingerprint == hole.fingerprint
    assert hole.fingerprint != load_mnist5k().fingerprint
    np.testing.assert_array_equal(again.split("test").inputs, hole.split("test").inputs)
