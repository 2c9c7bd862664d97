"""The feature-extractor contract.

An extractor maps ``uint8`` images ``N×C×H×W`` to float64 features ``N×D`` and, where it has
a classifier head, class probabilities ``N×K``. It consumes images batch by batch from any
iterable, so a generator's samples never need to be held in memory all at once. Its identity
(name + sha256 of its weights file) is recorded with every number computed from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol, runtime_checkable

import numpy as np
import torch


@dataclass(frozen=True)
class ExtractorIdentity:
    name: str
    weights_sha256: str

    def to_dict(self) -> dict:
        return {"name": self.name, "weights_sha256": self.weights_sha256}


@dataclass(frozen=True)
class Features:
    features: np.ndarray  # float64 N×D
    probs: np.ndarray | None  # float64 N×K (rows sum to 1), or None
    extractor: ExtractorIdentity

    def __len__(self) -> int:
        return int(self.features.shape[0])


ImageBatches = Iterable[np.ndarray | torch.Tensor]  # each uint8 B×C×H×W


@runtime_checkable
class Extractor(Protocol):
    identity: ExtractorIdentity
    feature_dim: int
    n_classes: int | None

    def extract(
        self,
        batches: ImageBatches,
        *,
        device: torch.device | str | None = None,
        progress: bool = True,
        total: int | None = None,
    ) -> Features:
        """Run over every batch; ``total`` (number of images) only sizes the progress bar."""
        ...


def iter_batches(images: np.ndarray, batch_size: int) -> Iterable[np.ndarray]:
    """Slice an in-memory ``uint8`` array into batches (no copy)."""
    for start in range(0, images.shape[0], batch_size):
        yield images[start : start + batch_size]
