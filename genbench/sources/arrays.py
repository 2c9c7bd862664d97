"""Samples stored as arrays: ``.npy`` / ``.npz`` files or an array already in memory.

Sample files are untrusted input, so nothing is allocated from what a file *declares*: a
``.npy`` is memory-mapped after its header is checked against the file's size, and an ``.npz``
member is streamed, decompressing only the rows asked for (a 37 MB ``.npz`` of zeros declares
8 GiB; ``np.load`` would inflate all of it before ``n`` applies). Reads are cut into pieces of at
most :data:`READ_BUDGET_BYTES` (raw rows, their float working copy and the converted images),
so memory stays bounded whatever the batch size; one sample larger than that is refused.
"""

from __future__ import annotations

import hashlib
import math
import zipfile
import zlib
from pathlib import Path
from typing import Iterator

import numpy as np
from numpy.lib import format as npy_format

from genbench.errors import GenbenchError
from genbench.sources.base import (
    READ_BUDGET_BYTES,
    Converter,
    SampleSource,
    ValueRange,
    check_count,
    detect_layout,
    rows_per_read,
    sha256_file,
)

# Keys tried, in order, in an .npz holding several arrays: genbench's own, then numpy's default
# name for an unnamed array (``np.savez(path, x)``).
NPZ_KEYS = ("samples", "arr_0")

# zipfile raises RuntimeError for an encrypted member, NotImplementedError for an unknown method.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError)


class NpzMember:
    """One array inside an ``.npz``, read row by row from the compressed stream.

    It behaves like the array for what :class:`ArraySource` needs (``shape``, ``dtype`` and
    ``[start:stop]`` along the first axis) without ever holding more than the rows asked for.
    Consecutive slices continue the open stream; an earlier start reopens it.
    """

    def __init__(self, path: Path, member: str, where: str):
        self.path, self.member, self.where = path, member, where
        self._zf: zipfile.ZipFile | None = None
        self._stream = None
        self._row = 0  # the row the open stream is at
        try:
            with zipfile.ZipFile(path) as zf:
                info = zf.getinfo(member)
                with zf.open(info) as f:
                    self.shape, self.fortran_order, self.dtype = read_npy_header(f, where)
                    header_len = f.tell()
        except _ZIP_ERRORS as exc:
            raise GenbenchError(f"{where}: cannot read the array file ({exc})") from exc
        self.ndim = len(self.shape)
        self.row_bytes = math.prod(self.shape[1:]) * self.dtype.itemsize
        declared = self.shape[0] * self.row_bytes if self.shape else self.dtype.itemsize
        if info.file_size != header_len + declared:
            raise GenbenchError(
                f"{where}: the array header declares shape {self.shape} of {self.dtype} ({declared:,} bytes) "
                f"but the archive member holds {info.file_size - header_len:,} bytes of data: the file is "
                "corrupt or crafted"
            )
        if self.fortran_order and self.ndim > 1 and declared > READ_BUDGET_BYTES:
            raise GenbenchError(
                f"{where}: a Fortran-ordered array of {declared:,} bytes cannot be read a few rows at a "
                f"time (limit {READ_BUDGET_BYTES >> 20} MiB); save it C-ordered "
                "(np.savez(path, samples=np.ascontiguousarray(x)))"
            )

    def __len__(self) -> int:
        return self.shape[0]

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
        if self._zf is not None:
            self._zf.close()
        self._zf = self._stream = None

    def _open_at_data(self) -> None:
        self.close()
        self._zf = zipfile.ZipFile(self.path)
        self._stream = self._zf.open(self.member)
        read_npy_header(self._stream, self.where)
        self._row = 0

    def _read(self, nbytes: int) -> bytes:
        data = self._stream.read(nbytes)
        if len(data) != nbytes:
            raise GenbenchError(f"{self.where}: the array data ends early: the file is truncated")
        return data

    def __getitem__(self, index) -> np.ndarray:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("NpzMember supports [start:stop] only")
        start, stop, _ = index.indices(self.shape[0])
        stop = max(start, stop)
        try:
            if self.fortran_order and self.ndim > 1:  # small (checked above): read whole, then slice
                self._open_at_data()
                flat = np.frombuffer(self._read(self.shape[0] * self.row_bytes), dtype=self.dtype)
                self.close()
                return flat.reshape(self.shape, order="F")[start:stop]
            if self._stream is None or start < self._row:
                self._open_at_data()
            skip = (start - self._row) * self.row_bytes
            while skip:  # decompress and drop the rows before start, 1 MiB at a time
                skip -= len(self._read(min(skip, 1 << 20)))
            data = self._read((stop - start) * self.row_bytes)
            self._row = stop
        except _ZIP_ERRORS as exc:
            self.close()
            raise GenbenchError(f"{self.where}: cannot read the array data ({exc})") from exc
        return np.frombuffer(data, dtype=self.dtype).reshape((stop - start, *self.shape[1:]))


