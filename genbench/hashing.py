"""The one way genbench hashes a file: sha256, read 1 MiB at a time (weights, sample files and
datasets can be large; reading one whole into memory to hash it is not needed)."""

from __future__ import annotations

import hashlib
import os


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of the file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
