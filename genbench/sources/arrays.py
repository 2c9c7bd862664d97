"""Samples stored as arrays: ``.npy`` / ``.npz`` files or an array already in memory."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Iterator

import numpy as np

from genbench.errors import GenbenchError
from genbench.sources.base import (
    Converter,
    SampleSource,
    ValueRange,
    check_count,
    detect_layout,
    sha256_file,
)

# Keys tried, in order, in an .npz holding several arrays: genbench's own, then numpy's default
# name for an unnamed array (``np.savez(path, x)``).
NPZ_KEYS = ("samples", "arr_0")


class ArraySource(SampleSource):
    """A fixed set of samples; ``batches`` yields the first ``n`` in stored order."""

    def __init__(self, array, *, value_range: ValueRange | None = None, resize=None,
                 where: str = "array", provenance: dict | None = None):
        if hasattr(array, "detach"):
            array = array.detach().cpu().numpy()
        array = np.asarray(array) if not isinstance(array, np.ndarray) else array
        if array.dtype == object:
            raise GenbenchError(f"{where}: object arrays are not samples")
        self._array = array
        self._where = where
        layout = detect_layout(array.shape, array.dtype, where)
        if array.shape[0] < 1:
            raise GenbenchError(f"{where}: the array holds no samples (shape {array.shape})")
        self._converter = Converter(layout, array.dtype, value_range, resize, where)
        self._provenance = dict(provenance or {})

    @property
    def kind(self):
        return self._converter.kind

    @property
    def n_available(self) -> int:
        return int(self._array.shape[0])

    @property
    def image_shape(self):
        if self.kind != "image":
            return None
        if self._converter.resize is not None:
            c = self._converter(self._array[:1]).shape[1]
            return (c, *self._converter.resize)
        return tuple(self._converter(self._array[:1]).shape[1:])

    def batches(self, n: int, batch_size: int = 250, seed: int = 0) -> Iterator[np.ndarray]:
        n, batch_size = check_count(n, batch_size, self.n_available, self._where)
        for start in range(0, n, batch_size):
            yield self._converter(self._array[start : min(start + batch_size, n)])
        self._converter.check_declared_range()

    def describe(self) -> dict:
        d = {"type": "array", **self._provenance}
        if "sha256" not in d:
            d["sha256"] = hashlib.sha256(np.ascontiguousarray(self._array).tobytes()).hexdigest()
        d.update(
            kind=self.kind,
            dtype=str(self._array.dtype),
            shape=list(self._array.shape),
            n_available=self.n_available,
            **self._converter.describe(),
        )
        return d


def open_array_file(path: Path, *, value_range=None, resize=None) -> ArraySource:
    """Open a ``.npy`` (memory-mapped) or ``.npz`` file without ever unpickling objects."""
    where = str(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            array = np.load(path, mmap_mode="r", allow_pickle=False)
            key = None
        else:
            with np.load(path, allow_pickle=False) as npz:
                keys = list(npz.files)
                key = _pick_npz_key(keys, where)
                array = npz[key]
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise GenbenchError(f"{where}: cannot read the array file ({exc})") from exc
    if key is not None:
        where = f"{where}[{key!r}]"
    provenance = {"type": suffix.lstrip("."), "path": str(path.resolve()), "sha256": sha256_file(path)}
    if key is not None:
        provenance["key"] = key
    return ArraySource(array, value_range=value_range, resize=resize, where=where, provenance=provenance)


def _pick_npz_key(keys: list[str], where: str) -> str:
    if {"mu", "sigma"} <= set(keys) and not set(NPZ_KEYS) & set(keys):
        raise GenbenchError(
            f"{where}: this holds reference statistics (mu, sigma), not samples; pass it as the "
            "reference (--reference) instead"
        )
    for key in NPZ_KEYS:
        if key in keys:
            return key
    if len(keys) == 1:
        return keys[0]
    if not keys:
        raise GenbenchError(f"{where}: the .npz file holds no arrays")
    raise GenbenchError(
        f"{where}: the .npz file holds several arrays ({', '.join(keys)}) and none is named "
        f"{' or '.join(NPZ_KEYS)}; save the samples under the key 'samples'"
    )
