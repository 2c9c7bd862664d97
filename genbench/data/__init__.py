"""Datasets by name: ``load_dataset("mnist-5k")`` → :class:`Dataset` with train/val/test splits.

One module per family: ``mnist`` (IDX files / torchvision download, falls back loudly to
``mnist-5k``), ``mnist5k`` (embedded asset), ``stacked`` (three digits in R, G, B) and
``toy2d`` (ring8, grid25). Every call builds fresh arrays, so callers may modify what they get.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Literal

from genbench.data.dataset import SPLITS, Dataset, Fingerprint, ModeSpec, Split, compute_fingerprint
from genbench.errors import GenbenchError

__all__ = [
    "DATASETS",
    "DatasetInfo",
    "Dataset",
    "Fingerprint",
    "ModeSpec",
    "SPLITS",
    "Split",
    "compute_fingerprint",
    "default_data_root",
    "load_dataset",
]


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    kind: Literal["image", "points"]
    description: str


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            "mnist",
            "image",
            "MNIST 28×28 digits from local IDX files or a torchvision download: train 50,000 / "
            "val 10,000 (last of the official train) / test 10,000; falls back to mnist-5k with a warning",
        ),
        DatasetInfo(
            "mnist-5k",
            "image",
            "5,000 real MNIST digits shipped with genbench (works offline): train 3,500 / val 500 / "
            "test 1,000, stratified by class",
        ),
        DatasetInfo(
            "stacked-mnist",
            "image",
            "three MNIST digits in R, G, B (1000 modes, labels r*100+g*10+b): train 25,000 / "
            "val 5,000 / test 10,000, built with a fixed seed from mnist (or mnist-5k)",
        ),
        DatasetInfo(
            "ring8",
            "points",
            "8 Gaussians on the unit circle, sigma 0.01: train 20,000 / val 5,000 / test 5,000",
        ),
        DatasetInfo(
            "grid25",
            "points",
            "25 Gaussians on {-4,-2,0,2,4}², sigma 0.05: train 20,000 / val 5,000 / test 5,000",
        ),
    )
}


def default_data_root():
    """Where ``mnist`` looks for ``MNIST/raw``: ``$GENBENCH_DATA`` or ``~/.cache/genbench/data``."""
    from genbench.data.mnist import default_data_root as _default

    return _default()


def _loaders() -> dict[str, Callable[[os.PathLike | str | None], Dataset]]:
    from genbench.data.mnist import load_mnist
    from genbench.data.mnist5k import load_mnist5k
    from genbench.data.stacked import build_stacked
    from genbench.data.toy2d import load_grid25, load_ring8

    return {
        "mnist": load_mnist,
        "mnist-5k": lambda root: load_mnist5k(),
        "stacked-mnist": lambda root: build_stacked(load_mnist(root)),
        "ring8": lambda root: load_ring8(),
        "grid25": lambda root: load_grid25(),
    }


def load_dataset(name: str, *, data_root: str | os.PathLike | None = None) -> Dataset:
    """Load a dataset by name; ``data_root`` (else ``$GENBENCH_DATA``) is where MNIST is looked for."""
    loaders = _loaders()
    if name not in loaders:
        raise GenbenchError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)}")
    return loaders[name](data_root)
