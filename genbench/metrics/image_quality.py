"""Reconstruction quality: PSNR and SSIM per image, batched in torch.

SSIM follows Wang et al. 2004 as scikit-image computes it with ``gaussian_weights=True,
sigma=1.5, use_sample_covariance=False``: an 11×11 Gaussian window (σ = 1.5, truncated at 3.5σ),
K1 = 0.01, K2 = 0.03, an explicit ``data_range``, the SSIM map averaged after cropping the
5-pixel border (scikit-image crops it because the filter there sees padding), and colour images
scored per channel, then averaged. Because the cropped map only uses pixels whose window lies
inside the image, we compute it directly as a *valid* separable convolution: no padding at all.
This is also BasicSR's ``calculate_ssim`` (OpenCV's 11×11 Gaussian, ``[5:-5, 5:-5]`` of the map).

The super-resolution protocol (Ledig et al., and BasicSR's ``test_y_channel``/``crop_border``)
is two options of both metrics: ``crop_border`` pixels are cut from every side first, then with
``y_channel`` a colour image is scored on its BT.601 luma (:func:`genbench.imaging.colour.rgb2y`,
float64) and a greyscale one on its grey values. The defaults (no crop, every channel) leave the
numbers exactly as they were.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from genbench.imaging.colour import rgb2y
from genbench.metrics import _inputs
from genbench.metrics.result import MetricResult

SSIM_SIGMA = 1.5
SSIM_RADIUS = int(3.5 * SSIM_SIGMA + 0.5)  # scipy.ndimage's truncate=3.5 → 5, an 11×11 window
SSIM_K1 = 0.01
SSIM_K2 = 0.03

# Images per torch batch (5 filtered maps each, float64).
_BATCH_PIXELS = 1 << 22


def _image_pair(a, b, data_range, device) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Validated float64 N×C×H×W tensors and the data range."""
    x = _inputs.to_tensor(a, "a", device=device)
    y = _inputs.to_tensor(b, "b", device=x.device)
    if tuple(x.shape) != tuple(y.shape):
        raise ValueError(f"a and b: shapes differ ({tuple(x.shape)} vs {tuple(y.shape)})")
    if x.ndim == 3:
        x, y = x.unsqueeze(1), y.unsqueeze(1)
    if x.ndim != 4:
        raise ValueError(f"a: expected images N×C×H×W or N×H×W, got shape {tuple(x.shape)}")
    if x.shape[0] < 1:
        raise ValueError("a: contains no images")
    _inputs.check_finite(x, "a")
    _inputs.check_finite(y, "b")
    data_range = _inputs.positive_number(data_range, "data_range")
    for name, t in (("a", x), ("b", y)):
        span = float(t.max() - t.min())
        if span > data_range * (1 + 1e-9):
            raise ValueError(
                f"{name}: values span {span:.6g}, more than data_range={data_range:g} "
                "(uint8 images need data_range=255, images in [0, 1] need 1)"
            )
    return x, y, data_range


