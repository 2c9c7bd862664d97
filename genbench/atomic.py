"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every result, checkpoint and cache entry genbench writes goes through here, so that an
interrupted run (Ctrl-C, ``kill -9``) never leaves a truncated file that looks finished.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from genbench.errors import GenbenchError


class WriteError(GenbenchError, OSError):
    """A file could not be written (full disk, no permission, a directory in the way).

    A GenbenchError, so the CLI prints one line; an OSError, so callers that tolerate a failed
    write (a read-only cache) still catch it. The temporary file is gone when it is raised.
    """


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed onto ``path``.

    On any failure (``ENOSPC`` included) the temporary file is removed and ``path`` is untouched;
    an ``OSError`` becomes a :class:`WriteError` naming ``path``.
    """
    path = Path(path)
    tmp_path: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        os.chmod(tmp_path, 0o644)  # mkstemp makes 0600; results and reports are meant to be shared
        yield tmp_path
        with open(tmp_path, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
        tmp_path = None
    except WriteError:
        raise
    except OSError as exc:
        error = WriteError(f"cannot write {path}: {exc.strerror or exc}")
        error.errno = exc.errno
        raise error from exc
    finally:
        if tmp_path is not None:
            with contextlib.suppress(OSError):
                tmp_path.unlink()


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON (NaN is refused: it is not JSON)."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=False, allow_nan=False) + "\n")


def check_dir(path: str | os.PathLike, what: str) -> None:
    """Fail now, in one line, if ``path`` cannot become a directory we write into.

    Checked before a long run starts, so that a ``--report-dir`` pointing at a file is not
    found out only after hours of training. Creates nothing.
    """
    path = Path(path)
    for existing in (path, *path.parents):
        if existing.exists():
            break
    else:  # pragma: no cover - the root always exists
        return
    if not existing.is_dir():
        where = "is" if existing == path else f"is under {existing}, which is"
        raise GenbenchError(f"{what} {path} {where} a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise GenbenchError(f"{what} {path}: {existing} is not writable")
