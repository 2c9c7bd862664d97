"""The luma that super-resolution papers score on: Y of ITU-R BT.601 as MATLAB's ``rgb2ycbcr``
defines it (studio range, 16..235 for 8-bit values).

On 0..255 values: Y = 16 + (65.481·R + 128.553·G + 24.966·B) / 255. The result stays float64,
as BasicSR's ``calculate_psnr/ssim(test_y_channel=True)`` keeps it (float32 there); MATLAB's
``rgb2ycbcr`` on a uint8 image returns Y rounded to uint8, which moves PSNR by a few hundredths
of a dB. genbench follows BasicSR, the code most SR results are computed with today.
"""

from __future__ import annotations

import numpy as np

Y_OFFSET = 16.0  # on the 0..255 scale
Y_WEIGHTS = (65.481, 128.553, 24.966)  # R, G, B; divided by 255 for 0..255 values


def rgb2y(image, *, channel_axis: int = -1, data_range: float = 255.0):
    """Y (float64) of RGB ``image`` whose values span ``data_range`` (255 for 8-bit values, 1 for
    [0, 1]); the channel axis is removed. A numpy array or a float torch tensor (kept as one)."""
    if isinstance(image, np.ndarray) or not hasattr(image, "select"):
        image = np.asarray(image, dtype=np.float64)
        n_channels = image.shape[channel_axis]
        r, g, b = (np.take(image, i, axis=channel_axis) for i in range(3)) if n_channels == 3 else (None,) * 3
    else:
        n_channels = image.shape[channel_axis]
        r, g, b = (image.select(channel_axis, i) for i in range(3)) if n_channels == 3 else (None,) * 3
    if n_channels != 3:
        raise ValueError(f"rgb2y: expected 3 colour channels on axis {channel_axis}, got {n_channels}")
    wr, wg, wb = Y_WEIGHTS
    scale = float(data_range) / 255.0
    return Y_OFFSET * scale + (wr * r + wg * g + wb * b) / 255.0
