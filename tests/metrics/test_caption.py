"""Caption consistency: the share of images the classifier assigns to their caption's class."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genbench.errors import GenbenchError
from genbench.features.base import ExtractorIdentity, Features
from genbench.metrics.caption import caption_consistency


class FirstPixelClassifier:
    """Fake extractor: an image's class is its top-left pixel value; probability 0.9 on it."""

    identity = ExtractorIdentity("first-pixel", "0" * 64)
    feature_dim, n_classes = 1, 10

    def __init__(self, probs=True):
        self.with_probs, self.batches = probs, []

    def extract(self, batches, *, device=None, progress=True, total=None):
        images = []
        for b in batches:
            self.batches.append(len(b))
            images.append(np.asarray(b))
        x = np.concatenate(images)
        cls = x[:, 0, 0, 0].astype(int)
        probs = np.full((len(x), 10), 0.1 / 9)
        probs[np.arange(len(x)), cls] = 0.9
        return Features(np.zeros((len(x), 1)), probs if self.with_probs else None, self.identity)


def _images(classes):
    x = np.zeros((len(classes), 1, 28, 28), np.uint8)
    x[:, 0, 0, 0] = classes
    return x


def test_consistency_is_the_share_of_images_classified_as_their_caption_says():
    fake = FirstPixelClassifier()
    shown = [3, 7, 7, 1, 0]
    named = np.array([3, 7, 2, 1, 9])  # 3 of 5 agree
    r = caption_consistency(_images(shown), named, extractor=fake, batch_size=2)
    assert r.name == "caption_consistency" and r.value == pytest.approx(0.6)
    assert r.std == pytest.approx(math.sqrt(0.6 * 0.4 / 5))
    assert fake.batches == [2, 2, 1] and r.params["extractor"]["name"] == "first-pixel" and r.params["n"] == 5


def test_real_digits_with_their_own_captions_are_consistent_and_with_others_not():
    from genbench.data.captioned import caption_classes
    from genbench.data.mnist5k import load_mnist5k
    from genbench.data.captioned import build_captioned

    test = build_captioned(load_mnist5k()).split("test")
    x, named = test.samples[:300], caption_classes(test.captions[:300])
    assert caption_consistency(x, named).value > 0.95
    assert caption_consistency(x, (named + 1) % 10).value < 0.05


def test_bad_input_is_a_one_line_error():
    with pytest.raises(GenbenchError, match="need 2 caption classes"):
        caption_consistency(_images([1, 2]), np.array([1]), extractor=FirstPixelClassifier())
    with pytest.raises(GenbenchError, match="gives no class probabilities"):
        caption_consistency(_images([1, 2]), np.array([1, 2]), extractor=FirstPixelClassifier(probs=False))
    with pytest.raises(GenbenchError, match="must be uint8"):
        caption_consistency(_images([1]).astype(np.float32), np.array([1]), extractor=FirstPixelClassifier())
    with pytest.raises(GenbenchError, match="labels: values must lie in 0..9"):
        caption_consistency(_images([1]), np.array([12]), extractor=FirstPixelClassifier())
