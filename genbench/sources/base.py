"""What every sample source has in common: turning whatever the user has into contract form.

Contract form is what the rest of genbench consumes: ``uint8`` images ``N×C×H×W`` (C = 1 or
3), ``float32`` 2-D points ``N×2``, or ``uint8`` voxel occupancy ``N×1×D×H×W`` (0 = empty, 255 =
occupied; a 5-D array is voxels and only ``N×1×D×H×W`` is accepted). Converting is where silent mistakes happen (a float
array in [-1, 1] read as [0, 1], an ``N×H×W×C`` array read as ``N×C×H×W``), so this module
refuses to guess: ambiguous layouts and float images without a declared range are errors.
"""

from __future__ import annotations

import logging
import math
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Iterator, Literal

import numpy as np

from genbench.errors import GenbenchError
from genbench.hashing import sha256_file  # noqa: F401  (re-exported: sources and evaluate use it from here)

log = logging.getLogger(__name__)

ValueRange = tuple[float, float]
VALUE_RANGES: tuple[ValueRange, ...] = ((0.0, 1.0), (-1.0, 1.0))
Kind = Literal["image", "points", "voxels"]

# A float image whose values leave the declared range by more than this fraction of the range's
# width was almost certainly given the wrong range (e.g. [-1, 1] data declared as [0, 1], or
# 0..255 data declared as [0, 1]); small overshoots (a generator without a final tanh) are
# clipped, exactly as saving to PNG would.
_RANGE_OVERSHOOT_LIMIT = 0.25
# The reverse mistake, [0, 1] data declared as [-1, 1], stays inside the range, so it cannot be an
# error; when this many float samples never went below 0 it is a warning (stored in the result).
# [-1, 1] generators put their background at -1, so a real one goes below 0 within a few samples.
_RANGE_WARNING_MIN_SAMPLES = 10


def parse_value_range(value_range) -> ValueRange | None:
    """``None``, ``(0, 1)``, ``(-1, 1)`` or the strings ``"0,1"`` / ``"-1,1"`` → a tuple."""
    if value_range is None:
        return None
    if isinstance(value_range, str):
        parts = value_range.replace(" ", "").split(",")
        try:
            value_range = tuple(float(p) for p in parts)
        except ValueError:
            value_range = None
    try:
        vr = (float(value_range[0]), float(value_range[1]))
        if len(value_range) != 2:
            raise TypeError
    except (TypeError, IndexError, ValueError):
        vr = None
    if vr not in VALUE_RANGES:
        raise GenbenchError(
            f"value range {value_range!r} is not supported: use (0, 1) or (-1, 1) "
            "(on the command line --range 0,1 or --range -1,1)"
        )
    return vr


# The largest resize target: a 4096×4096 RGB image is 50 MB, already far beyond what any feature
# extractor looks at (Inception resizes to 299×299); `--resize 100000x100000` would ask for 30 GB
# per image.
MAX_RESIZE_SIDE = 4096


def parse_resize(resize) -> tuple[int, int] | None:
    """``None``, ``(H, W)`` or ``"HxW"`` → ``(H, W)``, each side at most :data:`MAX_RESIZE_SIDE`."""
    if resize is None:
        return None
    try:
        if isinstance(resize, str):
            h, w = resize.lower().split("x")
            size = (int(h), int(w))
        else:
            size = (int(resize[0]), int(resize[1]))
            if len(resize) != 2:
                raise ValueError
    except (TypeError, ValueError, IndexError):
        raise GenbenchError(f"resize {resize!r} is not a size: give (H, W), on the command line HxW (e.g. 28x28)")
    if min(size) < 1:
        raise GenbenchError(f"resize {resize!r}: height and width must be positive")
    if max(size) > MAX_RESIZE_SIDE:
        raise GenbenchError(
            f"resize {resize!r}: at most {MAX_RESIZE_SIDE}x{MAX_RESIZE_SIDE} (larger images only cost memory: "
            "feature extractors work at 299×299 or less)"
        )
    return size


@dataclass(frozen=True)
class Layout:
    """How a raw array's axes map to contract form."""

    name: Literal["NHW", "NCHW", "NHWC", "points", "NCDHW"]

    @property
    def kind(self) -> Kind:
        return {"points": "points", "NCDHW": "voxels"}.get(self.name, "image")


