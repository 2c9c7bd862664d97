"""A genbench baseline checkpoint directory (``config.json`` + ``model.safetensors``).

Loaded through ``baselines.load``, which reads tensors with safetensors (no pickle). The model
draws all ``n`` samples in one seeded call (its own sampler decides how latents map to seeds),
then they are handed out batch by batch; contract-form samples are small (10k MNIST digits
are 7.8 MB).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterator

import numpy as np

import baselines
from genbench.errors import GenbenchError
from genbench.sources.base import Converter, ModelSource, check_count, detect_layout, sha256_file

CHECKPOINT_FILES = ("config.json", "model.safetensors")


def is_checkpoint_dir(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").is_file()


class CheckpointSource(ModelSource):
    def __init__(self, path: str | Path, *, resize=None, device=None, value_range=None):
        self.path = Path(path)
        missing = [f for f in CHECKPOINT_FILES if not (self.path / f).is_file()]
        if missing:
            raise GenbenchError(f"{self.path}: not a genbench checkpoint: missing {', '.join(missing)}")
        if value_range is not None:
            raise GenbenchError(
                f"{self.path}: a genbench checkpoint samples uint8 images or float points itself; "
                "a value range does not apply"
            )
        self.model = baselines.load(self.path, device=device)
        if getattr(self.model, "conditioning", "none") == "image":
            raise GenbenchError(
                f"{self.path}: model {self.model.name!r} conditions on images and has nothing to sample "
                "from; evaluate it as a translator of a paired split's inputs (open_source(path, inputs=...))"
            )
        self._resize = resize
        self._converter: Converter | None = None

    def _sample(self, n: int, seed: int) -> np.ndarray:
        # The model's own default batch size, whatever ours is: float results of a network can
        # differ in the last bits with the batch size, and the same seed must give the same samples.
        out = self.model.sample(n, seed)
        if hasattr(out, "detach"):
            out = out.detach().cpu().numpy()
        out = np.asarray(out)
        if self._converter is None:
            where = f"{self.path} samples"
            self._converter = Converter(detect_layout(out.shape, out.dtype, where), out.dtype, None, self._resize, where)
        return out

    def _ensure_converter(self) -> Converter:
        if self._probe_shape is None:
            probe = self._sample(2, 0)  # also builds self._converter from the model's output
            self._probe_shape = tuple(self._converter(probe).shape[1:])
        return self._converter

    def batches(self, n: int, batch_size: int = 250, seed: int = 0) -> Iterator[np.ndarray]:
        n, batch_size = check_count(n, batch_size, None, str(self.path))
        samples = self._sample(n, seed)
        if samples.shape[0] != n:
            raise GenbenchError(f"{self.path}: the model returned {samples.shape[0]} samples for {n} requested")
        for start in range(0, n, batch_size):
            yield self._converter(samples[start : start + batch_size])

    def describe(self) -> dict:
        m = self.model
        config = getattr(m, "config", None)
        if hasattr(config, "__dataclass_fields__"):
            config = dataclasses.asdict(config)
        return {
            "type": "genbench-checkpoint",
            "path": str(self.path.resolve()),
            "model": getattr(m, "name", None),
            "step": getattr(m, "step", None),
            "dataset_fingerprint": getattr(m, "dataset_fingerprint", None),
            "config": config,
            "sha256": sha256_file(self.path / "model.safetensors"),
            "kind": self.kind,
            **self._ensure_converter().describe(),
        }
