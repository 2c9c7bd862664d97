"""``captioned-digits``: mnist-5k digits, each with a short English caption of what it looks like.

Text-to-image models (StackGAN) need (image, caption) pairs; none ship offline, so each digit is
described from its class and three stroke attributes measured on the image itself, e.g.
"a small thin seven slanted to the right". The rules (all deterministic, no randomness):

- **thickness** from the ink mass Σ pixel / 255: below the class's first tertile → "thin", above
  its second → "thick", else "regular". Tertiles are per class (a 1 has far less ink than an 8)
  and computed on the *train* split only, then applied to every split (no test statistics leak).
- **slant** from second-order central image moments, as MNIST deskewing measures it: the shear
  s = −μ11 / μ02 (x = column, y = row pointing down, intensities as weights) is dx/dy of the
  stroke's principal direction; s > tan 10° → "slanted to the right", s < −tan 10° → "slanted to
  the left", else "standing upright".
- **size** from the bounding box of the pixels ≥ 128: box area above the class's train median →
  "large", else "small".

Captions are stored as int64 token ids over ``VOCABULARY`` (id 0 = padding), padded to
``CAPTION_LENGTH``; the labels of mnist-5k are kept. Splits are mnist-5k's (train 3,500 / val 500
/ test 1,000).
"""

from __future__ import annotations

import math

import numpy as np

from genbench.data.dataset import Dataset, Split, compute_fingerprint
from genbench.errors import GenbenchError

NAME = "captioned-digits"
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
THICKNESS_WORDS = ("thin", "regular", "thick")
SIZE_WORDS = ("small", "large")
SLANT_PHRASES = {"left": "slanted to the left", "upright": "standing upright", "right": "slanted to the right"}
VOCABULARY = ("<pad>", "a", *SIZE_WORDS, *THICKNESS_WORDS, *DIGIT_WORDS,
              "slanted", "to", "the", "left", "right", "standing", "upright")
CAPTION_LENGTH = 8  # "a small thin seven slanted to the right"
SLANT_THRESHOLD = math.tan(math.radians(10))  # |shear| within 10° of vertical is upright
INK_THRESHOLD = 128  # pixels that count for the bounding box


def ink_mass(images: np.ndarray) -> np.ndarray:
    """Σ intensity / 255 of each uint8 N×1×H×W image (float64 N)."""
    return images.reshape(len(images), -1).astype(np.float64).sum(axis=1) / 255.0


def shear(images: np.ndarray) -> np.ndarray:
    """−μ11 / μ02 of each image: > 0 when the top of the stroke lies to the right of its bottom."""
    x = images[:, 0].astype(np.float64)
    rows, cols = np.mgrid[0:x.shape[1], 0:x.shape[2]]
    mass = x.sum(axis=(1, 2))
    if np.any(mass == 0):
        raise GenbenchError("captioned-digits: an image without ink has no slant")
    cy = (x * rows).sum(axis=(1, 2)) / mass
    cx = (x * cols).sum(axis=(1, 2)) / mass
    dy, dx = rows[None] - cy[:, None, None], cols[None] - cx[:, None, None]
    mu11, mu02 = (x * dx * dy).sum(axis=(1, 2)), (x * dy * dy).sum(axis=(1, 2))
    return -mu11 / mu02


def slant_words(images: np.ndarray) -> list[str]:
    """'left' | 'upright' | 'right' per image, from ``shear`` and ``SLANT_THRESHOLD``."""
    s = shear(images)
    return ["right" if v > SLANT_THRESHOLD else "left" if v < -SLANT_THRESHOLD else "upright" for v in s]


def box_area(images: np.ndarray) -> np.ndarray:
    """Area (pixels) of the bounding box of the pixels ≥ ``INK_THRESHOLD`` (0 for an empty image)."""
    ink = images[:, 0] >= INK_THRESHOLD
    rows, cols = ink.any(axis=2), ink.any(axis=1)
    out = np.zeros(len(images), dtype=np.int64)
    for i in range(len(images)):
        r, c = np.flatnonzero(rows[i]), np.flatnonzero(cols[i])
        if len(r):
            out[i] = (r[-1] - r[0] + 1) * (c[-1] - c[0] + 1)
    return out


