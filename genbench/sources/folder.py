"""A folder of PNG/JPEG images, read recursively in sorted order.

Channels: if every image is greyscale the folder gives 1-channel images; if any image is in
colour, every image is converted to RGB (greyscale ones replicated to three channels, alpha
dropped). Sizes: all images must have the same size unless ``resize=(H, W)`` is given, in
which case each is resized with PIL's bicubic filter. Files are read in the order of their
relative paths, so the same folder always gives the same samples in the same order.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Iterator

import numpy as np

from genbench.errors import GenbenchError
from genbench.sources.base import SampleSource, check_count

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
GREY_MODES = {"1", "L", "LA", "La"}
COLOUR_MODES = {"P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"}


def list_images(folder: Path) -> list[Path]:
    files = [p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


class ImageFolderSource(SampleSource):
    def __init__(self, folder: str | Path, *, resize: tuple[int, int] | None = None):
        from PIL import Image, UnidentifiedImageError

        self.folder = Path(folder)
        self.files = list_images(self.folder)
        if not self.files:
            raise GenbenchError(
                f"{self.folder}: no PNG or JPEG images found (searched recursively for "
                f"{', '.join(IMAGE_SUFFIXES)}); a genbench checkpoint folder needs config.json "
                "and model.safetensors"
            )
        self.resize = resize
        sizes: dict[tuple[int, int], Path] = {}
        any_colour = False
        from tqdm.auto import tqdm

        # Headers only: cheap, and every problem is found before any work. (Bar only on a terminal.)
        for path in tqdm(self.files, desc="checking images", unit="file", leave=False, disable=None,
                         mininterval=1.0):
            try:
                with Image.open(path) as im:
                    mode, (w, h) = im.mode, im.size
            except (UnidentifiedImageError, OSError) as exc:
                raise GenbenchError(f"{path}: not a readable image ({exc})") from exc
            if mode not in GREY_MODES | COLOUR_MODES:
                raise GenbenchError(
                    f"{path}: image mode {mode!r} (16-bit or floating point) is not supported; "
                    "save 8-bit greyscale or RGB images"
                )
            any_colour |= mode in COLOUR_MODES
            sizes.setdefault((h, w), path)
            if resize is None and len(sizes) > 1:
                (h0, w0), first = next(iter(sizes.items()))
                raise GenbenchError(
                    f"{self.folder}: images have different sizes: {first} is {h0}×{w0} (H×W) but "
                    f"{path} is {h}×{w}; resize them all to one size with resize=(H, W) "
                    "(on the command line --resize HxW)"
                )
        self.channels = 3 if any_colour else 1
        self.pil_mode = "RGB" if any_colour else "L"
        self.size = resize if resize is not None else next(iter(sizes))
        self._sha256: str | None = None
        log.info("%s: %d images, %d channel(s), %dx%d", self.folder, len(self.files), self.channels, *self.size)

    @property
    def kind(self):
        return "image"

    @property
    def n_available(self) -> int:
        return len(self.files)

    @property
    def image_shape(self):
        return (self.channels, *self.size)

    def _load(self, path: Path) -> np.ndarray:
        from PIL import Image

        with Image.open(path) as im:
            im = im.convert(self.pil_mode)
            if self.resize is not None and (im.height, im.width) != tuple(self.resize):
                im = im.resize((self.resize[1], self.resize[0]), Image.BICUBIC)
            arr = np.asarray(im, dtype=np.uint8)
        return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)

    def batches(self, n: int, batch_size: int = 250, seed: int = 0) -> Iterator[np.ndarray]:
        n, batch_size = check_count(n, batch_size, self.n_available, str(self.folder))
        for start in range(0, n, batch_size):
            yield np.stack([self._load(p) for p in self.files[start : min(start + batch_size, n)]])

    def sha256(self) -> str:
        """Content hash over every file's relative path and bytes (computed once, on demand)."""
        if self._sha256 is None:
            h = hashlib.sha256()
            from tqdm.auto import tqdm

            for path in tqdm(self.files, desc="hashing images", unit="file", leave=False, disable=None,
                             mininterval=1.0):
                h.update(path.relative_to(self.folder).as_posix().encode() + b"\0")
                h.update(hashlib.sha256(path.read_bytes()).digest())
            self._sha256 = h.hexdigest()
        return self._sha256

    def describe(self) -> dict:
        return {
            "type": "image-folder",
            "path": str(self.folder.resolve()),
            "kind": "image",
            "n_available": self.n_available,
            "sha256": self.sha256(),
            "channels": self.channels,
            "image_size": list(self.size),
            "resize": list(self.resize) if self.resize else None,
            "order": "sorted relative paths",
        }