def read_npy_header(f, where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) from a ``.npy`` stream positioned at its start, read with
    numpy's own header parser (which bounds the header's size); object arrays are refused
    (loading them would unpickle)."""
    try:
        version = npy_format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(f)
        else:  # (2, 0), or (3, 0): the same layout with a UTF-8 header (numpy has no public reader),
            shape, fortran, dtype = npy_format.read_array_header_2_0(f)  # identical for ASCII field names
    except (ValueError, OSError, EOFError, SyntaxError, TypeError, *_ZIP_ERRORS) as exc:
        raise GenbenchError(f"{where}: not a readable .npy array ({exc})") from exc
    if dtype.hasobject:
        raise GenbenchError(f"{where}: holds Python objects (dtype {dtype}); loading it would unpickle: save numbers")
    return tuple(int(s) for s in shape), bool(fortran), dtype


class ArraySource(SampleSource):
    """A fixed set of samples; ``batches`` yields the first ``n`` in stored order, reading no more."""

    def __init__(self, array, *, value_range: ValueRange | None = None, resize=None,
                 where: str = "array", provenance: dict | None = None):
        if hasattr(array, "detach"):
            array = array.detach().cpu().numpy()
        if not isinstance(array, (np.ndarray, NpzMember)):
            array = np.asarray(array)
        if array.dtype == object:
            raise GenbenchError(f"{where}: object arrays are not samples")
        self._array = array
        self._where = where
        layout = detect_layout(array.shape, array.dtype, where)
        if array.shape[0] < 1:
            raise GenbenchError(f"{where}: the array holds no samples (shape {array.shape})")
        self._converter = Converter(layout, array.dtype, value_range, resize, where)
        self._rows_per_read = rows_per_read(array.shape[1:], array.dtype, resize, where)
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
        first = self._converter(self._array[:1])
        if isinstance(self._array, NpzMember):
            self._array.close()
        return tuple(first.shape[1:])

    def batches(self, n: int, batch_size: int = 250, seed: int = 0) -> Iterator[np.ndarray]:
        n, batch_size = check_count(n, batch_size, self.n_available, self._where)
        step = min(batch_size, self._rows_per_read)
        try:
            for start in range(0, n, step):
                yield self._converter(self._array[start : min(start + step, n)])
        finally:
            if isinstance(self._array, NpzMember):
                self._array.close()
        self._converter.check_declared_range()

    def describe(self) -> dict:
        d = {"type": "array", **self._provenance}
        if "sha256" not in d:  # in memory: hashed a read at a time, never copied whole
            h = hashlib.sha256()
            for start in range(0, self.n_available, self._rows_per_read):
                h.update(np.ascontiguousarray(self._array[start : start + self._rows_per_read]).data)
            d["sha256"] = h.hexdigest()
        d.update(
            kind=self.kind,
            dtype=str(self._array.dtype),
            shape=list(self._array.shape),
            n_available=self.n_available,
            **self._converter.describe(),
        )
        return d


def open_array_file(path: Path, *, value_range=None, resize=None) -> ArraySource:
    """Open a ``.npy`` (memory-mapped) or ``.npz`` (streamed) file without ever unpickling
    objects or allocating what a header declares."""
    where = str(path)
    suffix = path.suffix.lower()
    key = None
    if suffix == ".npy":
        array = _open_npy(path, where)
    else:
        try:
            with zipfile.ZipFile(path) as zf:
                members = [n for n in zf.namelist() if n.endswith(".npy")]
        except _ZIP_ERRORS as exc:
            raise GenbenchError(f"{where}: cannot read the array file ({exc})") from exc
        keys = [m[: -len(".npy")] for m in members]
        key = _pick_npz_key(keys, where)
        where = f"{where}[{key!r}]"
        array = NpzMember(path, f"{key}.npy", where)
    provenance = {"type": suffix.lstrip("."), "path": str(path.resolve()), "sha256": sha256_file(path)}
    if key is not None:
        provenance["key"] = key
    return ArraySource(array, value_range=value_range, resize=resize, where=where, provenance=provenance)


def _open_npy(path: Path, where: str) -> np.ndarray:
    """Memory-map a ``.npy`` after checking that its header agrees with the file's size."""
    try:
        with open(path, "rb") as f:
            shape, _, dtype = read_npy_header(f, where)
            offset = f.tell()
        size = path.stat().st_size
    except OSError as exc:
        raise GenbenchError(f"{where}: cannot read the array file ({exc})") from exc
    declared = math.prod(shape) * dtype.itemsize
    if size != offset + declared:
        raise GenbenchError(
            f"{where}: the header declares shape {shape} of {dtype} ({declared:,} bytes) but the file holds "
            f"{size - offset:,} bytes of data: it is truncated, corrupt or crafted"
        )
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise GenbenchError(f"{where}: cannot read the array file ({exc})") from exc


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
