"""Reference statistics: the real-data side of FID, computed once and cached by content.

Scoring a model against a dataset needs the dataset's features (μ and Σ for FID, the features
themselves for KID/PRDC, the probabilities for IS/mode counting). Extracting them is the slow
part (Inception on 10k images), and they depend only on *what* was measured — the exact data
(fingerprint), split, number of samples, extractor identity and the code that computes them
(:mod:`genbench.code_hash`) — so they are cached under a key made of exactly those, and a
corrupt cache entry is recomputed, never used.

:class:`ReferenceStats` reads and writes pytorch-fid's ``--save-stats`` ``.npz`` format (keys
``mu`` and ``sigma``), adding provenance keys pytorch-fid ignores.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np

import genbench
from genbench import code_hash
from genbench.atomic import atomic_path
from genbench.errors import GenbenchError
from genbench.features.base import Extractor, ExtractorIdentity, Features

if TYPE_CHECKING:  # pragma: no cover
    from genbench.data.dataset import Dataset

logger = logging.getLogger(__name__)

# Bump when the layout of cache files changes: old entries then simply miss.
_CACHE_FORMAT = 1
# A cache entry's small string members (key, checksum, extractor JSON) are far below this.
_MAX_STRING_BYTES = 1 << 16
# Largest feature dimension a statistics file may declare (Σ of 8192² float64 = 512 MiB;
# Inception's is 2048).
MAX_STATS_DIM = 8192
# How a subset of n < len(split) samples is chosen; part of the cache key.
SUBSET_SEED = 0
SUBSET_RULE = f"sorted(numpy.random.default_rng({SUBSET_SEED}).permutation(len(split))[:n])"


def default_cache_dir() -> Path:
    """``$GENBENCH_CACHE`` if set, else ``~/.cache/genbench``."""
    env = os.environ.get("GENBENCH_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "genbench"


# --------------------------------------------------------------------------------------------
# ReferenceStats


@dataclass(frozen=True)
class ReferenceStats:
    """μ (D), Σ (D×D, unbiased as ``np.cov``), n, and what they were computed from.

    ``n``, ``fingerprint`` (a dataset :class:`Fingerprint` as dict) and ``extractor`` (an
    :class:`ExtractorIdentity` as dict) are None when unknown, e.g. for a plain pytorch-fid file.
    """

    mu: np.ndarray
    sigma: np.ndarray
    n: int | None
    fingerprint: dict | None
    extractor: dict | None
    split: str | None = None

    def __post_init__(self) -> None:
        _check_mu_sigma(self.mu, self.sigma, "ReferenceStats")

    @classmethod
    def from_features(
        cls, features: Features | np.ndarray, *, fingerprint: dict | None = None, split: str | None = None
    ) -> "ReferenceStats":
        """μ and Σ of N×D features in float64 (Σ with ddof=1, as pytorch-fid's ``np.cov``)."""
        if isinstance(features, Features):
            array, extractor = features.features, features.extractor.to_dict()
        else:
            array, extractor = features, None
        array = np.asarray(array, dtype=np.float64)
        if array.ndim != 2:
            raise GenbenchError(f"features must be a 2-D array N×D, got shape {array.shape}")
        if array.shape[0] < 2:
            raise GenbenchError(f"at least 2 feature vectors are needed for a covariance, got {array.shape[0]}")
        if not np.isfinite(array).all():
            raise GenbenchError("features contain NaN or Inf: the extractor's input was probably invalid")
        return cls(
            mu=array.mean(axis=0),
            sigma=np.cov(array, rowvar=False),
            n=int(array.shape[0]),
            fingerprint=fingerprint,
            extractor=extractor,
            split=split,
        )

    def save_npz(self, path: str | os.PathLike) -> None:
        """Write pytorch-fid's stats format (``mu``, ``sigma``) plus provenance keys, atomically."""
        arrays = {"mu": np.asarray(self.mu, np.float64), "sigma": np.asarray(self.sigma, np.float64)}
        if self.n is not None:
            arrays["n"] = np.asarray(self.n, dtype=np.int64)
        provenance = {
            "genbench_version": genbench.__version__,
            "code_sha256": code_hash.evaluation_code(),
            "fingerprint": self.fingerprint,
            "extractor": self.extractor,
            "split": self.split,
        }
        # A 0-d unicode array: loadable with allow_pickle=False (never pickled objects).
        arrays["genbench_provenance"] = np.asarray(json.dumps(provenance, sort_keys=True))
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:  # a file object: np.savez would append ".npz" to a name
                np.savez_compressed(f, **arrays)

    @classmethod
    def load_npz(cls, path: str | os.PathLike) -> "ReferenceStats":
        """Read a file written by :meth:`save_npz` or by pytorch-fid (only ``mu`` and ``sigma``)."""
        path = Path(path)
        if not path.is_file():
            raise GenbenchError(f"reference statistics file {path} does not exist")
        try:
            _check_stats_headers(path)
            with np.load(path, allow_pickle=False) as npz:
                keys = set(npz.files)
                missing = {"mu", "sigma"} - keys
                if missing:
                    raise GenbenchError(
                        f"{path} is not a statistics file: it lacks {', '.join(sorted(missing))} "
                        f"(it has {', '.join(sorted(keys)) or 'no arrays'}); expected pytorch-fid's "
                        "--save-stats format with keys mu and sigma"
                    )
                mu = np.asarray(npz["mu"], dtype=np.float64)
                sigma = np.asarray(npz["sigma"], dtype=np.float64)
                n = int(npz["n"]) if "n" in keys else None
                provenance = json.loads(str(npz["genbench_provenance"])) if "genbench_provenance" in keys else {}
        except GenbenchError:
            raise
        except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError, TypeError) as exc:
            raise GenbenchError(f"cannot read reference statistics {path}: {exc}") from exc
        try:
            return cls(
                mu=mu,
                sigma=sigma,
                n=n,
                fingerprint=provenance.get("fingerprint"),
                extractor=provenance.get("extractor"),
                split=provenance.get("split"),
            )
        except GenbenchError as exc:
            raise GenbenchError(f"reference statistics {path}: {exc}") from exc


