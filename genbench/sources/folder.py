"""A folder of images, read recursively in sorted order.

The file types are pytorch-fid's nine (bmp, jpg, jpeg, pgm, png, ppm, tif, tiff, webp). Unlike
pytorch-fid, which reads only the folder's top level and only lower-case suffixes, genbench
also reads subfolders and upper-case suffixes; on a flat folder both read the same files in the
same order. Other files are skipped with one warning (count and an example) and recorded in
``describe()``: a silently skipped image would change the score without anyone knowing.

Every file is checked before any work: its header (mode, size) and, through PIL's ``verify()``,
its integrity (a PNG's CRCs, a truncated file), so a corrupt image is a one-line error naming
it. Images over PIL's decompression-bomb limit (``Image.MAX_IMAGE_PIXELS``, about 89
megapixels) are refused rather than decoded, and a batch holds no more images than fit in
``READ_BUDGET_BYTES`` (250 large images in one batch would take tens of GB).

Channels: if every image is greyscale the folder gives 1-channel images; if any image is in
colour, every image is converted to RGB (greyscale ones replicated to three channels, alpha
dropped). Sizes: all images must have the same size unless ``resize=(H, W)`` is given, in
which case each is resized with PIL's bicubic filter. Files are read in the order of their
relative paths, so the same folder always gives the same samples in the same order.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from genbench.errors import GenbenchError
from genbench.hashing import sha256_file
from genbench.sources import base
from genbench.sources.base import SampleSource, check_count

log = logging.getLogger(__name__)

# pytorch-fid's IMAGE_EXTENSIONS (pytorch_fid/fid_score.py), matched case-insensitively.
IMAGE_SUFFIXES = (".bmp", ".jpg", ".jpeg", ".pgm", ".png", ".ppm", ".tif", ".tiff", ".webp")
# What PIL raises for a file it cannot decode: UnidentifiedImageError and truncation are OSError,
# a bad PNG CRC or chunk is SyntaxError, odd headers give ValueError/EOFError, and an image over
# the pixel limit is DecompressionBombError (or the warning, turned into an error here).
_PIL_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError,
               Image.DecompressionBombWarning)
GREY_MODES = {"1", "L", "LA", "La"}
COLOUR_MODES = {"P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"}


def _walk(folder: Path) -> tuple[list[Path], list[Path]]:
    """(image files, other files) under ``folder``, each sorted by relative path."""
    images, others = [], []
    for p in folder.rglob("*"):
        if p.is_file():
            (images if p.suffix.lower() in IMAGE_SUFFIXES else others).append(p)
    key = lambda p: p.relative_to(folder).as_posix()  # noqa: E731
    return sorted(images, key=key), sorted(others, key=key)


def list_images(folder: Path) -> list[Path]:
    return _walk(folder)[0]


def _open_checked(path: Path):
    """``Image.open`` with the decompression-bomb warning as an error: a 90-megapixel image is
    not a generated sample, and decoding a batch of them would exhaust memory."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(path)


def _unreadable(path: Path, exc: BaseException) -> GenbenchError:
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return GenbenchError(
            f"{path}: the image is too large to be a sample (over {Image.MAX_IMAGE_PIXELS} pixels, "
            "PIL's decompression-bomb limit); resize it first"
        )
    return GenbenchError(f"{path}: not a readable image, corrupt or truncated ({type(exc).__name__}: {exc})")


def check_image(path: Path, max_pixels: int | None = None) -> tuple[str, int, int]:
    """``(mode, H, W)`` of an 8-bit image file, read from its header; ``verify()`` then reads the
    whole file (CRCs, truncation) without decoding pixels. Over ``max_pixels`` (or PIL's
    decompression-bomb limit) and unsupported modes are errors naming the file."""
    try:
        with _open_checked(path) as im:
            mode, (w, h) = im.mode, im.size
            if max_pixels is not None and w * h > max_pixels:
                raise GenbenchError(f"{path}: {h}×{w} pixels is more than genbench reads for one image "
                                    f"({max_pixels / 1e6:g} megapixels)")
            im.verify()
    except _PIL_ERRORS as exc:
        raise _unreadable(path, exc) from exc
    if mode not in GREY_MODES | COLOUR_MODES:
        raise GenbenchError(f"{path}: image mode {mode!r} (16-bit or floating point) is not supported; "
                            "save 8-bit greyscale or RGB images")
    return mode, h, w


