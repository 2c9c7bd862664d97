"""``ring8`` and ``grid25``: the 2-D Gaussian mixtures of the mode-collapse literature.

ring8: 8 Gaussians with means on the unit circle at angles 2πk/8, σ = 0.01 (the ring of
Metz et al. 2017, scaled to radius 1). grid25: 25 Gaussians with means on {−4,−2,0,2,4}²,
σ = 0.05 (the grid of Srivastava et al. 2017, VEEGAN). All modes are equally likely; every
split holds each mode exactly equally often (sizes train 20,000, val 5,000, test 5,000 are
multiples of 8 and 25), and the label of a point is the index of the mode it was drawn from.

The points are float32 and drawn with the legacy ``RandomState`` (numpy freezes its stream)
from a fixed seed per dataset and split, so the fingerprints are stable. ``Dataset.modes`` exposes the
means and σ for ``mode_coverage_2d``.
"""

from __future__ import annotations

import numpy as np

from genbench.data.dataset import Dataset, ModeSpec, Split, compute_fingerprint

SIZES = {"train": 20_000, "val": 5_000, "test": 5_000}
SPLIT_OFFSETS = {"train": 0, "val": 1, "test": 2}  # seed = dataset base seed + offset


def ring8_modes() -> ModeSpec:
    angles = 2.0 * np.pi * np.arange(8) / 8
    means = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    means[np.abs(means) < 1e-12] = 0.0  # cos(pi/2) is 6e-17 in floating point; the mode is at 0
    return ModeSpec(means=means, std=0.01)


def grid25_modes() -> ModeSpec:
    axis = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
    xs, ys = np.meshgrid(axis, axis, indexing="ij")
    return ModeSpec(means=np.stack([xs.ravel(), ys.ravel()], axis=1), std=0.05)


def sample_mixture(modes: ModeSpec, n: int, seed: int) -> Split:
    """``n`` points, every mode equally often (n must be a multiple of the number of modes)."""
    k = len(modes.means)
    if n % k:
        raise ValueError(f"sample_mixture: n={n} is not a multiple of the {k} modes")
    rs = np.random.RandomState(seed)
    labels = np.arange(n, dtype=np.int64) % k
    rs.shuffle(labels)
    noise = rs.standard_normal((n, 2))
    points = (modes.means[labels] + modes.std * noise).astype(np.float32)
    return Split(samples=points, labels=labels)


def build_mixture(name: str, modes: ModeSpec, base_seed: int, sizes: dict[str, int] | None = None) -> Dataset:
    sizes = dict(SIZES if sizes is None else sizes)
    seeds = {split: base_seed + SPLIT_OFFSETS[split] for split in sizes}
    splits = {split: sample_mixture(modes, n, seeds[split]) for split, n in sizes.items()}
    return Dataset(
        name=name,
        kind="points",
        splits=splits,
        fingerprint=compute_fingerprint(name, splits),
        n_classes=len(modes.means),
        modes=modes,
        source=f"{len(modes.means)} equal-weight Gaussians, sigma {modes.std}, split seeds {seeds}",
    )


def load_ring8() -> Dataset:
    return build_mixture("ring8", ring8_modes(), base_seed=800)


def load_grid25() -> Dataset:
    return build_mixture("grid25", grid25_modes(), base_seed=2500)