def _check_mu_sigma(mu: np.ndarray, sigma: np.ndarray, what: str) -> None:
    mu, sigma = np.asarray(mu), np.asarray(sigma)
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise GenbenchError(f"{what}: mu must be D and sigma D×D, got mu {mu.shape} and sigma {sigma.shape}")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise GenbenchError(f"{what}: mu or sigma contains NaN or Inf")


# --------------------------------------------------------------------------------------------
# Cached dataset features


def subset_indices(size: int, n: int | None) -> np.ndarray | None:
    """Which samples of a split of ``size`` are used for ``n``: None (all) or a fixed seeded subset.

    A seeded random subset rather than the first n: splits may be ordered (e.g. by class), and
    the first n would then not be a sample of the split's distribution.
    """
    if n is None or n == size:
        return None
    if n < 2:
        raise GenbenchError(f"n must be at least 2, got {n}")
    if n > size:
        raise GenbenchError(f"n={n} is larger than the split ({size} samples): ask for at most {size}")
    return np.sort(np.random.default_rng(SUBSET_SEED).permutation(size)[:n])


def cache_key(dataset: "Dataset", split: str, n: int, identity: ExtractorIdentity) -> str:
    """sha256 over everything the features depend on."""
    content = {
        "format": _CACHE_FORMAT,
        "code_sha256": code_hash.evaluation_code(),
        "dataset_sha256": dataset.fingerprint.sha256,
        "dataset": dataset.fingerprint.name,
        "split": split,
        "n": n,
        "subset": SUBSET_RULE,
        "extractor": identity.to_dict(),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _arrays_checksum(features: np.ndarray, probs: np.ndarray | None) -> str:
    h = hashlib.sha256()
    for arr in (features, probs):
        if arr is None:
            h.update(b"|none|")
            continue
        arr = np.ascontiguousarray(arr)
        h.update(f"|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def _compact(array: np.ndarray) -> np.ndarray:
    """float32 when that is lossless (network outputs usually are float32 values): half the file."""
    as32 = array.astype(np.float32)
    return as32 if np.array_equal(as32.astype(np.float64), array) else array


def _save_cached(path: Path, key: str, features: Features) -> None:
    arrays = {"features": _compact(features.features)}
    if features.probs is not None:
        arrays["probs"] = _compact(features.probs)
    arrays["key"] = np.asarray(key)
    arrays["extractor"] = np.asarray(json.dumps(features.extractor.to_dict(), sort_keys=True))
    arrays["checksum"] = np.asarray(_arrays_checksum(arrays["features"], arrays.get("probs")))
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)  # uncompressed: float features hardly compress and zlib is slow


def _npz_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype, zipfile.ZipInfo]]:
    """Each member's declared shape and dtype, read from its .npy header without loading it.

    ``np.load`` allocates whatever a header declares, so a 1 kB file claiming 10¹² rows takes
    the machine down before any later check could run; callers check these first.
    """
    headers = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            with zf.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                else:
                    shape, _, dtype = np.lib.format.read_array_header_2_0(f)
            headers[name] = (tuple(shape), dtype, info)
    return headers


def _check_cache_headers(path: Path, n: int) -> None:
    """Refuse a cache entry unless it holds only what genbench writes: short strings and float
    n × d arrays, each declared no larger than the bytes stored for it (written uncompressed,
    so a file of that size really holds them)."""
    size = path.stat().st_size
    for name, (shape, dtype, info) in _npz_headers(path).items():
        if name not in ("key", "checksum", "extractor", "features", "probs"):
            raise ValueError(f"unexpected array {info.filename!r}")
        if info.compress_type != zipfile.ZIP_STORED or info.file_size > size:
            raise ValueError(f"{name} is compressed or larger than the file")
        if name in ("key", "checksum", "extractor"):
            if shape != () or dtype.kind != "U" or dtype.itemsize > _MAX_STRING_BYTES:
                raise ValueError(f"{name} is {dtype} {shape}, expected a short string")
        elif (len(shape) != 2 or shape[0] != n or dtype not in (np.float32, np.float64)
              or shape[1] * n * dtype.itemsize > info.file_size):
            raise ValueError(f"{name} is declared {dtype} {shape}, expected float {n} × d")