class ImageFolderSource(SampleSource):
    def __init__(self, folder: str | Path, *, resize: tuple[int, int] | None = None):
        self.folder = Path(folder)
        self.files, skipped = _walk(self.folder)
        if not self.files:
            raise GenbenchError(
                f"{self.folder}: no images found (searched recursively for "
                f"{', '.join(IMAGE_SUFFIXES)}); a genbench checkpoint folder needs config.json "
                "and model.safetensors"
            )
        self.skipped = None  # recorded in describe(): the protocol says what was left out
        if skipped:
            self.skipped = {"count": len(skipped), "example": skipped[0].relative_to(self.folder).as_posix()}
            log.warning("%s: skipped %d file(s) that are not images (%s), e.g. %s", self.folder, len(skipped),
                        "/".join(s.lstrip(".") for s in IMAGE_SUFFIXES), self.skipped["example"])
        self.resize = resize
        sizes: dict[tuple[int, int], Path] = {}
        any_colour = False
        max_pixels = 0

        # Every problem is found before any work: the header, then verify() reads the whole file
        # (CRCs, truncation) without decoding pixels. (Bar only on a terminal.)
        for path in tqdm(self.files, desc="checking images", unit="file", leave=False, disable=None,
                         mininterval=1.0):
            mode, h, w = check_image(path)
            any_colour |= mode in COLOUR_MODES
            sizes.setdefault((h, w), path)
            max_pixels = max(max_pixels, h * w)
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
        # Images per read within the byte budget: each decoded (up to 4 bytes a pixel) and stacked.
        out = self.channels * self.size[0] * self.size[1]
        self._images_per_read = max(1, base.READ_BUDGET_BYTES // (4 * max_pixels + 2 * out))
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
        try:  # verify() does not decode pixels: a bad JPEG/WebP stream or a file changed since shows here
            with _open_checked(path) as im:
                im = im.convert(self.pil_mode)
                if self.resize is not None and (im.height, im.width) != tuple(self.resize):
                    im = im.resize((self.resize[1], self.resize[0]), Image.BICUBIC)
                arr = np.asarray(im, dtype=np.uint8)
        except _PIL_ERRORS as exc:
            raise _unreadable(path, exc) from exc
        return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)

    def batches(self, n: int, batch_size: int = 250, seed: int = 0) -> Iterator[np.ndarray]:
        n, batch_size = check_count(n, batch_size, self.n_available, str(self.folder))
        step = min(batch_size, self._images_per_read)
        for start in range(0, n, step):
            yield np.stack([self._load(p) for p in self.files[start : min(start + step, n)]])

    def sha256(self) -> str:
        """Content hash over every file's relative path and bytes (computed once, on demand)."""
        if self._sha256 is None:
            h = hashlib.sha256()
            for path in tqdm(self.files, desc="hashing images", unit="file", leave=False, disable=None,
                             mininterval=1.0):
                h.update(path.relative_to(self.folder).as_posix().encode() + b"\0")
                h.update(bytes.fromhex(sha256_file(path)))
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
            "files": "recursive; suffixes " + ", ".join(IMAGE_SUFFIXES) + " (any case)",
            "skipped_files": self.skipped,
        }


# Paired evaluation reads images of any size one at a time (SR test sets: Set5, BSD100, DIV2K);
# 36 megapixels admits 8K frames and refuses what would take gigabytes once scored in float64.
MAX_PAIR_PIXELS = 36_000_000


def read_image(path: str | Path, max_pixels: int | None = None) -> np.ndarray:
    """One 8-bit image as uint8 C×H×W in its own channels (greyscale → 1, colour → 3, alpha
    dropped), its size checked against ``max_pixels`` before any pixel is decoded."""
    path = Path(path)
    max_pixels = MAX_PAIR_PIXELS if max_pixels is None else max_pixels
    try:
        with _open_checked(path) as im:
            w, h = im.size
            if w * h > max_pixels:
                raise GenbenchError(f"{path}: {h}×{w} pixels is more than genbench reads for one image "
                                    f"({max_pixels / 1e6:g} megapixels)")
            if im.mode not in GREY_MODES | COLOUR_MODES:
                raise GenbenchError(f"{path}: image mode {im.mode!r} (16-bit or floating point) is not supported; "
                                    "save 8-bit greyscale or RGB images")
            arr = np.asarray(im.convert("L" if im.mode in GREY_MODES else "RGB"), dtype=np.uint8)
    except _PIL_ERRORS as exc:
        raise _unreadable(path, exc) from exc
    return arr[None] if arr.ndim == 2 else np.ascontiguousarray(arr.transpose(2, 0, 1))
