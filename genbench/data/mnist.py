"""``mnist``: the full MNIST (60,000 train + 10,000 test digits) from local IDX files.

Where the files are looked for, in order:

1. ``<root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (plain or ``.gz``), the
   layout torchvision's ``MNIST`` uses, with ``root`` = ``data_root`` argument, else
   ``$GENBENCH_DATA``, else ``~/.cache/genbench/data``;
2. a torchvision download into that root, when the machine is online (skipped when
   ``GENBENCH_OFFLINE=1``);
3. otherwise the embedded ``mnist-5k`` — LOUDLY: a logging warning, and the returned
   dataset's ``warnings`` say so. Its name and fingerprint differ, so its numbers are never
   mistaken for full-MNIST numbers.

A file that exists but is corrupt is an error, never a fallback: the user put it there.

Validation split: the last 10,000 training digits (train = first 50,000), the convention of
the Theano tutorials that Goodfellow et al. (2014) used for choosing the Parzen window.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
from pathlib import Path

import numpy as np

from genbench.data.dataset import Dataset, Split, compute_fingerprint
from genbench.data.idx import read_idx
from genbench.data.mnist5k import load_mnist5k
from genbench.errors import GenbenchError

logger = logging.getLogger(__name__)

NAME = "mnist"
FILES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}
EXPECTED_COUNTS = {"train": 60_000, "test": 10_000}
VAL_SIZE = 10_000
LICENCE = "MNIST (Yann LeCun, Corinna Cortes, Christopher J.C. Burges), CC BY-SA 3.0"
DOWNLOAD_PROBE_HOST = ("ossci-datasets.s3.amazonaws.com", 443)  # torchvision's first mirror
DOWNLOAD_TIMEOUT_S = 30.0


def default_data_root() -> Path:
    """``$GENBENCH_DATA`` or ``~/.cache/genbench/data``."""
    env = os.environ.get("GENBENCH_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "genbench" / "data"


def resolve_data_root(data_root: str | os.PathLike | None) -> Path:
    return Path(data_root).expanduser() if data_root is not None else default_data_root()


def raw_dir(root: Path) -> Path:
    return root / "MNIST" / "raw"


def find_files(root: Path) -> dict[tuple[str, str], Path] | None:
    """The four IDX files under ``root`` (plain preferred over ``.gz``), or None if any is missing."""
    found = {}
    for key, stem in FILES.items():
        for candidate in (raw_dir(root) / stem, raw_dir(root) / f"{stem}.gz"):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            return None
    return found


def read_mnist_files(files: dict[tuple[str, str], Path]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"train": (images N×1×28×28, labels), "test": ...}``, with every size checked."""
    out = {}
    for part, count in EXPECTED_COUNTS.items():
        img_path, lab_path = files[(part, "images")], files[(part, "labels")]
        images = read_idx(img_path, ndim=3)
        labels = read_idx(lab_path, ndim=1)
        if images.shape != (count, 28, 28):
            raise GenbenchError(f"MNIST file {img_path} holds images of shape {images.shape}, expected ({count}, 28, 28)")
        if labels.shape != (count,):
            raise GenbenchError(f"MNIST file {lab_path} holds {labels.shape[0]} labels, expected {count}")
        if labels.max() > 9:
            raise GenbenchError(f"MNIST file {lab_path} holds label {int(labels.max())}; digits are 0..9")
        out[part] = (images[:, None], labels.astype(np.int64))
    return out


@functools.lru_cache(maxsize=1)
def _online() -> bool:
    """Whether torchvision's download mirror is reachable (asked once per process)."""
    if os.environ.get("GENBENCH_OFFLINE", "") not in ("", "0"):
        return False
    try:
        with socket.create_connection(DOWNLOAD_PROBE_HOST, timeout=3):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def _socket_timeout(seconds: float):
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _torchvision_mnist():
    """torchvision's ``MNIST`` class, imported only when a download is attempted (slow import)."""
    from torchvision.datasets import MNIST

    return MNIST


def download(root: Path) -> str | None:
    """Download MNIST into ``root`` with torchvision; returns None on success, else the reason."""
    if not _online():
        return "the machine is offline (or GENBENCH_OFFLINE is set)"
    try:
        MNIST = _torchvision_mnist()
    except ImportError as exc:  # pragma: no cover - torchvision is a dependency
        return f"torchvision is not importable ({exc})"
    logger.info("downloading MNIST into %s with torchvision", root)
    try:
        with _socket_timeout(DOWNLOAD_TIMEOUT_S):
            for train in (True, False):
                MNIST(str(root), train=train, download=True)
    except Exception as exc:  # network, HTTP, checksum and permission errors all mean "no download"
        return f"the torchvision download failed ({type(exc).__name__}: {exc})"
    return None


def fallback_warning(root: Path, reason: str) -> str:
    names = ", ".join(f"{stem}[.gz]" for stem in FILES.values())
    return (
        f"MNIST was not found under {raw_dir(root)} and {reason}; using the embedded mnist-5k "
        f"instead (5,000 digits, a different fingerprint: its numbers are not comparable with full "
        f"MNIST). To use full MNIST, put {names} in {raw_dir(root)}, or pass --data-root / set "
        f"GENBENCH_DATA to a folder that holds MNIST/raw/."
    )


def load_mnist(data_root: str | os.PathLike | None = None) -> Dataset:
    root = resolve_data_root(data_root)
    files = find_files(root)
    if files is None:
        reason = download(root)
        files = find_files(root) if reason is None else None
        if files is None:
            # Returned, not logged: every consumer (eval's table, the runner, stats) says it once.
            message = fallback_warning(root, reason or "the download left no files")
            fallback = load_mnist5k()
            return Dataset(
                name=fallback.name,
                kind=fallback.kind,
                splits=fallback.splits,
                fingerprint=fallback.fingerprint,
                n_classes=fallback.n_classes,
                warnings=fallback.warnings + (message,),
                source=fallback.source,
            )

    parts = read_mnist_files(files)
    train_images, train_labels = parts["train"]
    test_images, test_labels = parts["test"]
    cut = len(train_images) - VAL_SIZE
    splits = {
        "train": Split(train_images[:cut], train_labels[:cut]),
        "val": Split(train_images[cut:], train_labels[cut:]),
        "test": Split(test_images, test_labels),
    }
    return Dataset(
        name=NAME,
        kind="image",
        splits=splits,
        fingerprint=compute_fingerprint(NAME, splits),
        n_classes=10,
        source=f"{raw_dir(root)} (val = last {VAL_SIZE} training digits); {LICENCE}",
    )