def detect_layout(shape: tuple[int, ...], dtype: np.dtype, where: str) -> Layout:
    """Decide the axis layout from a shape, or raise an error that tells the user what to do.

    ``N×2`` floats are points; 3-D arrays are grayscale ``N×H×W``; 4-D arrays are ``N×C×H×W``
    or ``N×H×W×C`` with C ∈ {1, 3}, decided by which axis can be the channel axis. When both
    can (e.g. ``N×3×32×3``) we stop rather than guess.
    """
    shape = tuple(int(s) for s in shape)
    is_float = np.issubdtype(dtype, np.floating)
    if len(shape) == 2:
        if shape[1] == 2 and is_float:
            return Layout("points")
        if shape[1] == 2:
            raise GenbenchError(
                f"{where}: an N×2 array of {dtype} looks like 2-D points, but points must be floats; "
                "convert it with .astype('float32')"
            )
        raise GenbenchError(
            f"{where}: array of shape {shape} is neither points (N×2 floats) nor images "
            "(N×H×W, N×C×H×W or N×H×W×C); flattened images must be reshaped first"
        )
    if len(shape) == 3:
        if min(shape[1:]) < 2:
            raise GenbenchError(f"{where}: array of shape {shape} is too small to be N×H×W images")
        return Layout("NHW")
    if len(shape) == 4:
        chw = shape[1] in (1, 3)
        hwc = shape[3] in (1, 3)
        if chw and hwc:
            raise GenbenchError(
                f"{where}: cannot tell whether the array of shape {shape} is N×C×H×W or N×H×W×C "
                "(both axis 1 and axis 3 could be colour channels); transpose it to N×C×H×W "
                "with H and W larger than 3, and save it again"
            )
        if chw:
            return Layout("NCHW")
        if hwc:
            return Layout("NHWC")
        raise GenbenchError(
            f"{where}: array of shape {shape} has no channel axis of size 1 or 3 "
            "(expected N×C×H×W or N×H×W×C; RGBA images must have their alpha channel dropped)"
        )
    if len(shape) == 5:
        if shape[1] != 1 or min(shape[2:]) < 2:
            raise GenbenchError(f"{where}: a 5-D array must be voxels N×1×D×H×W (one occupancy channel), got shape {shape}")
        return Layout("NCDHW")
    raise GenbenchError(
        f"{where}: array of shape {shape} is neither points (N×2) nor images (N×H×W, N×C×H×W, N×H×W×C) "
        "nor voxels (N×1×D×H×W)"
    )


def quantize(x: np.ndarray, value_range: ValueRange) -> np.ndarray:
    """Float images in ``value_range`` → ``uint8`` exactly as ``torchvision.utils.save_image``
    writes a PNG (with ``normalize=True, value_range=...`` for [-1, 1]): clip to the range, map
    to [0, 1], then ``floor(x * 255 + 0.5)`` (round half up), in the input's float precision
    (float32 unless the input is float64), so the bytes match a PNG saved by torchvision."""
    lo, hi = value_range
    x = np.asarray(x)
    ftype = np.float64 if x.dtype == np.float64 else np.float32
    x = np.clip(x.astype(ftype, copy=False), ftype(lo), ftype(hi))
    if (lo, hi) != (0.0, 1.0):
        x = (x - ftype(lo)) / ftype(hi - lo)
    return np.floor(x * ftype(255) + ftype(0.5)).astype(np.uint8)


