"""The real photographs genbench ships (``genbench/assets/photos``): ten colour photos taken
from the data folders of scikit-image, scikit-learn and matplotlib, centre-cropped to 288×288 by
``scripts/make_photos.py``. Super-resolution datasets and the MNIST-M-like domain are built
from them. Every file's sha256 is checked on load: a changed photo would move every SR figure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genbench.errors import GenbenchError
from genbench.hashing import sha256_file

ASSET_DIR = Path(__file__).resolve().parent.parent / "assets" / "photos"
SIZE = 288

# name → (sha256 of the PNG, credit and licence)
PHOTOS: dict[str, tuple[str, str]] = {
    "astronaut": ("0badc6ec46186df46fd8c1d1f2e64ecc58002cc8c0064eddc72a058dff78e800",
                  "Eileen Collins, NASA (via scikit-image); public domain"),
    "chelsea": ("43f14d5c40fb6da265eb70d3ff57c51d6bfed81834a9abe965f40a27200a6d09",
                "Stefan van der Walt (via scikit-image); CC0"),
    "coffee": ("4a272f1df5921fe89f9ed8060183e9fe0cbcd561807a90e2e8a6ca0761bfdd16",
               "Rachel Michetti, courtesy of Pikolo Espresso Bar (via scikit-image); CC0"),
    "hubble": ("8b808cc69df8b19d6b9b1c4bc824a724403894ab3f7d2d407a468a0c08ca5084",
               "Hubble eXtreme Deep Field, NASA (via scikit-image); public domain"),
    "ihc": ("0aeb3cfbeb31428bd03e236b23b754201709fe603fd49e624d7ea8dc34fb0fc2",
            "immunohistochemistry sample (via scikit-image); no known copyright restrictions"),
    "retina": ("ad0dfda33fb395727367f86ae8f72e06c640a1dcc0e6701d59b016bc976b9697",
               "fundus photograph, Mikael Häggström, Wikimedia (via scikit-image); CC0 1.0"),
    "rocket": ("a14414d67428c73a50a4d2f0b7cf921e6772b076b5506b552bc48415482272d3",
               "DSCOVR launch on Falcon 9, SpaceX (via scikit-image); public domain"),
    "china": ("c2d7094fcfdcf90c7429350203ebceddd105ff0fd23ae560e16f7e56d7303a70",
              "danielbuechele, Flickr (via scikit-learn); CC BY 2.0"),
    "flower": ("dc82d92e3808d27735d5a4fc5b3bf012c5badb64af5f45bd866432e2cb24ef29",
               "vultilion, Flickr (via scikit-learn); CC BY 2.0"),
    "grace_hopper": ("19e0f076d8f9194448c22a1649f903e2ce7780ddc06ba5e3b04f4bbc7d9c4402",
                     "Grace Hopper, U.S. Navy (via matplotlib); public domain"),
}
# The fixed split: three photos are never trained on.
TEST = ("astronaut", "coffee", "grace_hopper")
TRAIN = tuple(n for n in PHOTOS if n not in TEST)


def load_photo(name: str, asset_dir: str | Path | None = None) -> np.ndarray:
    """One photo as uint8 H×W×3, its sha256 checked."""
    from PIL import Image

    if name not in PHOTOS:
        raise GenbenchError(f"unknown photo {name!r}; shipped: {', '.join(PHOTOS)}")
    path = Path(asset_dir or ASSET_DIR) / f"{name}.png"
    if not path.is_file():
        raise GenbenchError(f"the photo asset {path} is missing: the genbench installation is incomplete "
                            "(reinstall, or regenerate it with scripts/make_photos.py)")
    expected, _ = PHOTOS[name]
    actual = sha256_file(path)
    if actual != expected:
        raise GenbenchError(f"the photo asset {path} has sha256 {actual}, expected {expected}: the file is corrupt "
                            "or was modified (reinstall genbench, or regenerate it with scripts/make_photos.py)")
    with Image.open(path) as im:
        arr = np.asarray(im.convert("RGB"), dtype=np.uint8)
    if arr.shape != (SIZE, SIZE, 3):
        raise GenbenchError(f"the photo asset {path} has shape {arr.shape}, expected ({SIZE}, {SIZE}, 3)")
    return arr


def load_photos(names=None) -> dict[str, np.ndarray]:
    """Photos by name (all ten by default), uint8 H×W×3 each."""
    return {n: load_photo(n) for n in (names or PHOTOS)}


def credits() -> str:
    """One line per photo: what the dataset's ``source`` records."""
    return "; ".join(f"{n}: {c}" for n, (_, c) in PHOTOS.items())