def _sr_view(x: torch.Tensor, y: torch.Tensor, data_range: float, y_channel, crop_border
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """The border-cropped images, and their luma when ``y_channel`` (grey images stay grey)."""
    if isinstance(crop_border, bool) or not isinstance(crop_border, (int, np.integer)) or crop_border < 0:
        raise ValueError(f"crop_border: expected a non-negative integer, got {crop_border!r}")
    if not isinstance(y_channel, (bool, np.bool_)):
        raise ValueError(f"y_channel: expected True or False, got {y_channel!r}")
    if crop_border:
        h, w = x.shape[-2:]
        if min(h, w) <= 2 * crop_border:
            raise ValueError(f"a: images are {h}×{w}; cropping {crop_border} pixels from each border leaves nothing")
        x = x[..., crop_border:-crop_border, crop_border:-crop_border]
        y = y[..., crop_border:-crop_border, crop_border:-crop_border]
    if y_channel:
        channels = x.shape[1]
        if channels == 3:
            x = rgb2y(x, channel_axis=1, data_range=data_range).unsqueeze(1)
            y = rgb2y(y, channel_axis=1, data_range=data_range).unsqueeze(1)
        elif channels != 1:
            raise ValueError(f"a: y_channel needs greyscale or RGB images, got {channels} channels")
    return x, y


def psnr_per_image(a, b, data_range, *, y_channel: bool = False, crop_border: int = 0, device=None) -> np.ndarray:
    """10·log10(data_range² / MSE) per image, MSE over all channels and pixels (+inf for identical
    images); ``crop_border`` and ``y_channel`` as in the module docstring.

    Where R² or the MSE would leave float64's normal range (1e200 or 1e-200 images), each
    difference is divided by a power of two t near its largest |difference| and
    PSNR = 20·log10 R − 10·log10 MSE(d/t) − 20·log10 t instead.
    """
    x, y, data_range = _image_pair(a, b, data_range, device)
    x, y = _sr_view(x, y, data_range, y_channel, crop_border)
    diff = (x - y).flatten(1)
    mse = (diff**2).mean(dim=1).cpu().numpy()
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        direct = 10.0 * np.log10(np.float64(data_range) ** 2 / mse)
    fine = np.isfinite(direct) & (mse >= np.finfo(np.float64).tiny)
    if fine.all():
        return direct
    top = diff.abs().amax(dim=1)
    scale = torch.where(top > 0, torch.ldexp(torch.ones_like(top), torch.frexp(top).exponent), torch.ones_like(top))
    mse_t = ((diff / scale.unsqueeze(1)) ** 2).mean(dim=1).cpu().numpy()
    with np.errstate(divide="ignore"):
        scaled = 20.0 * math.log10(data_range) - 10.0 * np.log10(mse_t) - 20.0 * np.log10(scale.cpu().numpy())
    return np.where(fine, direct, scaled)


def _gaussian_window(device) -> torch.Tensor:
    offsets = torch.arange(-SSIM_RADIUS, SSIM_RADIUS + 1, dtype=torch.float64, device=device)
    w = torch.exp(-0.5 * (offsets / SSIM_SIGMA) ** 2)
    return w / w.sum()


def _band_matrix(window: torch.Tensor, size: int) -> torch.Tensor:
    """size × (size − 10) matrix whose column j holds the window at rows j … j+10: multiplying by
    it is a valid (unpadded) 1-D convolution, done by one matrix product (float64 conv2d on the
    CPU is far slower than a GEMM)."""
    taps = window.shape[0]
    band = torch.zeros(size, size - taps + 1, dtype=window.dtype, device=window.device)
    for j in range(size - taps + 1):
        band[j:j + taps, j] = window
    return band


def _blurred_moments(px: torch.Tensor, py: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """Gaussian-filtered x, y, x², y², xy of P planes (P, H, W), without padding: (5, P, W−10, H−10).

    The separable filter is two plain 2-D matrix products with band matrices (the second one on
    the transposed maps, so the output is transposed too — SSIM is pointwise, so that is harmless).
    The five maps share one buffer so the products run once over all of them.
    """
    planes, h, w = px.shape
    maps = torch.empty(5, planes, h, w, dtype=px.dtype, device=px.device)
    maps[0], maps[1] = px, py
    torch.mul(px, px, out=maps[2])
    torch.mul(py, py, out=maps[3])
    torch.mul(px, py, out=maps[4])
    across = (maps.view(-1, w) @ cols).view(5, planes, h, -1).transpose(-1, -2).reshape(-1, h)
    return (across @ rows).view(5, planes, cols.shape[1], rows.shape[1])


def ssim_per_image(a, b, data_range, *, y_channel: bool = False, crop_border: int = 0, device=None) -> np.ndarray:
    """Mean SSIM per image (averaged over channels); see the module docstring for the definition."""
    x, y, data_range = _image_pair(a, b, data_range, device)
    x, y = _sr_view(x, y, data_range, y_channel, crop_border)
    # SSIM is invariant to scaling images and data range together; a power of two is exact and
    # keeps the squares (and C1, C2) of 1e200 or 1e-200 images inside float64.
    scale = math.ldexp(1.0, math.frexp(data_range)[1])
    x, y, data_range = x / scale, y / scale, data_range / scale
    n, c, h, w = x.shape
    if h < 2 * SSIM_RADIUS + 1 or w < 2 * SSIM_RADIUS + 1:
        raise ValueError(f"a: images are {h}×{w}; SSIM's 11×11 window needs at least 11×11")
    window = _gaussian_window(x.device)
    rows, cols = _band_matrix(window, h), _band_matrix(window, w)
    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2
    planes_x = x.reshape(n * c, h, w)
    planes_y = y.reshape(n * c, h, w)
    per_plane = torch.empty(n * c, dtype=torch.float64, device=x.device)
    step = max(1, _BATCH_PIXELS // (5 * h * w))
    for start in range(0, n * c, step):
        mu_x, mu_y, xx, yy, xy = _blurred_moments(planes_x[start:start + step], planes_y[start:start + step],
                                                  rows, cols)
        mu_xy = mu_x * mu_y
        mu_xx, mu_yy = mu_x.square_(), mu_y.square_()  # in place: the means are not needed any more
        numerator = (2 * mu_xy + c1) * (2 * (xy - mu_xy) + c2)
        # σx² + σy² = E[x²] − μx² + E[y²] − μy², accumulated in place in the xx buffer
        denominator = (mu_xx + mu_yy + c1) * xx.add_(yy).sub_(mu_xx).sub_(mu_yy).add_(c2)
        per_plane[start:start + step] = numerator.div_(denominator).flatten(1).mean(dim=1)
    if not bool(torch.isfinite(per_plane).all()):
        # not shift invariant: an offset far larger than data_range cannot be scaled away
        raise ValueError(
            f"a and b: values overflow float64 in SSIM's squared means (largest |value| "
            f"{float(max(x.abs().max(), y.abs().max()) * scale):.3g} for data_range {data_range * scale:g})"
        )
    return per_plane.reshape(n, c).mean(dim=1).cpu().numpy()


def _summary(name: str, values: np.ndarray, data_range: float, y_channel: bool, crop_border: int) -> MetricResult:
    params = {"data_range": float(data_range), "n": int(values.size), "y_channel": bool(y_channel),
              "crop_border": int(crop_border)}
    if np.isinf(values).any():
        return MetricResult(name, math.inf, std=float("nan"),
                            params={**params, "identical_pairs": int((~np.isfinite(values)).sum())})
    return MetricResult(name, float(values.mean()), std=float(values.std()) if values.size > 1 else float("nan"),
                        params=params)


def psnr(a, b, data_range, *, y_channel: bool = False, crop_border: int = 0, device=None) -> MetricResult:
    """Mean PSNR (dB) over images, std (ddof 0) over images. Identical pairs give +inf."""
    values = psnr_per_image(a, b, data_range, y_channel=y_channel, crop_border=crop_border, device=device)
    return _summary("psnr", values, data_range, y_channel, crop_border)


def ssim(a, b, data_range, *, y_channel: bool = False, crop_border: int = 0, device=None) -> MetricResult:
    """Mean SSIM over images, std (ddof 0) over images."""
    values = ssim_per_image(a, b, data_range, y_channel=y_channel, crop_border=crop_border, device=device)
    return _summary("ssim", values, data_range, y_channel, crop_border)
