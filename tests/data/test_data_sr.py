"""The super-resolution datasets: shapes, determinism, inputs made by imresize, no test photo trained on."""

from __future__ import annotations

import numpy as np
import pytest

from genbench.data import DATASETS, load_dataset, photos
from genbench.data.mnist5k import load_mnist5k
from genbench.imaging.resize import imresize


@pytest.fixture(scope="module")
def sr4():
    return load_dataset("photos-sr4")


@pytest.fixture(scope="module")
def sr2():
    return load_dataset("mnist-sr2")


def test_photos_sr4_shapes_task_and_credits(sr4):
    shapes = {name: (split.samples.shape, split.inputs.shape) for name, split in sr4.splits.items()}
    assert shapes == {"train": ((1800, 3, 96, 96), (1800, 3, 24, 24)),
                      "val": ((1, 3, 288, 288), (1, 3, 72, 72)),
                      "test": ((3, 3, 288, 288), (3, 3, 72, 72))}
    assert all(s.samples.dtype == np.uint8 and s.inputs.dtype == np.uint8 and s.paired and s.labels is None
               for s in sr4.splits.values())
    assert sr4.task.kind == "sr" and sr4.task.scale == 4 and sr4.n_classes is None
    assert "CC BY 2.0" in sr4.source and "Grace Hopper" in sr4.source
    assert DATASETS["photos-sr4"].sample_shape == sr4.image_shape


def test_photos_sr4_inputs_are_imresize_of_targets(sr4):
    for name, split in sr4.splits.items():
        picks = range(len(split)) if len(split) < 10 else (0, 777, len(split) - 1)
        for i in picks:  # imresize on one H×W×C image: another layout than the batch the loader resized
            hr = split.samples[i].transpose(1, 2, 0)
            np.testing.assert_array_equal(imresize(hr, 1 / 4).transpose(2, 0, 1), split.inputs[i], err_msg=f"{name}[{i}]")


def test_photos_sr4_test_is_the_test_photos_and_train_never_sees_them(sr4):
    test = sr4.split("test").samples
    for img, name in zip(test, photos.TEST):
        np.testing.assert_array_equal(img, photos.load_photo(name).transpose(2, 0, 1))
    np.testing.assert_array_equal(sr4.split("val").samples[0], photos.load_photo("chelsea").transpose(2, 0, 1))
    # Every train patch is found at some position in one of the six pool photos, none in val/test photos.
    pool = {n: photos.load_photo(n) for n in photos.TRAIN if n != "chelsea"}
    assert set(pool).isdisjoint(photos.TEST) and len(pool) == 6
    train = sr4.split("train").samples
    for i in (0, 299, 300, 1799):
        patch = train[i].transpose(1, 2, 0)
        hits = [n for n, img in pool.items() for t, l in np.argwhere((img[:193, :193] == patch[0, 0]).all(axis=2))
                if np.array_equal(img[t:t + 96, l:l + 96], patch)]
        assert len(hits) >= 1, f"train patch {i} is not a crop of a pool photo"
    assert sum(np.array_equal(train[0], p) for p in train) == 1  # the pool is not one repeated patch


def test_sr_datasets_are_deterministic(sr4, sr2):
    assert load_dataset("photos-sr4").fingerprint == sr4.fingerprint
    assert load_dataset("mnist-sr2").fingerprint == sr2.fingerprint
    assert sr4.fingerprint.sizes == {"train": 1800, "val": 1, "test": 3}


def test_mnist_sr2_pairs_each_digit_with_its_imresize_and_keeps_labels(sr2):
    digits = load_mnist5k()
    assert sr2.task.kind == "sr" and sr2.task.scale == 2 and sr2.task.classifier == "mnist-classifier"
    assert DATASETS["mnist-sr2"].extractor == "mnist-classifier" and sr2.n_classes == 10
    for name, split in sr2.splits.items():
        ref = digits.split(name)
        np.testing.assert_array_equal(split.samples, ref.samples)
        np.testing.assert_array_equal(split.labels, ref.labels)
        assert split.inputs.shape == (len(ref), 1, 14, 14) and split.inputs.dtype == np.uint8
        for i in (0, len(ref) - 1):
            np.testing.assert_array_equal(imresize(ref.samples[i, 0], 0.5), split.inputs[i, 0])
