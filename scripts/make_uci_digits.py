"""Freeze scikit-learn's 1,797 UCI hand-written 8×8 digits into ``genbench/assets/uci_digits.npz``.

Run once (the result is committed); genbench itself never imports scikit-learn (a dev-only
dependency), so the ``mnist-uci`` domain works from the asset alone:

    .venv/bin/python scripts/make_uci_digits.py [--csv PATH] [--out genbench/assets/uci_digits.npz]

The source is ``sklearn/datasets/data/digits.csv.gz`` (what ``sklearn.datasets.load_digits``
reads): 1,797 rows of 64 values in 0..16 (on-pixel counts of 4×4 blocks of a 32×32 bitmap) and
a label. The asset keeps those raw values (uint8 N×8×8, 0..16); upsampling to MNIST's 28×28 is
done at load time by ``genbench.data.unpaired_digits``. The split is stratified and fixed here,
once: per class a seeded permutation (legacy ``RandomState``, frozen stream) gives 20 % test
(rounded), 10 % val and the rest train; each split is then shuffled with the same generator.
Written with fixed zip timestamps, so re-running reproduces the file byte for byte; the printed
sha256 goes into ``genbench/assets/SHA256SUMS`` and ``genbench.data.unpaired_digits``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_mnist5k import write_reproducible_npz  # noqa: E402  (the one reproducible-npz writer)

SEED = 0
FRACTIONS = {"test": 0.2, "val": 0.1}  # the rest is train
REPO = Path(__file__).resolve().parent.parent


def default_csv() -> Path:
    import sklearn  # only this script needs scikit-learn

    return Path(sklearn.__file__).parent / "datasets" / "data" / "digits.csv.gz"


def read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.shape != (1797, 65):
        raise SystemExit(f"{path}: expected 1797 rows of 65 values, got {table.shape}")
    pixels, labels = table[:, :64], table[:, 64]
    if pixels.min() < 0 or pixels.max() > 16 or set(np.unique(labels)) != set(range(10)):
        raise SystemExit(f"{path}: pixel values outside 0..16 or labels outside 0..9")
    return pixels.astype(np.uint8).reshape(-1, 8, 8), labels


def stratified_split(labels: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Row indices of train/val/test: per class a seeded permutation cut by ``FRACTIONS``."""
    rs = np.random.RandomState(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        rows = rows[rs.permutation(len(rows))]
        n_test, n_val = round(FRACTIONS["test"] * len(rows)), round(FRACTIONS["val"] * len(rows))
        parts["test"].append(rows[:n_test])
        parts["val"].append(rows[n_test:n_test + n_val])
        parts["train"].append(rows[n_test + n_val:])
    out = {}
    for name in ("train", "val", "test"):
        rows = np.concatenate(parts[name])
        out[name] = rows[rs.permutation(len(rows))]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=None, help="digits.csv.gz (default: scikit-learn's)")
    parser.add_argument("--out", type=Path, default=REPO / "genbench" / "assets" / "uci_digits.npz")
    args = parser.parse_args()

    csv = args.csv or default_csv()
    images, labels = read_csv(csv)
    splits = stratified_split(labels, SEED)
    arrays = {}
    for name, rows in splits.items():
        arrays[f"x_{name}"] = images[rows]
        arrays[f"y_{name}"] = labels[rows].astype(np.uint8)
        arrays[f"source_row_{name}"] = rows.astype(np.int32)  # row in scikit-learn's csv (provenance)
    write_reproducible_npz(args.out, arrays)

    print(f"source  {csv}")
    print(f"source sha256  {hashlib.sha256(csv.read_bytes()).hexdigest()}")
    for name, rows in splits.items():
        print(f"{name:5s} {len(rows)} images, per class {np.bincount(labels[rows], minlength=10).tolist()}")
    print(f"wrote   {args.out} ({args.out.stat().st_size} bytes)")
    print(f"sha256  {hashlib.sha256(args.out.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
