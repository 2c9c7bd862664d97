"""l1, task_accuracy and the hole metrics against hand-computed cases."""

import math

import numpy as np
import pytest

from genbench.data.dataset import Dataset, Split, Task, compute_fingerprint
from genbench.errors import GenbenchError
from genbench.features import ExtractorIdentity, Features
from genbench.metrics import registry
from genbench.metrics.translation import classifier_accuracy, crop_region, l1, l1_per_image


def test_l1_by_hand():
    a = np.zeros((2, 1, 2, 2), np.uint8)
    b = np.array([[[[255, 0], [0, 0]]], [[[51, 51], [51, 51]]]], np.uint8)
    # image 0: one pixel of four differs by 255 → 0.25; image 1: every pixel by 51 → 0.2
    np.testing.assert_allclose(l1_per_image(a, b, 255), [0.25, 0.2])
    r = l1(a, b, 255)
    assert r.name == "l1" and r.value == pytest.approx(0.225) and r.std == pytest.approx(0.025)
    assert l1(a, a, 255).value == 0.0
    with pytest.raises(ValueError, match="shapes differ"):
        l1(a, b[:, :, :1], 255)


def test_task_accuracy_by_hand():
    probs = np.array([[0.9, 0.1, 0.0], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8], [0.6, 0.4, 0.0]])
    labels = np.array([0, 1, 1, 1])  # right, right, wrong, wrong
    r = classifier_accuracy(probs, labels)
    assert r.name == "task_accuracy" and r.value == 0.5 and r.std == pytest.approx(math.sqrt(0.25 / 4))
    with pytest.raises(ValueError, match=r"values must lie in 0..2"):
        classifier_accuracy(probs, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="expected 4 integer labels"):
        classifier_accuracy(probs, np.array([0, 1]))


def test_task_accuracy_through_the_registry_needs_the_labels():
    feats = Features(np.zeros((3, 2)), np.eye(3)[[2, 0, 1]], ExtractorIdentity("clf", "0" * 64))
    spec = registry.METRICS["task_accuracy"]
    (r,) = spec.compute(registry.MetricInputs(kind="image", fake=feats, labels=np.array([2, 0, 0])))
    assert r.value == pytest.approx(2 / 3) and r.params["classifier"] == "clf"
    with pytest.raises(GenbenchError, match="needs the class each output should have"):
        spec.compute(registry.MetricInputs(kind="image", fake=feats))
    assert registry.higher_is_better("task_accuracy") is True and registry.higher_is_better("l1") is False


def _hole_dataset(hole):
    x = np.zeros((2, 1, 12, 12), np.uint8)
    splits = {"test": Split(x, inputs=x)}
    return Dataset("holes", "image", splits, compute_fingerprint("holes", splits), task=Task("inpainting", hole=hole))


def test_hole_metrics_score_only_the_hole_region():
    ds = _hole_dataset((1, 1, 11, 11))
    t = np.full((2, 1, 12, 12), 100, np.uint8)
    o = t.copy()
    o[:, :, 0, :] = 0  # outside the hole (row 0): must not count
    o[0, :, 1:12, 1:12] = 110  # image 0: the whole hole is 10 grey levels off; image 1: exact
    out = {r.name: r for r in registry.METRICS["hole"].compute(registry.MetricInputs(kind="image", dataset=ds,
                                                                                     pairs=(t, o)))}
    assert out["l1_hole"].value == pytest.approx((10 / 255) / 2)
    assert math.isinf(out["psnr_hole"].value) and out["psnr_hole"].params["identical_pairs"] == 1
    assert out["psnr_hole"].params["region"] == [1, 1, 11, 11]
    assert registry.unavailable("hole", "image", dataset=_hole_dataset(None)) == "dataset 'holes''s inpainting task declares no hole"


def test_crop_region_refuses_a_region_outside_the_image():
    x = np.arange(16).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(crop_region(x, (1, 2, 2, 2)), [[[[6, 7], [10, 11]]]])
    with pytest.raises(ValueError, match="does not lie inside 4×4 images"):
        crop_region(x, (3, 0, 2, 2))


def test_evaluate_refuses_the_task_metrics_it_cannot_pair_with_inputs_and_classes():
    from genbench.evaluate import evaluate

    ds = _hole_dataset((1, 1, 11, 11))
    with pytest.raises(GenbenchError, match="'hole' cannot be computed here: it is part of an image-to-image task"):
        evaluate(np.zeros((2, 1, 12, 12), np.uint8), dataset=ds, metrics="hole", n=2)