def _check_stats_headers(path: Path) -> None:
    """Refuse a statistics file declaring arrays beyond MAX_STATS_DIM before loading it."""
    for name, (shape, dtype, _) in _npz_headers(path).items():
        if dtype.hasobject:
            raise GenbenchError(f"{path}: array {name!r} holds Python objects; statistics files hold numbers")
        elements = int(np.prod(shape, dtype=np.float64))
        if name in ("mu", "sigma") and (len(shape) > 2 or any(d > MAX_STATS_DIM for d in shape)):
            raise GenbenchError(f"{path}: {name} is declared {shape}; genbench reads statistics of at most "
                                f"{MAX_STATS_DIM} dimensions")
        if name not in ("mu", "sigma") and elements * dtype.itemsize > _MAX_STRING_BYTES:
            raise GenbenchError(f"{path}: array {name!r} is declared {dtype} {shape}, too large for provenance")


def _load_cached(path: Path, key: str, n: int, identity: ExtractorIdentity) -> Features:
    """The cached features at ``path``; ValueError says why the entry cannot be trusted."""
    try:
        _check_cache_headers(path, n)
        with np.load(path, allow_pickle=False) as npz:
            stored_key = str(npz["key"])
            features = np.asarray(npz["features"])
            probs = np.asarray(npz["probs"]) if "probs" in npz.files else None
            checksum = str(npz["checksum"])
            stored_identity = json.loads(str(npz["extractor"]))
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable ({type(exc).__name__}: {exc})") from exc
    if stored_key != key or stored_identity != identity.to_dict():
        raise ValueError("its key does not match what was asked for")
    if checksum != _arrays_checksum(features, probs):
        raise ValueError("checksum mismatch (the arrays were modified or truncated)")
    if features.ndim != 2 or features.shape[0] != n or (probs is not None and probs.shape[0] != n):
        raise ValueError(f"it holds {features.shape} features, expected {n} rows")
    return Features(
        features=features.astype(np.float64),
        probs=None if probs is None else probs.astype(np.float64),
        extractor=identity,
    )


def _subset_batches(samples: np.ndarray, indices: np.ndarray | None, batch_size: int) -> Iterator[np.ndarray]:
    """Batches of ``samples[indices]`` without materialising the whole subset."""
    size = samples.shape[0] if indices is None else len(indices)
    for start in range(0, size, batch_size):
        if indices is None:
            yield samples[start : start + batch_size]
        else:
            yield samples[indices[start : start + batch_size]]


def dataset_features(
    dataset: "Dataset",
    split: str,
    extractor: Extractor | str,
    *,
    n: int | None = None,
    device=None,
    batch_size: int = 250,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> Features:
    """Features of ``dataset``'s ``split`` (all of it, or ``n`` samples: see :func:`subset_indices`).

    Read from the cache when an entry with the same content key exists and verifies; otherwise
    computed and written atomically. ``extractor`` may be an :class:`Extractor` or its name.
    """
    if dataset.kind == "image" and dataset.split(split).sizes is not None:
        raise GenbenchError(f"dataset {dataset.name!r} split {split!r} holds images of different sizes; feature "
                            "statistics of their padded canvases would measure the padding")
    if isinstance(extractor, str):
        from genbench.features import get_extractor

        extractor = get_extractor(extractor)
    if dataset.kind == "points":
        raise GenbenchError(
            f"dataset {dataset.name!r} holds {dataset.kind}, not images: feature extractors apply to images and voxels"
        )
    if batch_size < 1:
        raise GenbenchError(f"batch_size must be positive, got {batch_size}")
    samples = dataset.split(split).samples
    indices = subset_indices(samples.shape[0], n)
    n_used = samples.shape[0] if indices is None else len(indices)
    identity = extractor.identity

    key = cache_key(dataset, split, n_used, identity)
    directory = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    path = directory / "features" / f"{dataset.name}-{split}-n{n_used}-{identity.name}-{key[:16]}.npz"
    if path.exists():
        try:
            cached = _load_cached(path, key, n_used, identity)
        except ValueError as exc:
            logger.warning("ignoring corrupt feature cache %s: %s; recomputing", path, exc)
        else:
            logger.info("reference features for %s/%s (n=%d, %s) read from %s",
                        dataset.name, split, n_used, identity.name, path)
            return cached

    logger.info("extracting %s features of %s/%s (n=%d)", identity.name, dataset.name, split, n_used)
    features = extractor.extract(
        _subset_batches(samples, indices, batch_size), device=device, progress=progress, total=n_used
    )
    if len(features) != n_used:
        raise GenbenchError(f"extractor {identity.name} returned {len(features)} feature rows for {n_used} images")
    try:
        _save_cached(path, key, features)
    except OSError as exc:  # a read-only cache must not fail the evaluation, but it must be visible
        logger.warning("could not write the feature cache %s: %s", path, exc)
    else:
        logger.info("cached reference features in %s", path)
    return features
