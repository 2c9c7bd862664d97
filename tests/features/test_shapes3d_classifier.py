"""The shapes3d-classifier extractor: accuracy on freshly drawn shapes (the labels are the oracle),
contract, identity and refusals."""

import hashlib
import shutil

import numpy as np
import pytest

import genbench.features.shapes3d_classifier as sc
from genbench.data.shapes3d import sample_shapes
from genbench.errors import GenbenchError
from genbench.features import get_extractor
from genbench.features.base import Extractor, iter_batches


@pytest.fixture(scope="module")
def extractor():
    return get_extractor("shapes3d-classifier")


@pytest.fixture(scope="module")
def fresh():
    return sample_shapes(200, seed=12345)  # not a shipped split's seed: shapes it never saw


@pytest.fixture(scope="module")
def features(extractor, fresh):
    return extractor.extract(iter_batches(fresh.samples, 64), device="cpu", progress=False)


MIN_ACCURACY = 0.85  # 89.3 % on the shipped test split (scripts/train_shapes3d_classifier.py)


def test_accuracy_on_shapes_it_never_saw(features, fresh):
    accuracy = np.mean(features.probs.argmax(1) == fresh.labels)
    assert accuracy >= MIN_ACCURACY, accuracy


def test_contract_and_identity(extractor, features):
    assert isinstance(extractor, Extractor) and extractor.n_classes == 10
    assert features.features.shape == (200, sc.FEATURE_DIM) and features.features.dtype == np.float64
    assert features.probs.shape == (200, 10)
    np.testing.assert_allclose(features.probs.sum(1), 1.0, atol=1e-12)
    expected_sha = hashlib.sha256(sc.DEFAULT_WEIGHTS.read_bytes()).hexdigest()
    assert features.extractor.to_dict() == {"name": "shapes3d-classifier", "weights_sha256": expected_sha}
    assert expected_sha == sc.DEFAULT_WEIGHTS_SHA256 and sc.DEFAULT_WEIGHTS.stat().st_size < 1_000_000
    sums = (sc.DEFAULT_WEIGHTS.parent / "SHA256SUMS").read_text()
    assert f"{expected_sha}  shapes3d_classifier.safetensors" in sums


@pytest.mark.parametrize("batch, message", [
    (np.zeros((2, 1, 28, 28), np.uint8), "expects voxels N×1×32×32×32"),
    (np.zeros((2, 1, 16, 16, 16), np.uint8), "expects voxels N×1×32×32×32"),
    (np.zeros((2, 1, 32, 32, 32), np.float32), "must be uint8"),
])
def test_wrong_inputs_are_one_line_errors(extractor, batch, message):
    with pytest.raises(GenbenchError, match=message):
        extractor.extract([batch], progress=False)


def test_a_modified_weights_file_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / "w.safetensors"
    shutil.copy(sc.DEFAULT_WEIGHTS, copy)
    with open(copy, "r+b") as f:
        f.seek(-1, 2)
        f.write(b"\x00" if f.read(1) != b"\x00" else b"\x01")
    monkeypatch.setattr(sc, "DEFAULT_WEIGHTS", copy)
    with pytest.raises(GenbenchError, match="corrupt or was modified"):
        sc.Shapes3dClassifierExtractor()
