"""``stacked-mnist``: three MNIST digits in the R, G, B channels, 1000 modes.

The mode-collapse benchmark of Metz et al. (2017, Unrolled GANs) and Srivastava et al. (2017,
VEEGAN): a generator that covers the data produces all 10³ digit triples. Each split is built
from the *same* split of the underlying MNIST source (so test digits never leak into train),
with every one of the 1000 triples equally often (sizes are multiples of 1000) and each
channel's digit image drawn at random among that split's images of the class.

Sizes are chosen for a 2-core CPU rather than the papers' 128k: train 25,000, val 5,000,
test 10,000 (10 samples per mode in test). The generator is the legacy ``RandomState`` (its
stream is frozen by numpy), so the fingerprint is stable across numpy versions.

Labels are ``r*100 + g*10 + b``; ``n_classes`` is 1000.
"""

from __future__ import annotations

import numpy as np

from genbench.data.dataset import Dataset, Split, compute_fingerprint

NAME = "stacked-mnist"
SIZES = {"train": 25_000, "val": 5_000, "test": 10_000}
SEED = 0
SPLIT_OFFSETS = {"train": 0, "val": 1, "test": 2}
N_MODES = 1000


def stack_digits(images: np.ndarray, labels: np.ndarray, n: int, rs: np.random.RandomState) -> Split:
    """``n`` stacked images (uint8 n×3×H×W) from single-channel ``images`` (N×1×H×W) with digit ``labels``."""
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"stack_digits: images must be N×1×H×W, got {images.shape}")
    modes = np.arange(n, dtype=np.int64) % N_MODES
    rs.shuffle(modes)
    digits = np.stack([modes // 100, (modes // 10) % 10, modes % 10])  # 3×n: r, g, b
    out = np.empty((n, 3) + images.shape[2:], dtype=np.uint8)
    by_class = [np.flatnonzero(labels == d) for d in range(10)]
    for channel in range(3):
        chosen = np.empty(n, dtype=np.int64)
        for d in range(10):
            where = np.flatnonzero(digits[channel] == d)
            if len(where) and not len(by_class[d]):
                raise ValueError(f"stack_digits: the source has no image of digit {d}")
            chosen[where] = by_class[d][rs.randint(len(by_class[d]), size=len(where))]
        out[:, channel] = images[chosen, 0]
    return Split(samples=out, labels=modes)


def build_stacked(source: Dataset, *, sizes: dict[str, int] | None = None, seed: int = SEED) -> Dataset:
    """Stacked MNIST from an MNIST ``source`` (``mnist`` or ``mnist-5k``), split by split."""
    sizes = dict(SIZES if sizes is None else sizes)
    splits = {}
    for name in sizes:
        part = source.split(name)
        rs = np.random.RandomState(seed * 1000 + SPLIT_OFFSETS[name])  # one independent stream per split
        splits[name] = stack_digits(part.samples, part.labels, sizes[name], rs)
    sizes_text = ", ".join(f"{k} {v}" for k, v in sizes.items())
    return Dataset(
        name=NAME,
        kind="image",
        splits=splits,
        fingerprint=compute_fingerprint(NAME, splits),
        n_classes=N_MODES,
        warnings=tuple(f"{NAME} (built from {source.name}): {w}" for w in source.warnings),
        source=f"three digits per image from {source.fingerprint.short} (seed {seed}; {sizes_text}); {source.source}",
    )
