"""Super-resolution datasets: high-resolution targets with their MATLAB-bicubic low-resolution inputs.

The SR literature makes its inputs with MATLAB's antialiased bicubic ``imresize`` and rounds
them to uint8, so both datasets do exactly that (``genbench.imaging.resize.imresize``): every
input is ``imresize(target, 1/scale)`` of its own target, bit for bit.

- ``photos-sr4`` (×4) is built from the shipped photos (``genbench.data.photos``). ``train`` is a
  FIXED pool of ``POOL_SIZE`` random 96×96 patches (the paper's HR patch size; 24×24 inputs), cut
  with a fixed seed from the six training photos other than ``VAL_PHOTO``. SRGAN draws fresh random
  crops every step; genbench's training loop is stateless (a step's minibatch is a function of the
  seed and the step), so it needs a fixed array, and a pool this size is what it gets. ``val`` is
  ``VAL_PHOTO`` whole (a training-set photo held out of the pool) and ``test`` the three test
  photos whole (288×288 targets, 72×72 inputs), so no test pixel is ever trained on.
- ``mnist-sr2`` (×2) pairs each ``mnist-5k`` digit (28×28, labels kept) with its 14×14 input.

288 and 28 are multiples of the scales, so no trimming is needed.
"""

from __future__ import annotations

import numpy as np

from genbench.data import photos
from genbench.data.dataset import Dataset, Split, Task, compute_fingerprint
from genbench.imaging.resize import imresize

PHOTOS_NAME = "photos-sr4"
MNIST_NAME = "mnist-sr2"
PHOTOS_SCALE = 4
MNIST_SCALE = 2
PATCH = 96  # HR patch side (Ledig et al. 2017 train on 96×96 HR sub-images)
POOL_SIZE = 1800  # 300 patches from each of the six pool photos
VAL_PHOTO = "chelsea"
POOL_PHOTOS = tuple(n for n in photos.TRAIN if n != VAL_PHOTO)
PATCH_SEED = 20170000  # fixed: the pool (and so the fingerprint) never changes between loads
_CHUNK = 200  # patches resized at once (imresize works in float64: bounds the memory)


def downscale(hr: np.ndarray, scale: int) -> np.ndarray:
    """uint8 N×C×H×W targets → their uint8 inputs, MATLAB bicubic by 1/``scale``."""
    return np.concatenate([imresize(hr[i:i + _CHUNK], 1 / scale) for i in range(0, len(hr), _CHUNK)])


def _chw(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image.transpose(2, 0, 1))


def _pair(hr: np.ndarray, scale: int, labels: np.ndarray | None = None) -> Split:
    return Split(samples=hr, labels=labels, inputs=downscale(hr, scale), paired=True)


def patch_pool(images: dict[str, np.ndarray], per_photo: int, size: int, seed: int) -> np.ndarray:
    """``per_photo`` random ``size``×``size`` crops of each H×W×3 image (in the order given), N×3×size×size."""
    rng = np.random.default_rng(seed)
    out = []
    for name in images:
        img = images[name]
        h, w = img.shape[:2]
        tops = rng.integers(0, h - size + 1, per_photo)
        lefts = rng.integers(0, w - size + 1, per_photo)
        out.extend(_chw(img[t:t + size, l:l + size]) for t, l in zip(tops, lefts))
    return np.stack(out)


def photos_train_val(scale: int) -> tuple[Split, Split]:
    """photos-sr4's train pool and val photo, with inputs at ×1/``scale`` (an SR test folder's
    training data: ``srN:PATH``); 96 and 288 are multiples of 2, 3 and 4."""
    pool_photos = photos.load_photos(POOL_PHOTOS)
    train_hr = patch_pool(pool_photos, POOL_SIZE // len(POOL_PHOTOS), PATCH, PATCH_SEED)
    val_hr = _chw(photos.load_photo(VAL_PHOTO))[None]
    return _pair(train_hr, scale), _pair(val_hr, scale)


def train_val_source() -> str:
    return (f"train: {POOL_SIZE} random {PATCH}×{PATCH} patches (seed {PATCH_SEED}) of {', '.join(POOL_PHOTOS)}; "
            f"val: {VAL_PHOTO}")


def load_photos_sr4() -> Dataset:
    train, val = photos_train_val(PHOTOS_SCALE)
    test_hr = np.stack([_chw(img) for img in photos.load_photos(photos.TEST).values()])
    splits = {"train": train, "val": val, "test": _pair(test_hr, PHOTOS_SCALE)}
    return Dataset(
        name=PHOTOS_NAME, kind="image", splits=splits, fingerprint=compute_fingerprint(PHOTOS_NAME, splits),
        task=Task("sr", scale=PHOTOS_SCALE),
        source=(f"genbench's shipped photos, ×{PHOTOS_SCALE} MATLAB-bicubic inputs; {train_val_source()}; "
                f"test: {', '.join(photos.TEST)}. Credits: {photos.credits()}"),
    )


def load_mnist_sr2() -> Dataset:
    from genbench.data.mnist5k import load_mnist5k

    digits = load_mnist5k()
    splits = {name: _pair(split.samples, MNIST_SCALE, split.labels) for name, split in digits.splits.items()}
    return Dataset(
        name=MNIST_NAME, kind="image", splits=splits, fingerprint=compute_fingerprint(MNIST_NAME, splits),
        n_classes=10, task=Task("sr", scale=MNIST_SCALE, classifier="mnist-classifier"),
        source=f"mnist-5k digits as targets, ×{MNIST_SCALE} MATLAB-bicubic 14×14 inputs; {digits.source}",
    )
