"""``mnist-hole``: inpainting the centre 14×14 of a digit (Pathak et al. 2016's centre-region task).

Each split is the same split of ``mnist-5k``: the targets are the digits themselves, labels kept;
each input is its target with rows and columns 7..20 (the centre quarter of the area, Pathak's
128 → 64 centre at 28 × 28) set to ``FILL`` = 128.

Why 128 and not Pathak's dataset mean (≈ 33 for MNIST) or 0: a 14×14 block of black is what a
digit's background looks like, so a 0-filled hole is indistinguishable from "no stroke here", and
≈ 33 is a near-black grey that real digits also show; no real digit holds a 14×14 block of exactly
128, so the hole is unambiguous for a model and visible in every figure. In the [-1, 1] model space
of the GAN baselines 128 is ≈ 0, so, like Pathak's mean fill, it adds no strong bias of its own.
Nothing random is involved: the dataset is a pure function of ``mnist-5k``.
"""

from __future__ import annotations

import numpy as np

from genbench.data.dataset import Dataset, Split, Task, compute_fingerprint

NAME = "mnist-hole"
HOLE = (7, 7, 14, 14)  # top, left, height, width in pixels of the 28×28 digit
FILL = 128  # the grey level of every hole pixel of an input
CLASSIFIER = "mnist-classifier"


def punch_hole(images: np.ndarray, hole: tuple[int, int, int, int] = HOLE, fill: int = FILL) -> np.ndarray:
    """A copy of uint8 N×C×H×W ``images`` with the ``hole`` rectangle set to ``fill``."""
    top, left, height, width = hole
    out = np.array(images, dtype=np.uint8, copy=True)
    out[:, :, top:top + height, left:left + width] = fill
    return out


def build_hole(source: Dataset) -> Dataset:
    """``mnist-hole`` from the digits of ``source`` (``mnist-5k``), split by split."""
    splits = {}
    for name, part in source.splits.items():
        splits[name] = Split(samples=part.samples.copy(), labels=None if part.labels is None else part.labels.copy(),
                             inputs=punch_hole(part.samples))
    top, left, height, width = HOLE
    return Dataset(
        name=NAME,
        kind="image",
        splits=splits,
        fingerprint=compute_fingerprint(NAME, splits),
        n_classes=source.n_classes,
        warnings=tuple(f"{NAME} (built from {source.name}): {w}" for w in source.warnings),
        source=(f"inputs = targets with rows {top}..{top + height - 1}, columns {left}..{left + width - 1} "
                f"set to {FILL}, from {source.fingerprint.short}; {source.source}"),
        task=Task("inpainting", hole=HOLE, classifier=CLASSIFIER),
    )


def load_mnist_hole() -> Dataset:
    from genbench.data.mnist5k import load_mnist5k

    return build_hole(load_mnist5k())