class Converter:
    """Turns raw batches of one fixed layout and dtype into contract form, checking each batch."""

    def __init__(self, layout: Layout, dtype: np.dtype, value_range: ValueRange | None,
                 resize: tuple[int, int] | None, where: str):
        self.layout = layout
        self.value_range = value_range
        self.resize = resize
        self.where = where
        self.n_clipped = 0  # float values outside the declared range, clipped when quantising
        self.n_values = 0
        self.n_float_samples = 0
        self.min_value = math.inf  # smallest float value seen, for check_declared_range()
        self._range_warned = False
        dtype = np.dtype(dtype)
        self.is_float = np.issubdtype(dtype, np.floating)
        if layout.kind == "points":
            if value_range is not None:
                raise GenbenchError(
                    f"{where}: these are 2-D points (N×2 floats); a value range applies only to images"
                )
            if resize is not None:
                raise GenbenchError(f"{where}: these are 2-D points (N×2 floats); resize applies only to images")
            return
        if layout.kind == "voxels" and resize is not None:
            raise GenbenchError(f"{where}: these are voxels (N×1×D×H×W); resize applies only to images")
        if self.is_float:
            if value_range is None:
                raise GenbenchError(
                    f"{where}: the images are floating point ({dtype}) and genbench does not guess "
                    "their range; say which it is with value_range=(0, 1) or (-1, 1) "
                    "(on the command line --range 0,1 or --range -1,1)"
                )
        elif dtype == np.bool_ or not np.issubdtype(dtype, np.integer):
            raise GenbenchError(f"{where}: images of dtype {dtype} are not supported: use uint8 (0..255) or floats with a range")
        elif value_range is not None:
            raise GenbenchError(
                f"{where}: the images are integers ({dtype}, 0..255); a value range applies only to "
                "float images: leave it out"
            )

    @property
    def kind(self) -> Kind:
        return self.layout.kind

    def __call__(self, raw) -> np.ndarray:
        x = _to_numpy(raw)
        if x.ndim != {"points": 2, "NHW": 3, "NCDHW": 5}.get(self.layout.name, 4):
            raise GenbenchError(f"{self.where}: batch of shape {x.shape} does not have the layout {self.layout.name} of the first batch")
        if self.layout.kind == "points":
            x = np.asarray(x, dtype=np.float32)
            _check_finite(x, self.where)
            return x
        if self.layout.name == "NHW":
            x = x[:, None]
        elif self.layout.name == "NHWC":
            x = x.transpose(0, 3, 1, 2)
        if self.is_float:
            _check_finite(x, self.where)
            x = self._quantize_checked(x)
        else:
            if x.dtype != np.uint8:
                if x.size and (x.min() < 0 or x.max() > 255):
                    raise GenbenchError(
                        f"{self.where}: integer images must lie in 0..255; found values "
                        f"{x.min()}..{x.max()}"
                    )
            x = np.array(x, dtype=np.uint8, order="C")  # an owned, writable copy (inputs may be read-only memmaps)
        x = np.ascontiguousarray(x)
        if self.resize is not None and tuple(x.shape[2:]) != self.resize:
            x = resize_images(x, self.resize)
        return x

    def _quantize_checked(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self.value_range
        width = hi - lo
        if x.size:
            xmin, xmax = float(x.min()), float(x.max())
            if xmin < lo - _RANGE_OVERSHOOT_LIMIT * width or xmax > hi + _RANGE_OVERSHOOT_LIMIT * width:
                raise GenbenchError(
                    f"{self.where}: the images were declared to be in [{lo:g}, {hi:g}] but hold "
                    f"values from {xmin:.4g} to {xmax:.4g}; give the range they really use "
                    "(--range 0,1 or --range -1,1) or rescale them"
                )
            self.n_clipped += int(np.count_nonzero((x < lo) | (x > hi)))
            self.n_values += int(x.size)
            self.n_float_samples += int(x.shape[0])
            self.min_value = min(self.min_value, xmin)
        return quantize(x, self.value_range)

    def check_declared_range(self) -> None:
        """Called by sources after their last batch: warn (once) when float images declared in
        [-1, 1] never went below 0 over enough samples: they are most likely [0, 1] images, which
        read as [-1, 1] turn into mid-grey-to-white pictures and a wrong score."""
        if (self.value_range == (-1.0, 1.0) and not self._range_warned and self.min_value >= 0
                and self.n_float_samples >= _RANGE_WARNING_MIN_SAMPLES):
            self._range_warned = True
            warnings.warn(
                f"{self.where}: the images were declared to be in [-1, 1] but all {self.n_float_samples} "
                f"samples lie in [0, 1] (smallest value {self.min_value:.4g}); if they are [0, 1] images, "
                "give --range 0,1 (value_range=(0, 1)): read as [-1, 1] they score as washed-out pictures",
                UserWarning, stacklevel=2,
            )

    def describe(self) -> dict:
        d = {"layout": self.layout.name}
        if self.kind in ("image", "voxels"):
            d["value_range"] = list(self.value_range) if self.value_range else None
            d["quantization"] = "floor(clip((x - lo) / (hi - lo), 0, 1) * 255 + 0.5)" if self.is_float else None
            d["resize"] = list(self.resize) if self.resize else None
        return d


def _to_numpy(raw) -> np.ndarray:
    if hasattr(raw, "detach"):  # torch.Tensor, without importing torch for array-only users
        raw = raw.detach().cpu().numpy()
    return np.asarray(raw)


def _check_finite(x: np.ndarray, where: str) -> None:
    if not np.all(np.isfinite(x)):
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise GenbenchError(f"{where}: {bad} value(s) are NaN or infinite")


def resize_images(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize ``uint8`` ``N×C×H×W`` images with PIL's bicubic filter (what clean-fid recommends
    over tensor-library resizing, which aliases)."""
    from PIL import Image

    h, w = size
    out = np.empty((images.shape[0], images.shape[1], h, w), dtype=np.uint8)
    for i, img in enumerate(images):
        if img.shape[0] == 1:
            pil = Image.fromarray(img[0])
            out[i, 0] = np.asarray(pil.resize((w, h), Image.BICUBIC))
        else:
            pil = Image.fromarray(np.ascontiguousarray(img.transpose(1, 2, 0)))
            out[i] = np.asarray(pil.resize((w, h), Image.BICUBIC)).transpose(2, 0, 1)
    return out


# The most bytes one read of samples may take: its raw rows, their float32 working copy
# and the converted (possibly resized) uint8 images are each kept under this. A single sample
# must fit (a 4096×4096 RGB float64 image is 400 MB).
READ_BUDGET_BYTES = 512 << 20


def rows_per_read(sample_shape, dtype, resize, where: str) -> int:
    """How many samples one read may take within :data:`READ_BUDGET_BYTES`: the raw rows, their
    float32 working copy (quantising, range checks) and the uint8 output each fit in it."""
    values = math.prod(int(s) for s in sample_shape)
    raw = values * np.dtype(dtype).itemsize
    if raw > READ_BUDGET_BYTES:
        raise GenbenchError(
            f"{where}: one sample of shape {tuple(sample_shape)} and dtype {dtype} takes {raw:,} bytes, "
            f"more than genbench reads at once ({READ_BUDGET_BYTES >> 20} MiB); samples are images up to "
            "4096×4096 or 2-D points"
        )
    cost = max(raw, 4 * values, 1)
    if resize is not None:  # the resized output, at most 3 channels of uint8
        cost = max(cost, 3 * resize[0] * resize[1])
    return max(1, READ_BUDGET_BYTES // cost)


def check_count(n, batch_size, n_available: int | None, where: str) -> tuple[int, int]:
    """Validate ``batches()`` arguments; asking a finite source for more than it has is an error
    (``evaluate`` clamps beforehand and records a warning, so nothing is silently dropped)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise GenbenchError(f"{where}: number of samples must be a positive integer, got {n!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise GenbenchError(f"{where}: batch size must be a positive integer, got {batch_size!r}")
    if n_available is not None and n > n_available:
        raise GenbenchError(f"{where}: {n} samples requested but only {n_available} are available")
    return int(n), int(batch_size)


class SampleSource(ABC):
    """Samples in contract form, batch by batch.

    ``kind`` is ``"image"``, ``"points"`` or ``"voxels"``; ``n_available`` is the number of stored samples, or
    None for generators (which can make any number). ``batches(n, batch_size, seed)`` yields
    contract-form batches of at most ``batch_size`` and ``n`` samples in total; stored samples
    are taken in order (the first ``n``; the seed is not used), generators draw their latents
    from ``seed`` so the same seed gives the same samples. ``describe()`` is the provenance
    recorded with every result.
    """

    @property
    @abstractmethod
    def kind(self) -> Kind: ...

    @property
    @abstractmethod
    def n_available(self) -> int | None: ...

    @abstractmethod
    def batches(self, n: int, batch_size: int = 250, seed: int = 0) -> Iterator[np.ndarray]: ...

    @abstractmethod
    def describe(self) -> dict: ...

    @property
    def image_shape(self) -> tuple[int, int, int] | None:
        """``(C, H, W)`` of the images, None for points."""
        return None

    def __repr__(self) -> str:
        d = self.describe()
        return f"<{type(self).__name__} {d.get('path') or d.get('entry_point') or d.get('type')}>"


class ModelSource(SampleSource):
    """A source that makes samples on demand (a generator or a trained model): any number of
    them, with the kind and image shape learnt from one small probe batch.

    Subclasses implement ``_ensure_converter()``, which probes once and sets ``_probe_shape``
    (the converted probe's per-sample shape)."""

    _probe_shape: tuple[int, ...] | None = None

    @abstractmethod
    def _ensure_converter(self) -> Converter: ...

    @property
    def kind(self) -> Kind:
        return self._ensure_converter().kind

    @property
    def n_available(self) -> None:
        return None

    @property
    def image_shape(self) -> tuple[int, int, int] | None:
        conv = self._ensure_converter()
        return self._probe_shape if conv.kind == "image" else None


def n_batches(n: int, batch_size: int) -> int:
    return math.ceil(n / batch_size)
