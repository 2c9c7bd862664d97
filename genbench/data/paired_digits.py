"""Paired digit translation data built from ``mnist-5k``: ``mnist-edges`` and ``mnist-labels``.

Both keep mnist-5k's train/val/test split, its digits as the targets and its labels, and add one
input image per digit, computed by a fixed formula (no random numbers), so the data are the same
on every machine and the task classifier's accuracy on the outputs can be read against the labels.

- ``mnist-edges`` (pix2pix's edges → photo at digit scale): the digit's *outer contour*. The
  stroke is the set of pixels ≥ ``STROKE_THRESHOLD`` (128, half of the grey range); the contour is
  its morphological gradient on the outside, dilation by a 3×3 square minus the stroke itself,
  drawn as 255 on 0. It is a one-pixel outline around every stroke (and around the holes of 0, 6,
  8, 9) that leaves the model to fill in the stroke and its anti-aliased grey levels, as edges2shoes
  leaves the texture.
- ``mnist-labels`` (SPADE's label map → image): the same stroke mask, each stroke pixel carrying
  the digit's class as the grey level ``(class + 1) * LABEL_STEP`` (20, 40, ..., 200) and the
  background 0. ``decode_label_map`` turns such a map back into class indices 0..10
  (0 = background, k + 1 = digit k), the 11-channel one-hot map SPADE conditions on.
"""

from __future__ import annotations

import numpy as np

from genbench.data.dataset import Dataset, Split, Task, compute_fingerprint
from genbench.errors import GenbenchError

STROKE_THRESHOLD = 128  # a pixel belongs to the stroke when its grey level is >= this
LABEL_STEP = 20  # grey level of a stroke pixel of digit k in mnist-labels: (k + 1) * LABEL_STEP
N_LABEL_CLASSES = 11  # background + the ten digits
CLASSIFIER = "mnist-classifier"


def stroke_mask(digits: np.ndarray) -> np.ndarray:
    """Boolean N×1×H×W mask of the stroke pixels (grey level >= ``STROKE_THRESHOLD``)."""
    return np.asarray(digits) >= STROKE_THRESHOLD


def outer_contour(digits: np.ndarray) -> np.ndarray:
    """uint8 0/255 edge maps: the 3×3 dilation of the stroke minus the stroke (pixels just outside it)."""
    mask = stroke_mask(digits)
    padded = np.pad(mask, ((0, 0), (0, 0), (1, 1), (1, 1)))
    h, w = mask.shape[2:]
    dilated = np.zeros_like(mask)
    for dy in range(3):
        for dx in range(3):
            dilated |= padded[:, :, dy:dy + h, dx:dx + w]
    return np.where(dilated & ~mask, 255, 0).astype(np.uint8)


def label_map(digits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """uint8 maps: stroke pixels of digit k carry ``(k + 1) * LABEL_STEP``, the background 0."""
    labels = np.asarray(labels, dtype=np.int64)
    if labels.min(initial=0) < 0 or labels.max(initial=0) >= N_LABEL_CLASSES - 1:
        raise GenbenchError(f"label maps encode classes 0..{N_LABEL_CLASSES - 2}, got labels outside that range")
    values = ((labels + 1) * LABEL_STEP).astype(np.uint8)[:, None, None, None]
    return np.where(stroke_mask(digits), values, 0).astype(np.uint8)


def decode_label_map(maps: np.ndarray) -> np.ndarray:
    """Grey-level label maps → int64 class indices 0..10 (0 background, k + 1 digit k), nearest level."""
    index = np.rint(np.asarray(maps, dtype=np.float64) / LABEL_STEP).astype(np.int64)
    return np.clip(index, 0, N_LABEL_CLASSES - 1)


def _paired(name: str, make_input, description: str) -> Dataset:
    from genbench.data.mnist5k import load_mnist5k

    base = load_mnist5k()
    splits = {}
    for split_name, split in base.splits.items():
        inputs = make_input(split.samples, split.labels)
        splits[split_name] = Split(samples=split.samples, labels=split.labels, inputs=inputs)
    return Dataset(
        name=name, kind="image", splits=splits, fingerprint=compute_fingerprint(name, splits),
        n_classes=base.n_classes, source=f"{description}, from mnist-5k: {base.source}",
        task=Task("translation", classifier=CLASSIFIER),
    )


def load_mnist_edges() -> Dataset:
    return _paired("mnist-edges", lambda x, y: outer_contour(x),
                   f"outer contour (3×3 dilation minus the stroke, stroke = grey >= {STROKE_THRESHOLD}) → digit")


def load_mnist_labels() -> Dataset:
    return _paired("mnist-labels", label_map,
                   f"label map (stroke pixels = (class + 1) * {LABEL_STEP}, background 0) → digit")
