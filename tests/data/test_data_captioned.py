"""captioned-digits: the attribute rules on hand-made digits, captions that name the right class,
and a deterministic, fingerprinted build."""

from __future__ import annotations

import re

import numpy as np
import pytest

from genbench.data import load_dataset
from genbench.data.captioned import (
    CAPTION_LENGTH, DIGIT_WORDS, VOCABULARY, build_captioned, caption_classes, decode_caption, describe,
    encode_captions, fit_thresholds, shear, slant_words,
)
from genbench.data.dataset import Dataset, Split, compute_fingerprint
from genbench.errors import GenbenchError


def _canvas(points, n=1) -> np.ndarray:
    img = np.zeros((n, 1, 28, 28), dtype=np.uint8)
    for r, c in points:
        img[:, 0, r, c] = 255
    return img


def test_a_drawn_bar_gets_the_slant_of_its_drawing():
    # Equal-weight pixels on col = 20 − (row − 4)/2: the top lies to the right, dx/dy = −1/2 with
    # rows pointing down, so −μ11/μ02 is exactly 0.5 (a line's regression slope).
    right = _canvas([(r, 20 - (r - 4) // 2) for r in range(4, 25, 2)])
    left = right[..., ::-1].copy()
    upright = _canvas([(r, 14) for r in range(4, 24)])
    np.testing.assert_allclose(shear(np.concatenate([right, left, upright])), [0.5, -0.5, 0.0], atol=1e-12)
    assert slant_words(np.concatenate([right, left, upright])) == ["right", "left", "upright"]
    # A bar with a one-pixel step halfway down leans about 4° (< the 10° band): upright.
    stepped = _canvas([(r, 14 + (r >= 15)) for r in range(4, 26)])
    assert abs(shear(stepped)[0]) < 0.1 and slant_words(stepped) == ["upright"]


def test_thickness_is_per_class_ink_tertiles_and_size_the_box_median():
    # For every class: vertical bars 1, 2 and 3 pixels wide, three copies each; ink grows with width.
    images, labels, widths = [], [], []
    for d in range(10):
        for w in (1, 2, 3):
            bar = _canvas([(r, 10 + k) for r in range(4, 24) for k in range(w)], n=3)
            images.append(bar)
            labels += [d] * 3
            widths += [w] * 3
    images, labels = np.concatenate(images), np.asarray(labels, dtype=np.int64)
    captions = describe(images, labels, fit_thresholds(images, labels))
    expected_thickness = {1: "thin", 2: "regular", 3: "thick"}
    expected_size = {1: "small", 2: "small", 3: "large"}  # area 20·w; the median (w = 2) is small
    for caption, d, w in zip(captions, labels, widths):
        assert caption == f"a {expected_size[w]} {expected_thickness[w]} {DIGIT_WORDS[d]} standing upright"


@pytest.fixture(scope="module")
def captioned():
    return load_dataset("captioned-digits")


def test_captions_name_the_digit_of_their_image(captioned):
    pattern = re.compile(r"^a (small|large) (thin|regular|thick) (\w+) (slanted to the (left|right)|standing upright)$")
    for name, split in captioned.splits.items():
        assert split.captions.shape == (len(split), CAPTION_LENGTH) and split.captions.dtype == np.int64
        np.testing.assert_array_equal(caption_classes(split.captions, captioned.vocabulary), split.labels)
        for row, label in zip(split.captions[:200], split.labels[:200]):
            match = pattern.match(decode_caption(row, captioned.vocabulary))
            assert match and match.group(3) == DIGIT_WORDS[label]
    slants = {decode_caption(r).split(" ", 4)[-1] for r in captioned.split("train").captions}
    assert slants == {"slanted to the left", "standing upright", "slanted to the right"}


def test_the_build_is_deterministic_and_captions_are_fingerprinted(captioned):
    from genbench.data.mnist5k import load_mnist5k

    again = build_captioned(load_mnist5k())
    assert again.fingerprint == captioned.fingerprint and again.vocabulary == VOCABULARY
    for name in captioned.splits:
        np.testing.assert_array_equal(again.split(name).captions, captioned.split(name).captions)
    plain = {k: Split(s.samples, s.labels) for k, s in captioned.splits.items()}
    assert compute_fingerprint(captioned.name, plain).sha256 != captioned.fingerprint.sha256
    changed = {k: Split(s.samples, s.labels, captions=s.captions.copy()) for k, s in captioned.splits.items()}
    changed["test"].captions[0, 1] = VOCABULARY.index("large" if changed["test"].captions[0, 1] == 2 else "small")
    assert compute_fingerprint(captioned.name, changed, VOCABULARY).sha256 != captioned.fingerprint.sha256
    # A split without captions fingerprints exactly as before captions existed.
    assert compute_fingerprint("x", plain) == compute_fingerprint("x", plain, None)


def test_bad_captions_are_one_line_errors():
    with pytest.raises(GenbenchError, match="unknown words"):
        encode_captions(["a purple seven"])
    x = np.zeros((2, 1, 28, 28), np.uint8)
    with pytest.raises(GenbenchError, match="one caption per sample"):
        Split(x, captions=np.zeros((3, 4), np.int64))
    splits = {"train": Split(x, captions=np.ones((2, 4), np.int64))}
    with pytest.raises(GenbenchError, match="has captions but no vocabulary"):
        Dataset("d", "image", splits, compute_fingerprint("d", splits))
    with pytest.raises(GenbenchError, match="outside the vocabulary"):
        Dataset("d", "image", splits, compute_fingerprint("d", splits), vocabulary=("<pad>",))
    with pytest.raises(GenbenchError, match="exactly one digit"):
        caption_classes(encode_captions(["a small thin seven"]) * 0)
