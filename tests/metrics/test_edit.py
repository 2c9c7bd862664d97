"""Edit accuracy and y-unchanged reconstruction on editors whose behaviour is known exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genbench.errors import GenbenchError
from genbench.features import ExtractorIdentity, Features
from genbench.metrics.edit import edit_metrics


class BrightnessClassifier:
    """A fake classifier: an image's class is its mean grey level // 25 (clipped to 0..9)."""

    identity = ExtractorIdentity("brightness", "0" * 64)
    feature_dim, n_classes = 1, 10

    def extract(self, batches, *, device=None, progress=True, total=None):
        images = np.concatenate([np.asarray(b) for b in batches])
        cls = np.clip(images.reshape(len(images), -1).mean(1) // 25, 0, 9).astype(int)
        return Features(features=cls[:, None].astype(np.float64), probs=np.eye(10)[cls], extractor=self.identity)


def digit_of(c) -> np.ndarray:
    """A flat 1×28×28 image the fake classifier assigns to class c (grey 25c + 12)."""
    return np.full((1, 28, 28), 25 * int(c) + 12, dtype=np.uint8)


SOURCES = np.stack([digit_of(c) for c in range(10)] * 2)  # 20 images, classes 0..9 twice
OWN = np.tile(np.arange(10), 2)


def identity(images, targets):
    return images.copy()


def oracle(images, targets):
    """The perfect editor: the target class when asked; y unchanged gives back each image + 5 grey levels."""
    if targets is None:
        return images + np.uint8(5)
    return np.stack([digit_of(t) for t in targets])


def _by_name(results):
    return {r.name: r for r in results}


def test_identity_editor_scores_the_share_of_targets_equal_to_the_own_class():
    clf = BrightnessClassifier()
    assert _by_name(edit_metrics(identity, SOURCES, OWN, extractor=clf))["edit_accuracy"].value == 1.0
    assert _by_name(edit_metrics(identity, SOURCES, (OWN + 1) % 10, extractor=clf))["edit_accuracy"].value == 0.0
    mixed = np.where(np.arange(20) % 4 == 0, OWN, (OWN + 3) % 10)  # 5 of 20 ask for the own class
    r = _by_name(edit_metrics(identity, SOURCES, mixed, extractor=clf))
    assert r["edit_accuracy"].value == 0.25 and r["edit_accuracy"].std == pytest.approx(math.sqrt(0.25 * 0.75))
    assert r["edit_psnr"].value == math.inf and r["edit_ssim"].value == pytest.approx(1.0)
    assert r["edit_accuracy"].params["classifier"]["name"] == "brightness"


def test_oracle_editor_scores_one_and_reconstruction_psnr_has_its_closed_form():
    targets = (OWN * 7 + 3) % 10
    r = _by_name(edit_metrics(oracle, SOURCES, targets, extractor=BrightnessClassifier()))
    assert r["edit_accuracy"].value == 1.0
    assert set(r["edit_accuracy"].params["per_target_class"].values()) == {1.0}
    # every pixel off by 5 grey levels: MSE = 25, PSNR = 10 log10(255² / 25)
    assert r["edit_psnr"].value == pytest.approx(10 * math.log10(255**2 / 25), abs=1e-9)
    assert r["edit_psnr"].params["reconstruction"] == "y unchanged"


def test_identity_editor_on_real_digits_gives_the_classifier_accuracy(mnist5k_test):
    """With the shipped classifier, targets = true labels: accuracy = its accuracy on those digits,
    counted here from its logits directly (and >= 0.97, its documented test accuracy is 98.x %)."""
    import torch

    from genbench.features.mnist_classifier import DEFAULT_WEIGHTS, load_model, to_input

    images, labels = mnist5k_test
    model = load_model(DEFAULT_WEIGHTS).eval()
    with torch.no_grad():
        predicted = model(to_input(torch.as_tensor(images)))[1].argmax(1).numpy()
    expected = float(np.mean(predicted == labels))
    r = _by_name(edit_metrics(identity, images, labels))
    assert r["edit_accuracy"].value == pytest.approx(expected, abs=1e-12) and expected >= 0.97
    assert r["edit_accuracy"].params["classifier"]["name"] == "mnist-classifier"


@pytest.fixture(scope="module")
def mnist5k_test():
    from genbench.data.mnist5k import load_mnist5k

    split = load_mnist5k().split("test")
    return split.samples[:300], split.labels[:300].astype(np.int64)


def test_bad_input_is_a_one_line_error():
    clf = BrightnessClassifier()
    with pytest.raises(GenbenchError, match="one integer target class per image"):
        edit_metrics(identity, SOURCES, OWN[:5], extractor=clf)
    with pytest.raises(GenbenchError, match="must be uint8"):
        edit_metrics(identity, SOURCES.astype(np.float32), OWN, extractor=clf)
    with pytest.raises(GenbenchError, match=r"target classes must be in 0\.\.9"):
        edit_metrics(identity, SOURCES, OWN + 1, extractor=clf)
    with pytest.raises(GenbenchError, match="returned edited images of shape"):
        edit_metrics(lambda x, t: x[:, :, :14], SOURCES, OWN, extractor=clf)
