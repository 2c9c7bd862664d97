"""The extractor registry: names, errors, defaults per dataset."""

from __future__ import annotations

import numpy as np
import pytest

from genbench.data import load_dataset
from genbench.data.dataset import Dataset, Split, compute_fingerprint
from genbench.data.stacked import build_stacked
from genbench.errors import GenbenchError
from genbench.features import EXTRACTORS, default_extractor, get_extractor
from genbench.features.base import Extractor


def test_known_extractors_are_listed_with_descriptions():
    assert set(EXTRACTORS) == {"inception-v3-fid", "mnist-classifier"}
    assert all(isinstance(text, str) and len(text) > 20 for text in EXTRACTORS.values())


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(GenbenchError) as info:
        get_extractor("inception-v4")
    message = str(info.value)
    assert "'inception-v4'" in message
    assert "inception-v3-fid" in message and "mnist-classifier" in message


def test_mnist_classifier_by_name():
    from genbench.features.mnist_classifier import MnistClassifierExtractor

    extractor = get_extractor("mnist-classifier")
    assert isinstance(extractor, MnistClassifierExtractor) and isinstance(extractor, Extractor)
    assert extractor.identity.name == "mnist-classifier"


def test_keyword_arguments_reach_the_constructor(tmp_path):
    missing = tmp_path / "nothing.safetensors"
    with pytest.raises(GenbenchError, match="nothing.safetensors"):
        get_extractor("mnist-classifier", weights_path=missing)


def _image_dataset(name: str, shape=(3, 32, 32)) -> Dataset:
    splits = {"test": Split(np.zeros((4, *shape), np.uint8))}
    return Dataset(name=name, kind="image", splits=splits, fingerprint=compute_fingerprint(name, splits))


@pytest.mark.parametrize(
    "dataset, expected",
    [
        (lambda: load_dataset("mnist-5k"), "mnist-classifier"),
        (lambda: build_stacked(load_dataset("mnist-5k"), sizes={"test": 10}), "mnist-classifier"),
        (lambda: load_dataset("ring8"), None),
        (lambda: load_dataset("grid25"), None),
        (lambda: _image_dataset("cifar10-like"), "inception-v3-fid"),
    ],
    ids=["mnist-5k", "stacked-mnist", "ring8", "grid25", "other-images"],
)
def test_default_extractor_follows_the_field(dataset, expected):
    assert default_extractor(dataset()) == expected
