"""The feature-extractor contract.

An extractor maps ``uint8`` images ``N×C×H×W`` to float64 features ``N×D`` and, where it has
a classifier head, class probabilities ``N×K``. It consumes images batch by batch from any
iterable, so a generator's samples never need to be held in memory all at once. Its identity
(name + sha256 of its weights file) is recorded with every number computed from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Protocol, TypeVar, runtime_checkable

import numpy as np
import torch
from torch import nn

from genbench.errors import GenbenchError
from genbench.hashing import sha256_file


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


def checked_weights(name: str, weights_path: str | Path | None, default: Path, default_sha256: str,
                    script: str) -> tuple[Path, str]:
    """The weights file an extractor loads and its sha256: ``weights_path``, or the shipped
    ``default``, which must have ``default_sha256`` (a corrupt or modified install is an error;
    ``script`` is what rebuilds it)."""
    path = Path(weights_path) if weights_path is not None else default
    if not path.is_file():
        hint = (f"the genbench installation is incomplete (reinstall, or retrain with {script})"
                if weights_path is None else "check the path")
        raise GenbenchError(f"{name} weights file {path} does not exist: {hint}")
    digest = sha256_file(path)
    if weights_path is None and digest != default_sha256:
        raise GenbenchError(f"the shipped {name} weights {path} have sha256 {digest}, expected "
                            f"{default_sha256}: the file is corrupt or was modified (reinstall genbench)")
    return path, digest


Module = TypeVar("Module", bound=nn.Module)


def load_safetensors(model: Module, path: Path, name: str) -> Module:
    """``model`` with the safetensors state at ``path`` (strict), in eval mode; an unreadable
    file or one that does not fit the network is an error naming the file."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(path), device="cpu")
    except (OSError, SafetensorError, ValueError) as exc:
        raise GenbenchError(f"cannot read {name} weights {path}: {exc}") from exc
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise GenbenchError(f"{name} weights {path} do not fit the network: {exc}") from exc
    return model.eval()


def uint8_tensor(batch, name: str, what: str) -> torch.Tensor:
    """A batch (numpy array or tensor) as a uint8 tensor, shared with numpy where possible;
    ``what`` ("images", "voxels") names the data in the error for any other dtype or type."""
    if isinstance(batch, np.ndarray):
        if batch.dtype != np.uint8:
            raise GenbenchError(f"{name}: {what} must be uint8 (0..255), got dtype {batch.dtype}")
        # a copy only when torch could not share the memory (read-only or strided arrays)
        contiguous = np.ascontiguousarray(batch)
        return torch.from_numpy(contiguous if contiguous.flags.writeable else contiguous.copy())
    if isinstance(batch, torch.Tensor):
        if batch.dtype != torch.uint8:
            raise GenbenchError(f"{name}: {what} must be uint8 (0..255), got dtype {batch.dtype}")
        return batch
    raise GenbenchError(f"{name}: a batch must be a numpy array or torch tensor, got {type(batch).__name__}")
