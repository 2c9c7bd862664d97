"""MATLAB's ``imresize(img, scale, 'bicubic')``, ported, because the super-resolution literature
measures with it: low-resolution inputs are made by it (antialiased bicubic, Keys a = -0.5) and
published figures (Set5 ×4 bicubic 28.42 dB) are only reproducible with the same kernel,
antialiasing, index mapping and symmetric border handling.

The computation is separable: each axis is resized by a dense weight matrix built from MATLAB's
``contributions`` (kernel scaled by the factor when downscaling, so the kernel is 4/scale wide;
indices mirrored at the border). Both axes share one factor, so
MATLAB resizes height first, then width. Arithmetic is float64; for uint8 input each pass ends,
as MATLAB's ``imresizemex`` does, by rounding half away from zero and saturating to 0..255 (the
intermediate image is uint8 in MATLAB too: skipping that rounding moves pixels by one grey level).
"""

from __future__ import annotations

import math

import numpy as np

from genbench.errors import GenbenchError


def cubic(x: np.ndarray, a: float = -0.5) -> np.ndarray:
    """Keys' cubic convolution kernel (a = -0.5, MATLAB's 'bicubic')."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    near = ((a + 2) * ax3 - (a + 3) * ax2 + 1) * (ax <= 1)
    far = (a * ax3 - 5 * a * ax2 + 8 * a * ax - 4 * a) * ((ax > 1) & (ax <= 2))
    return near + far


def weight_matrix(in_length: int, out_length: int, scale: float, antialiasing: bool = True) -> np.ndarray:
    """The out_length × in_length matrix that resizes one axis as MATLAB does."""
    kernel_width = 4.0
    if scale < 1 and antialiasing:
        kernel_width /= scale

        def kernel(x):
            return scale * cubic(scale * x)
    else:
        kernel = cubic
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)  # where output pixel x maps to in input coordinates (1-based)
    left = np.floor(u - kernel_width / 2)
    taps = int(math.ceil(kernel_width)) + 2
    indices = left[:, None] + np.arange(taps)[None, :]  # 1-based input indices
    weights = kernel(u[:, None] - indices)
    weights /= weights.sum(axis=1, keepdims=True)
    # Symmetric padding: index 0 mirrors to 1, index n+1 to n, and so on (period 2n).
    mirror = np.concatenate([np.arange(in_length), np.arange(in_length - 1, -1, -1)])
    cols = mirror[np.mod(indices.astype(np.int64) - 1, 2 * in_length)]
    matrix = np.zeros((out_length, in_length), dtype=np.float64)
    np.add.at(matrix, (np.repeat(np.arange(out_length), taps), cols.ravel()), weights.ravel())
    return matrix


def output_size(in_size: tuple[int, int], scale: float) -> tuple[int, int]:
    """MATLAB's output size: ceil(size × scale) per axis."""
    return tuple(int(math.ceil(s * scale - 1e-9)) for s in in_size)


def imresize(image: np.ndarray, scale: float, *, antialiasing: bool = True) -> np.ndarray:
    """Resize H×W, H×W×C or N×C×H×W images by ``scale`` (e.g. 1/4 or 4) as MATLAB's bicubic
    ``imresize`` does. uint8 in → uint8 out (rounded, clipped); float in → float64 out."""
    arr = np.asarray(image)
    if arr.ndim not in (2, 3, 4):
        raise GenbenchError(f"imresize expects H×W, H×W×C or N×C×H×W images, got shape {arr.shape}")
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise GenbenchError(f"imresize: scale must be a positive number, got {scale!r}")
    if arr.ndim == 4:
        h_axis, w_axis = 2, 3
    else:
        h_axis, w_axis = 0, 1
    h, w = arr.shape[h_axis], arr.shape[w_axis]
    if h < 1 or w < 1:
        raise GenbenchError(f"imresize: empty image of shape {arr.shape}")
    out_h, out_w = output_size((h, w), scale)
    out = arr.astype(np.float64)
    # MATLAB resizes along the axis with the smaller factor first; equal factors: height first.
    for axis, n_in, n_out in ((h_axis, h, out_h), (w_axis, w, out_w)):
        m = weight_matrix(n_in, n_out, float(scale), antialiasing)
        out = np.moveaxis(np.tensordot(m, np.moveaxis(out, axis, 0), axes=(1, 0)), 0, axis)
        if arr.dtype == np.uint8:
            out = _to_uint8_like_matlab(out).astype(np.float64)
    if arr.dtype == np.uint8:
        return out.astype(np.uint8)
    return out


def _to_uint8_like_matlab(x: np.ndarray) -> np.ndarray:
    """MATLAB's double → uint8: saturate to 0..255, round half away from zero (not numpy's
    round-half-to-even)."""
    return np.floor(np.clip(x, 0.0, 255.0) + 0.5).astype(np.uint8)
