"""Voxels through the sample sources and evaluate: contract form, refusals, and the shapes3d
classifier's metrics (real held-out shapes score near the reference, noise far from it)."""

import numpy as np
import pytest

from genbench.data.dataset import Dataset, compute_fingerprint
from genbench.data.shapes3d import sample_shapes
from genbench.errors import GenbenchError
from genbench.evaluate import evaluate
from genbench.sources import open_source


def test_a_5d_uint8_array_is_a_voxel_source():
    x = np.zeros((3, 1, 8, 8, 8), np.uint8)
    src = open_source(x)
    assert src.kind == "voxels"
    (batch,) = list(src.batches(3, 10))
    assert batch.shape == (3, 1, 8, 8, 8) and batch.dtype == np.uint8


def test_float_voxels_need_a_range_and_are_quantised_like_images():
    x = np.full((2, 1, 4, 4, 4), 0.5, np.float32)
    with pytest.raises(GenbenchError, match="does not guess"):
        open_source(x)
    (batch,) = list(open_source(x, value_range=(0, 1)).batches(2, 2))
    assert batch.dtype == np.uint8 and set(np.unique(batch)) == {128}  # floor(0.5·255 + 0.5)


@pytest.mark.parametrize("shape", [(2, 2, 8, 8, 8), (2, 1, 1, 8, 8)])
def test_other_5d_shapes_are_refused(shape):
    with pytest.raises(GenbenchError, match="voxels N×1×D×H×W"):
        open_source(np.zeros(shape, np.uint8))


def test_resize_is_for_images_only():
    with pytest.raises(GenbenchError, match="resize applies only to images"):
        open_source(np.zeros((2, 1, 8, 8, 8), np.uint8), resize=(4, 4))


@pytest.fixture(scope="module")
def reference():
    test = sample_shapes(300, seed=777)
    splits = {"test": test, "val": sample_shapes(100, seed=778)}
    return Dataset("shapes3d", "voxels", splits, compute_fingerprint("shapes3d-sub", splits), n_classes=10)


def test_wrong_voxel_shape_and_image_samples_are_refused(reference):
    with pytest.raises(GenbenchError, match="dataset's voxels are 1×32×32×32"):
        evaluate(np.zeros((10, 1, 16, 16, 16), np.uint8), dataset=reference, n=10, progress=False)
    with pytest.raises(GenbenchError, match="source gives images but the reference holds voxels"):
        evaluate(np.zeros((10, 1, 32, 32), np.uint8), dataset=reference, n=10, progress=False)


def test_parzen_on_voxels_is_refused_by_name(reference):
    with pytest.raises(GenbenchError, match="metric 'parzen' cannot be computed here: it scores images and 2-D points"):
        evaluate(reference.split("test").samples, dataset=reference, metrics=["parzen"], n=10, progress=False)


def test_held_out_shapes_score_far_better_than_noise(reference):
    real = sample_shapes(300, seed=779).samples  # same distribution, other draws
    noise = (np.random.RandomState(0).rand(300, 1, 32, 32, 32) < 0.05).astype(np.uint8) * 255
    metrics = ["fid", "kid", "is", "prdc", "modes"]
    good = {m.name: m.value for m in evaluate(real, dataset=reference, metrics=metrics, n=300, progress=False).metrics}
    bad = {m.name: m.value for m in evaluate(noise, dataset=reference, metrics=metrics, n=300, progress=False).metrics}
    assert good["fid"] < bad["fid"] / 5 and good["kid"] < bad["kid"]
    assert good["is"] > 5 and good["modes"] == 10 and good["coverage"] > 0.5
    assert bad["modes"] <= 3


def test_reference_statistics_of_a_voxel_source_use_the_voxel_classifier():
    from genbench.evaluate import compute_reference_stats

    stats = compute_reference_stats(sample_shapes(50, seed=780).samples, progress=False)
    assert stats.extractor["name"] == "shapes3d-classifier" and stats.mu.shape == (128,)
