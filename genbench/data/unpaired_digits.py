"""Unpaired digit domains for CycleGAN: ``mnist-mnistm`` and ``mnist-uci``.

Each split holds two domains read as independent streams (``Split(paired=False)``): domain A
(MNIST) in ``inputs`` with its classes in ``input_labels``, domain B in ``samples`` with its
classes in ``labels``. The classes are never used for training, only to score translation
accuracy (a translated digit should keep its class). The two domains of a split always come from
*disjoint* source digits, so no digit is seen in both domains.

- ``mnist-mnistm`` (the MNIST → MNIST-M task of Ganin & Lempitsky 2015, offline): each mnist-5k
  split is cut in two halves by a seeded permutation. A = the first half as 3-channel grey
  (the grey value repeated in R, G, B, so both domains are RGB and CycleGAN's identity loss
  applies); B = the second half blended over random 28×28 patches of the shipped *train* photos
  (``genbench.data.photos.TRAIN``, for every split: the backgrounds are not the content, the
  digits are) with MNIST-M's recipe ``|patch − digit|`` per channel. The commonly used MNIST-M
  script binarises the digit first; we keep its grey levels so stroke edges stay anti-aliased.
- ``mnist-uci`` (the offline stand-in for MNIST ↔ USPS): A = mnist-5k's split (1 channel);
  B = the 1,797 UCI hand-written digits (Alpaydin & Kaynak; scikit-learn's ``load_digits``,
  frozen into ``genbench/assets/uci_digits.npz`` by ``scripts/make_uci_digits.py``, its split
  fixed there), scaled from 0..16 to 0..255, upsampled 8×8 → 20×20 with MATLAB-exact bicubic
  ``imresize`` (×2.5) and padded by 4 pixels per side to 28×28, as MNIST fits its digits in a
  20×20 box inside 28×28 (MNIST centres that box by the centre of mass; the UCI digits fill
  their box, so we centre the box itself). The sources are different people's handwriting.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from genbench.data.dataset import SPLITS, Dataset, Split, Task, compute_fingerprint
from genbench.errors import GenbenchError
from genbench.hashing import sha256_file

MNISTM_NAME = "mnist-mnistm"
UCI_NAME = "mnist-uci"
SEED = 0
SPLIT_OFFSETS = {"train": 0, "val": 1, "test": 2}  # one independent random stream per split
TASK = Task("unpaired", classifier="mnist-classifier")
# mnist-classifier reads a 3-channel image as three stacked digits (stacked MNIST's 1000 classes),
# so it cannot say which digit an MNIST-M-like colour image shows: mnist-mnistm is scored without a
# task classifier (FID and cycle PSNR only) until a colour-digit classifier exists.
MNISTM_TASK = Task("unpaired", classifier=None)

UCI_ASSET_PATH = Path(__file__).resolve().parent.parent / "assets" / "uci_digits.npz"
UCI_ASSET_SHA256 = "2bd258d4e6ab184044e64fce43f8d1ef33766082f52f7adfd410273c959c6286"
UCI_SIZES = {"train": 1259, "val": 179, "test": 359}
UCI_LICENCE = ("UCI ML hand-written digits (E. Alpaydin, C. Kaynak, 1998; UCI Machine Learning Repository, "
               "CC BY 4.0), as shipped by scikit-learn's load_digits")
UCI_BOX, MNIST_SIZE = 20, 28  # MNIST fits a digit in a 20×20 box centred in 28×28


def split_in_halves(n: int, rs: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint index sets (⌊n/2⌋ and the rest) from one seeded permutation."""
    perm = rs.permutation(n)
    return perm[: n // 2], perm[n // 2:]


def blend_over_photos(digits: np.ndarray, photos: list[np.ndarray], rs: np.random.RandomState) -> np.ndarray:
    """MNIST-M's recipe: each grey digit (uint8 N×1×H×W) over a random H×W patch of a random
    photo (uint8 h×w×3), as ``|patch − digit|`` per channel → uint8 N×3×H×W."""
    n, _, h, w = digits.shape
    out = np.empty((n, 3, h, w), dtype=np.uint8)
    which = rs.randint(len(photos), size=n)
    for i in range(n):
        photo = photos[which[i]]
        top, left = rs.randint(photo.shape[0] - h + 1), rs.randint(photo.shape[1] - w + 1)
        patch = photo[top:top + h, left:left + w].transpose(2, 0, 1).astype(np.int16)
        out[i] = np.abs(patch - digits[i].astype(np.int16)).astype(np.uint8)
    return out


def build_mnist_mnistm(mnist: Dataset | None = None, seed: int = SEED) -> Dataset:
    """A = half of each mnist-5k split as 3-channel grey, B = the other half over photo patches."""
    from genbench.data.mnist5k import load_mnist5k
    from genbench.data.photos import TRAIN, credits, load_photos

    mnist = mnist or load_mnist5k()
    photos = list(load_photos(TRAIN).values())
    splits = {}
    for name in SPLITS:
        part = mnist.split(name)
        rs = np.random.RandomState(seed * 1000 + SPLIT_OFFSETS[name])
        a, b = split_in_halves(len(part), rs)
        splits[name] = Split(
            samples=blend_over_photos(part.samples[b], photos, rs), labels=part.labels[b].astype(np.int64),
            inputs=np.repeat(part.samples[a], 3, axis=1), input_labels=part.labels[a].astype(np.int64),
            paired=False,
        )
    return Dataset(
        name=MNISTM_NAME, kind="image", splits=splits, fingerprint=compute_fingerprint(MNISTM_NAME, splits),
        n_classes=10, task=MNISTM_TASK,
        source=(f"domain A: half of each split of {mnist.fingerprint.short} as 3-channel grey; domain B: the "
                f"other half blended as |patch − digit| over random 28×28 patches of the train photos "
                f"({', '.join(TRAIN)}) (seed {seed}); {mnist.source}; photos: {credits()}"),
    )


def load_uci_digits(asset_path: str | Path | None = None,
                    expected_sha256: str | None = UCI_ASSET_SHA256) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The frozen UCI digits by split: (uint8 N×8×8 in 0..16, int64 labels), sha256 checked."""
    path = Path(asset_path) if asset_path is not None else UCI_ASSET_PATH
    if not path.is_file():
        raise GenbenchError(f"the UCI digits asset {path} is missing: the genbench installation is incomplete "
                            "(reinstall, or regenerate it with scripts/make_uci_digits.py)")
    actual = sha256_file(path)
    if expected_sha256 is not None and actual != expected_sha256:
        raise GenbenchError(f"the UCI digits asset {path} has sha256 {actual}, expected {expected_sha256}: the file "
                            "is corrupt or was modified (reinstall genbench, or regenerate it with "
                            "scripts/make_uci_digits.py)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise GenbenchError(f"cannot read the UCI digits asset {path}: {exc}") from exc
    out = {}
    for name, size in UCI_SIZES.items():
        x, y = arrays.get(f"x_{name}"), arrays.get(f"y_{name}")
        if x is None or y is None or x.shape != (size, 8, 8) or x.dtype != np.uint8 or y.shape != (size,) \
                or x.max() > 16:
            raise GenbenchError(f"the UCI digits asset {path} has no valid split {name!r} "
                                f"(expected x_{name}: ({size}, 8, 8) uint8 in 0..16 and y_{name})")
        out[name] = (x, y.astype(np.int64))
    return out


def uci_to_mnist_frame(digits: np.ndarray) -> np.ndarray:
    """UCI 8×8 digits (0..16) → uint8 N×1×28×28 like MNIST: 0..255, bicubic ×2.5 to 20×20, padded."""
    from genbench.imaging.resize import imresize

    grey = np.round(digits.astype(np.float64) * (255.0 / 16.0)).astype(np.uint8)[:, None]
    box = imresize(grey, UCI_BOX / 8)
    pad = (MNIST_SIZE - UCI_BOX) // 2
    return np.pad(box, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def build_mnist_uci(mnist: Dataset | None = None, uci: dict | None = None) -> Dataset:
    """A = mnist-5k's split, B = the UCI digits of the same split in MNIST's frame."""
    from genbench.data.mnist5k import load_mnist5k

    mnist = mnist or load_mnist5k()
    uci = uci or load_uci_digits()
    splits = {}
    for name in SPLITS:
        part = mnist.split(name)
        x, y = uci[name]
        splits[name] = Split(samples=uci_to_mnist_frame(x), labels=y, inputs=part.samples.copy(),
                             input_labels=part.labels.astype(np.int64), paired=False)
    return Dataset(
        name=UCI_NAME, kind="image", splits=splits, fingerprint=compute_fingerprint(UCI_NAME, splits),
        n_classes=10, task=TASK,
        source=(f"domain A: {mnist.fingerprint.short} ({mnist.source}); domain B: {UCI_ASSET_PATH.name} "
                f"(sha256 {UCI_ASSET_SHA256[:16]}…), 0..16 → 0..255, bicubic ×2.5 to 20×20, padded to 28×28; "
                f"{UCI_LICENCE}"),
    )
