"""shapes3d: the procedural voxel dataset (contract, determinism, geometry against closed forms)."""

import math

import numpy as np
import pytest

from genbench.data import DATASETS
from genbench.data.shapes3d import CLASSES, SEEDS, build_shapes3d, draw_poses, sample_shapes


@pytest.fixture(scope="module")
def small():
    return build_shapes3d({"train": 100, "val": 20})


def test_registered_as_voxels_with_its_classifier_and_declared_shape():
    spec = DATASETS["shapes3d"]
    assert (spec.kind, spec.extractor, spec.sample_shape, spec.n_classes) == ("voxels", "shapes3d-classifier",
                                                                            (1, 32, 32, 32), 10)


def test_contract_uint8_occupancy_balanced_classes(small):
    train = small.split("train")
    assert small.kind == "voxels" and small.n_classes == len(CLASSES) == 10
    assert train.samples.shape == (100, 1, 32, 32, 32) and train.samples.dtype == np.uint8
    assert set(np.unique(train.samples)) == {0, 255}
    assert np.bincount(train.labels).tolist() == [10] * 10
    # every shape lies wholly inside the grid: no occupied voxel on the outer faces
    v = train.samples[:, 0] > 0
    assert not (v[:, 0].any() or v[:, -1].any() or v[:, :, 0].any() or v[:, :, -1].any()
                or v[:, :, :, 0].any() or v[:, :, :, -1].any())


def test_same_seed_same_bytes_other_seed_other_bytes():
    a, b = sample_shapes(10, SEEDS["train"]), sample_shapes(10, SEEDS["train"])
    assert np.array_equal(a.samples, b.samples) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.samples, sample_shapes(10, SEEDS["val"]).samples)
    assert build_shapes3d({"train": 10}).fingerprint == build_shapes3d({"train": 10}).fingerprint


# Closed-form volumes in local units (before scaling by s): sphere r 0.8, cube half-side 0.57,
# cylinder r 0.5 half-height 0.7, octahedron |x|+|y|+|z| <= 0.95 (volume 4/3 a³).
VOLUMES = {"sphere": 4 / 3 * math.pi * 0.8**3, "cube": (2 * 0.57) ** 3, "cylinder": math.pi * 0.5**2 * 1.4,
           "octahedron": 4 / 3 * 0.95**3}


def test_voxel_counts_match_the_closed_form_volumes_at_each_drawn_scale(small):
    labels, _, scale, _ = draw_poses(100, SEEDS["train"])
    train = small.split("train")
    assert np.array_equal(labels, train.labels)
    counts = (train.samples > 0).reshape(100, -1).sum(1)
    voxel = (2 / 32) ** 3  # one voxel's volume in [-1, 1]³ units
    for name, volume in VOLUMES.items():
        idx = np.flatnonzero(labels == CLASSES.index(name))
        expected = volume * scale[idx] ** 3 / voxel
        assert np.allclose(counts[idx], expected, rtol=0.12), (name, counts[idx], expected)



def test_the_bytes_do_not_drift():
    """Regression guard: the geometry is elementwise float64 (no BLAS/einsum reductions) from the
    frozen RandomState stream, so these bytes are the same on every machine. The full dataset is
    shapes3d@50574e6f0863…, the fingerprint the shipped classifier records it was trained on."""
    assert build_shapes3d({"train": 20}).fingerprint.sha256 == (
        "e88d8fe10d2615c0f48c18f5e5118b2a67b0a0964a0828186835faac1bef1d8a")