def fit_thresholds(images: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class ink tertiles (10×2) and box-area medians (10) from one split (the train split)."""
    ink, area = ink_mass(images), box_area(images)
    tertiles, medians = np.zeros((10, 2)), np.zeros(10)
    for d in range(10):
        sel = labels == d
        if not sel.any():
            raise GenbenchError(f"captioned-digits: the split has no image of digit {d}")
        tertiles[d] = np.quantile(ink[sel], [1 / 3, 2 / 3])
        medians[d] = np.median(area[sel])
    return {"ink_tertiles": tertiles, "area_medians": medians}


def describe(images: np.ndarray, labels: np.ndarray, thresholds: dict[str, np.ndarray]) -> list[str]:
    """The caption of each digit, e.g. 'a small thin seven slanted to the right'."""
    ink, area, slants = ink_mass(images), box_area(images), slant_words(images)
    out = []
    for i, d in enumerate(labels.tolist()):
        low, high = thresholds["ink_tertiles"][d]
        thickness = "thin" if ink[i] < low else "thick" if ink[i] > high else "regular"
        size = "large" if area[i] > thresholds["area_medians"][d] else "small"
        out.append(f"a {size} {thickness} {DIGIT_WORDS[d]} {SLANT_PHRASES[slants[i]]}")
    return out


def encode_captions(captions: list[str], vocabulary: tuple[str, ...] = VOCABULARY,
                    length: int = CAPTION_LENGTH) -> np.ndarray:
    """Captions → int64 N×length token ids (0 = padding)."""
    index = {w: i for i, w in enumerate(vocabulary)}
    out = np.zeros((len(captions), length), dtype=np.int64)
    for i, caption in enumerate(captions):
        words = caption.split()
        unknown = [w for w in words if w not in index or index[w] == 0]
        if unknown or len(words) > length:
            raise GenbenchError(f"caption {caption!r}: unknown words {unknown} or longer than {length} words")
        out[i, :len(words)] = [index[w] for w in words]
    return out


def decode_caption(tokens, vocabulary: tuple[str, ...] = VOCABULARY) -> str:
    """Token ids (one row) → the caption text, padding dropped."""
    return " ".join(vocabulary[int(t)] for t in tokens if int(t) != 0)


def caption_classes(captions: np.ndarray, vocabulary: tuple[str, ...] = VOCABULARY) -> np.ndarray:
    """The digit class each caption names (int64 N), read from its digit word."""
    digit_ids = {vocabulary.index(w): d for d, w in enumerate(DIGIT_WORDS)}
    out = np.full(len(captions), -1, dtype=np.int64)
    for i, row in enumerate(np.asarray(captions)):
        named = {digit_ids[int(t)] for t in row if int(t) in digit_ids}
        if len(named) != 1:
            raise GenbenchError(f"caption {decode_caption(row, vocabulary)!r} does not name exactly one digit")
        out[i] = named.pop()
    return out


def build_captioned(source: Dataset) -> Dataset:
    """Caption every digit of ``source`` (mnist-5k), thresholds fitted on its train split."""
    train = source.split("train")
    thresholds = fit_thresholds(train.samples, train.labels)
    splits = {}
    for name, split in source.splits.items():
        captions = encode_captions(describe(split.samples, split.labels, thresholds))
        splits[name] = Split(samples=split.samples, labels=split.labels, captions=captions)
    return Dataset(
        name=NAME, kind="image", splits=splits,
        fingerprint=compute_fingerprint(NAME, splits, VOCABULARY),
        n_classes=10, vocabulary=VOCABULARY,
        warnings=tuple(f"{NAME} (built from {source.name}): {w}" for w in source.warnings),
        source=(f"captions from class, ink-mass tertiles, moment shear and bounding box of "
                f"{source.fingerprint.short}; {source.source}"),
    )


def load_captioned() -> Dataset:
    from genbench.data.mnist5k import load_mnist5k

    return build_captioned(load_mnist5k())
