"""Hashes of the code that computes a cached result, so that editing that code invalidates it.

Keying caches by ``genbench.__version__`` reused stale numbers after a metric was edited
without a version bump. These hashes cover the source files themselves: any edit of a file
that can change a number changes the key. They err on the side of recomputing: every ``.py``
file of the package counts except the ones listed as presentation-only, which never compute a
stored number. Models registered by third-party packages are not covered (their code lives
elsewhere); their config and checkpoint still are.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path

# genbench files that only read, present or orchestrate stored results.
PRESENTATION_ONLY = ("report/", "commands/", "cli.py", "__main__.py", "gate.py", "results.py", "lock.py",
                     "executors/")  # where a job runs does not change what it computes


def tree_hash(root: str | Path, exclude: tuple[str, ...] = ()) -> str:
    """sha256 over the relative paths and bytes of the ``.py`` files under ``root``."""
    root = Path(root)
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if any(rel == e or (e.endswith("/") and rel.startswith(e)) for e in exclude):
            continue
        h.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _package_dir(name: str) -> Path:
    # find_spec locates the package without importing it (baselines imports torch).
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"package {name} not found")
    return Path(next(iter(spec.submodule_search_locations)))


@functools.lru_cache(maxsize=None)
def evaluation_code() -> str:
    """Hash of the genbench code that extracts features and computes metrics (all but presentation)."""
    return tree_hash(_package_dir("genbench"), PRESENTATION_ONLY)


@functools.lru_cache(maxsize=None)
def training_code() -> str:
    """Hash of the code that trains and samples the reference baselines: baselines/ and genbench/data/."""
    h = hashlib.sha256(tree_hash(_package_dir("baselines")).encode())
    h.update(tree_hash(_package_dir("genbench") / "data").encode())
    return h.hexdigest()
