"""Reading and writing the IDX files MNIST is distributed in (LeCun's format).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian ``int32`` per dimension, then the data. MNIST uses type ``0x08`` (unsigned
byte): images have magic ``0x00000803`` (N×28×28), labels ``0x00000801`` (N). Files may be
gzip-compressed (``.gz``). Every structural problem is a :class:`GenbenchError` that names the
file, because a truncated download must never turn into a silently smaller dataset.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from genbench.atomic import write_bytes
from genbench.errors import GenbenchError

UBYTE = 0x08


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise GenbenchError(f"cannot read IDX file {path}: {exc}") from exc


def read_idx(path: str | os.PathLike, *, ndim: int | None = None) -> np.ndarray:
    """Read an unsigned-byte IDX file (plain or ``.gz``) into a ``uint8`` array.

    ``ndim`` (3 for images, 1 for labels) is checked against the header when given.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise GenbenchError(f"IDX file {path} is too short ({len(data)} bytes) to hold a header")
    zero0, zero1, type_code, dims = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0:
        raise GenbenchError(
            f"IDX file {path} has a bad magic number 0x{data[:4].hex()} (must start with two zero "
            "bytes): not an IDX file, or corrupt"
        )
    if type_code != UBYTE:
        raise GenbenchError(f"IDX file {path} has data type 0x{type_code:02x}; only unsigned byte (0x08) is supported")
    if ndim is not None and dims != ndim:
        raise GenbenchError(
            f"IDX file {path} has {dims} dimensions (magic 0x{data[:4].hex()}), expected {ndim} "
            f"(magic 0x0000080{ndim})"
        )
    header = 4 + 4 * dims
    if len(data) < header:
        raise GenbenchError(f"IDX file {path} is truncated inside its header")
    shape = struct.unpack(f">{dims}i", data[4:header])
    if any(s < 0 for s in shape):
        raise GenbenchError(f"IDX file {path} declares a negative size {shape}")
    expected = int(np.prod(shape, dtype=np.int64))
    if len(data) - header != expected:
        raise GenbenchError(
            f"IDX file {path} declares shape {shape} ({expected} bytes of data) but holds "
            f"{len(data) - header} bytes: truncated or corrupt download"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write a ``uint8`` array as an IDX file (gzip-compressed when ``path`` ends in ``.gz``)."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"write_idx: array must be uint8, got {array.dtype}")
    payload = bytes([0, 0, UBYTE, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape) + array.tobytes()
    if str(path).endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    write_bytes(path, payload)
