"""Make ``genbench/assets/photos/*.png``: ten real colour photographs that ship inside installed
wheels (scikit-image, scikit-learn, matplotlib), centre-cropped to 288×288 and saved as PNG.

Why a frozen copy: at run time genbench must not depend on those packages (they are dev-only),
and the bytes every number is computed from must not move when a package changes its data.
288 is divisible by 2, 3 and 4 (every SR scale) and fits the smallest photo (chelsea, 300 px
high). Cropping only, no resampling: super-resolution is measured on native pixels.

Run: ``python scripts/make_photos.py`` (needs scikit-image, scikit-learn, matplotlib, Pillow);
then update ``genbench/assets/SHA256SUMS`` and ``genbench/data/photos.py`` with the printed sums.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from PIL import Image

SIZE = 288
OUT = Path(__file__).resolve().parent.parent / "genbench" / "assets" / "photos"


def _sources() -> dict[str, Path]:
    import matplotlib
    import skimage
    import sklearn.datasets

    sk = Path(skimage.__file__).parent / "data"
    sl = Path(sklearn.datasets.__file__).parent / "images"
    mpl = Path(matplotlib.__file__).parent / "mpl-data" / "sample_data"
    return {
        "astronaut": sk / "astronaut.png",
        "chelsea": sk / "chelsea.png",
        "coffee": sk / "coffee.png",
        "hubble": sk / "hubble_deep_field.jpg",
        "ihc": sk / "ihc.png",
        "retina": sk / "retina.jpg",
        "rocket": sk / "rocket.jpg",
        "china": sl / "china.jpg",
        "flower": sl / "flower.jpg",
        "grace_hopper": mpl / "grace_hopper.jpg",
    }


def centre_crop(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    top, left = (h - size) // 2, (w - size) // 2
    return img[top:top + size, left:left + size]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, path in _sources().items():
        img = np.asarray(Image.open(path).convert("RGB"))
        crop = centre_crop(img, SIZE)
        assert crop.shape == (SIZE, SIZE, 3), (name, img.shape)
        target = OUT / f"{name}.png"
        Image.fromarray(crop).save(target, format="PNG", optimize=True)
        digest = hashlib.sha256(target.read_bytes()).hexdigest()
        print(f"{digest}  photos/{name}.png  ({os.path.getsize(target)} bytes, from {path.name} {img.shape})")


if __name__ == "__main__":
    main()
