"""PSNR and SSIM against scikit-image, image by image."""

import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from genbench.metrics import psnr, psnr_per_image, ssim, ssim_per_image


def skimage_ssim(x, y, data_range, channel_axis=None):
    return structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                 data_range=data_range, channel_axis=channel_axis)


def _noisy_pairs(seed, shape, dtype=np.uint8):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, shape).astype(np.float64)
    a = np.clip(a * 0.5 + 64, 0, 255)  # leave room for noise
    b = np.clip(a + rng.normal(0, 20, shape), 0, 255)
    return a.astype(dtype), b.astype(dtype)


def test_grayscale_uint8_matches_scikit_image_per_image():
    a, b = _noisy_pairs(0, (12, 1, 28, 28))
    ours_ssim = ssim_per_image(a, b, data_range=255)
    ours_psnr = psnr_per_image(a, b, data_range=255)
    for i in range(len(a)):
        assert ours_ssim[i] == pytest.approx(skimage_ssim(a[i, 0], b[i, 0], 255), abs=1e-4, rel=1e-8)
        assert ours_psnr[i] == pytest.approx(peak_signal_noise_ratio(a[i, 0], b[i, 0], data_range=255), rel=1e-10)
    res = ssim(a, b, data_range=255)
    assert res.value == pytest.approx(ours_ssim.mean()) and res.std == pytest.approx(ours_ssim.std())


def test_colour_images_average_per_channel_ssim_like_scikit_image():
    a, b = _noisy_pairs(1, (4, 3, 33, 17))
    a, b = a / 255.0, b / 255.0
    ours = ssim_per_image(torch.from_numpy(a), torch.from_numpy(b), data_range=1.0)
    ours_psnr = psnr_per_image(a, b, data_range=1.0)
    for i in range(len(a)):
        assert ours[i] == pytest.approx(skimage_ssim(a[i], b[i], 1.0, channel_axis=0), abs=1e-4, rel=1e-8)
        assert ours_psnr[i] == pytest.approx(peak_signal_noise_ratio(a[i], b[i], data_range=1.0), rel=1e-10)


def test_n_h_w_input_and_the_smallest_image_size():
    a, b = _noisy_pairs(2, (3, 11, 11))
    ours = ssim_per_image(a, b, data_range=255)
    assert ours == pytest.approx([skimage_ssim(x, y, 255) for x, y in zip(a, b)], abs=1e-4)


def test_identical_images_give_ssim_one_and_infinite_psnr():
    a, _ = _noisy_pairs(3, (2, 1, 16, 16))
    assert ssim(a, a, data_range=255).value == pytest.approx(1.0)
    assert psnr(a, a, data_range=255).value == float("inf")


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda a, b: ssim(a, b[:, :, :20], 255), "a and b: shapes differ"),
        (lambda a, b: ssim(a[:, :, :8, :8], b[:, :, :8, :8], 255), "a: images are 8×8"),
        (lambda a, b: ssim(a, b, 1.0), "a: values span 127, more than data_range=1"),
        (lambda a, b: psnr(a, b, 0), "data_range: expected a positive finite number"),
        (lambda a, b: psnr(a[0, 0], b[0, 0], 255), "a: expected images N×C×H×W or N×H×W"),
        (lambda a, b: psnr(a, np.where(b > 200, np.nan, b), 255), "b: contains .* NaN"),
        (lambda a, b: ssim(a.astype(np.complex64), b, 255), "a: expected a real numeric array"),
    ],
)
def test_bad_input(call, match):
    a, b = _noisy_pairs(4, (2, 1, 28, 28))
    with pytest.raises(ValueError, match=match):
        call(a.astype(np.float64), b.astype(np.float64))


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_huge_and_tiny_images_with_a_matching_data_range_match_scikit_image(scale):
    """Issue 8 defect 11: data_range² overflowed (OverflowError) at 1e200 and the squares
    underflowed (NaN) at 1e-200; PSNR and SSIM are invariant to scaling images and range together."""
    a, b = _noisy_pairs(7, (2, 16, 16))
    a, b = a.astype(np.float64) / 255, b.astype(np.float64) / 255
    got_psnr = psnr_per_image(a * scale, b * scale, scale)
    got_ssim = ssim_per_image(a * scale, b * scale, scale)
    for i in range(2):
        assert got_psnr[i] == pytest.approx(peak_signal_noise_ratio(a[i], b[i], data_range=1.0), rel=1e-12)
        assert got_ssim[i] == pytest.approx(skimage_ssim(a[i], b[i], 1.0), rel=1e-9)


def test_psnr_of_a_tiny_difference_is_finite():
    # MSE = 1e-400·mean(u²) underflows; PSNR = 4000 dB − 10·log10(mean(u²)) does not.
    u = np.random.default_rng(8).uniform(0.5, 1.0, (1, 12, 12))
    expected = 4000.0 - 10 * math.log10(np.mean(u**2))
    assert psnr_per_image(np.zeros_like(u), u * 1e-200, 1.0)[0] == pytest.approx(expected, rel=1e-12)


def test_ssim_of_an_offset_beyond_float64_is_an_error_not_nan():
    a, b = _noisy_pairs(9, (1, 16, 16))
    with pytest.raises(ValueError, match="a and b: values overflow float64 in SSIM"):
        ssim(a / 255 + 1e200, b / 255 + 1e200, 1.0)
