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


# ---------------------------------------------------------------------------- the SR protocol


def transcribed_y(rgb_hwc):
    """BT.601 luma as MATLAB's rgb2ycbcr / BasicSR's bgr2ycbcr(y_only=True) define it, on 0..255."""
    rgb = rgb_hwc.astype(np.float64)
    return 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0


def transcribed_psnr(x, y):
    return 10.0 * np.log10(255.0**2 / np.mean((x - y) ** 2))


def transcribed_ssim(x, y):
    """Wang et al. 2004: 11×11 Gaussian window σ = 1.5, K = (0.01, 0.03), L = 255, the map over
    the positions where the window lies inside the image (as BasicSR's [5:-5, 5:-5])."""
    from scipy.signal import convolve2d

    t = np.arange(-5, 6)
    g = np.exp(-(t**2) / (2 * 1.5**2))
    window = np.outer(g, g) / np.outer(g, g).sum()

    def blur(z):
        return convolve2d(z, window, mode="valid")

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = blur(x), blur(y)
    sxx, syy, sxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    return np.mean((2 * mx * my + c1) * (2 * sxy + c2) / ((mx**2 + my**2 + c1) * (sxx + syy + c2)))


@pytest.fixture(scope="module")
def bicubic_x4_test_photos():
    """(HR, bicubic ×4 of its MATLAB-bicubic ×1/4), uint8 N×3×H×W, on the shipped test photos."""
    from genbench.data.photos import TEST, load_photos
    from genbench.imaging.resize import imresize

    hr = np.stack([p.transpose(2, 0, 1) for p in load_photos(TEST).values()])
    return hr, imresize(imresize(hr, 1 / 4), 4)


def test_sr_protocol_matches_a_transcription_of_the_formulas_on_the_shipped_photos(bicubic_x4_test_photos):
    hr, sr = bicubic_x4_test_photos
    assert hr.shape == sr.shape == (3, 3, 288, 288)
    got_psnr = psnr_per_image(hr, sr, 255, y_channel=True, crop_border=4)
    got_ssim = ssim_per_image(hr, sr, 255, y_channel=True, crop_border=4)
    for i in range(len(hr)):
        y_hr = transcribed_y(hr[i].transpose(1, 2, 0))[4:-4, 4:-4]
        y_sr = transcribed_y(sr[i].transpose(1, 2, 0))[4:-4, 4:-4]
        assert got_psnr[i] == pytest.approx(transcribed_psnr(y_hr, y_sr), rel=1e-12)
        assert got_ssim[i] == pytest.approx(transcribed_ssim(y_hr, y_sr), rel=1e-10)
        assert got_ssim[i] == pytest.approx(skimage_ssim(y_hr, y_sr, 255), rel=1e-10)
    # a real reconstruction, not a degenerate case: bicubic ×4 on 288×288 photos
    assert 20 < got_psnr.min() and got_psnr.max() < 40 and 0.5 < got_ssim.min() and got_ssim.max() < 0.99


def test_y_channel_differs_from_rgb_and_cropping_changes_the_score(bicubic_x4_test_photos):
    hr, sr = bicubic_x4_test_photos
    rgb = psnr_per_image(hr, sr, 255)
    y = psnr_per_image(hr, sr, 255, y_channel=True)
    cropped = psnr_per_image(hr, sr, 255, y_channel=True, crop_border=4)
    for i in range(len(hr)):
        assert rgb[i] == pytest.approx(peak_signal_noise_ratio(hr[i], sr[i], data_range=255), rel=1e-12)
        assert y[i] == pytest.approx(transcribed_psnr(transcribed_y(hr[i].transpose(1, 2, 0)),
                                                      transcribed_y(sr[i].transpose(1, 2, 0))), rel=1e-12)
    assert not np.allclose(rgb, y) and not np.allclose(y, cropped)


def test_grey_images_keep_their_grey_values_with_y_channel():
    a, b = _noisy_pairs(10, (3, 1, 30, 27))
    for crop in (0, 3):
        view = (slice(None), 0, slice(crop, -crop or None), slice(crop, -crop or None))
        expected_psnr = [peak_signal_noise_ratio(x, y, data_range=255) for x, y in zip(a[view], b[view])]
        expected_ssim = [skimage_ssim(x.astype(np.float64), y.astype(np.float64), 255) for x, y in zip(a[view], b[view])]
        assert psnr_per_image(a, b, 255, y_channel=True, crop_border=crop) == pytest.approx(expected_psnr, rel=1e-12)
        assert ssim_per_image(a, b, 255, y_channel=True, crop_border=crop) == pytest.approx(expected_ssim, rel=1e-9)


def test_y_channel_of_unit_range_images_is_the_scaled_luma():
    a, b = _noisy_pairs(11, (2, 3, 20, 20))
    on_255 = psnr_per_image(a, b, 255, y_channel=True)
    on_unit = psnr_per_image(a / 255.0, b / 255.0, 1.0, y_channel=True)
    assert on_unit == pytest.approx(on_255, rel=1e-12)  # PSNR is invariant to the common scale


def test_summary_records_the_protocol():
    a, b = _noisy_pairs(12, (2, 3, 24, 24))
    r = ssim(a, b, 255, y_channel=True, crop_border=2)
    assert r.params["y_channel"] is True and r.params["crop_border"] == 2
    assert r.value == pytest.approx(ssim_per_image(a, b, 255, y_channel=True, crop_border=2).mean())


@pytest.mark.parametrize("kwargs, match", [
    ({"crop_border": -1}, "crop_border: expected a non-negative integer"),
    ({"crop_border": 1.5}, "crop_border: expected a non-negative integer"),
    ({"crop_border": 14}, "cropping 14 pixels from each border leaves nothing"),
    ({"y_channel": "yes"}, "y_channel: expected True or False"),
])
def test_bad_protocol_options(kwargs, match):
    a, b = _noisy_pairs(13, (1, 3, 28, 28))
    with pytest.raises(ValueError, match=match):
        psnr_per_image(a, b, 255, **kwargs)


def test_y_channel_refuses_two_channel_images():
    a, b = _noisy_pairs(14, (1, 2, 28, 28))
    with pytest.raises(ValueError, match="y_channel needs greyscale or RGB images, got 2 channels"):
        ssim_per_image(a, b, 255, y_channel=True)


def test_rgb2y_closed_form_values():
    from genbench.imaging.colour import rgb2y

    # white → 16 + 219 = 235, black → 16 (studio range); pure red/green/blue → their coefficients
    px = np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    np.testing.assert_allclose(rgb2y(px), [235.0, 16.0, 16 + 65.481, 16 + 128.553, 16 + 24.966], rtol=1e-12)
    np.testing.assert_allclose(rgb2y(px / 255.0, data_range=1.0), rgb2y(px) / 255.0, rtol=1e-12)
    with pytest.raises(ValueError, match="expected 3 colour channels"):
        rgb2y(px[:, :2])
