"""Tiny datasets and tiny model sizes so every baseline trains a few steps in well under a second.

A module with its own name (not ``conftest``): ``from conftest import`` is ambiguous when pytest
collects several test folders that each have a conftest.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from genbench.data.dataset import Dataset, ModeSpec, Split, compute_fingerprint


def make_points(n: int = 96, name: str = "ring-tiny") -> Dataset:
    rng = np.random.default_rng(0)
    k = rng.integers(0, 8, n)
    means = np.stack([np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)], 1)
    x = (means[k] + 0.01 * rng.standard_normal((n, 2))).astype(np.float32)
    splits = {"train": Split(x, k.astype(np.int64)), "test": Split(x[:32].copy(), k[:32].astype(np.int64))}
    return Dataset(name, "points", splits, compute_fingerprint(name, splits), n_classes=8,
                   modes=ModeSpec(means=means, std=0.01))


def make_images(n: int = 32, channels: int = 1, name: str = "digits-tiny") -> Dataset:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (n, channels, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, n).astype(np.int64)
    splits = {"train": Split(x, y), "test": Split(x[:8].copy(), y[:8].copy())}
    return Dataset(name, "image", splits, compute_fingerprint(name, splits), n_classes=10)


def cut_dataset(name: str, sizes: dict[str, int]) -> Dataset:
    """The first ``sizes[split]`` examples of each named split of registered dataset ``name``,
    with everything a split carries (labels, inputs, captions) and the dataset's task and
    vocabulary kept, named ``<name>-tiny``."""
    from genbench.data import load_dataset

    full = load_dataset(name)

    def head(a, n):
        return None if a is None else a[:n]

    splits = {}
    for split, n in sizes.items():
        s = full.split(split)
        splits[split] = dataclasses.replace(s, samples=s.samples[:n], labels=head(s.labels, n),
                                            inputs=head(s.inputs, n), captions=head(s.captions, n))
    tiny_name = f"{name}-tiny"
    return Dataset(tiny_name, full.kind, splits, compute_fingerprint(tiny_name, splits, full.vocabulary),
                   n_classes=full.n_classes, task=full.task, vocabulary=full.vocabulary)


def tiny(name: str, kind: str) -> dict:
    """Overrides that shrink a model to a few thousand parameters."""
    o: dict = {"batch_size": 8, "log_every": 1, "checkpoint_every": 2}
    if name in ("ae", "vae", "aae"):
        o.update(hidden=(16,), width=4)
        if name == "aae":
            o["d_hidden"] = (16,)
    else:
        o.update(g_hidden=(16, 16), d_hidden=(16,), g_width=4, d_width=4, z_dim=4)
        if name == "minibatch-gan":
            o.update(n_kernels=6, kernel_dim=3)
        if name == "unrolled-gan":
            o.update(unroll_steps=2)
    return o
