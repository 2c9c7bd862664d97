"""genbench.imaging.resize against an independent MATLAB-imresize port (bicubic_pytorch) and
closed-form facts about Keys' kernel and MATLAB's weights."""

import math

import numpy as np
import pytest
import torch
from bicubic_pytorch import core

from genbench.data.photos import TEST, load_photos
from genbench.errors import GenbenchError
from genbench.imaging.resize import cubic, imresize, output_size, weight_matrix


@pytest.fixture(scope="module")
def photos():
    return load_photos(TEST)


def _matlab_uint8(x: torch.Tensor) -> torch.Tensor:
    return torch.floor(x.clamp(0, 255) + 0.5)


def oracle(image: np.ndarray, scale: float) -> np.ndarray:
    """bicubic_pytorch's MATLAB port (float32) on an H×W×C or H×W uint8 image, one axis at a time
    with MATLAB's uint8 conversion after each pass (imresizemex returns the input's class)."""
    x = torch.from_numpy(np.array(image)).double()
    x = x.permute(2, 0, 1)[:, None] if x.ndim == 3 else x[None, None]
    h, w = x.shape[-2:]
    x = _matlab_uint8(core.resize_1d(x.float(), -2, size=math.ceil(h * scale), scale=scale))
    x = _matlab_uint8(core.resize_1d(x, -1, size=math.ceil(w * scale), scale=scale))
    out = x[:, 0].permute(1, 2, 0) if image.ndim == 3 else x[0, 0]
    return out.numpy().astype(np.uint8)


def _assert_within_one_grey_level(ours, theirs):
    assert ours.dtype == np.uint8 and ours.shape == theirs.shape
    diff = np.abs(ours.astype(int) - theirs.astype(int))
    assert diff.max() <= 1
    assert (diff > 0).mean() < 0.02  # off-by-one only where rounding differs, not systematically


@pytest.mark.parametrize("scale", [1 / 2, 1 / 3, 1 / 4, 2, 4])
def test_rgb_photos_match_bicubic_pytorch(photos, scale):
    for name, img in photos.items():
        if scale > 1:
            img = img[:72, :72]  # upscaling the whole photo ×4 only costs time
        _assert_within_one_grey_level(imresize(img, scale), oracle(img, scale))


@pytest.mark.parametrize("scale", [1 / 2, 1 / 3, 1 / 4, 2, 4])
@pytest.mark.parametrize("shape", [(37, 53), (29, 31), (13, 50)])
def test_grey_odd_sizes_match_bicubic_pytorch(photos, scale, shape):
    grey = photos["astronaut"][..., 1][: shape[0], : shape[1]]
    ours = imresize(grey, scale)
    assert ours.shape == tuple(int(np.ceil(s * scale - 1e-9)) for s in shape)
    _assert_within_one_grey_level(ours, oracle(grey, scale))


def test_float_input_matches_bicubic_pytorch_without_rounding(photos):
    img = photos["coffee"][:45, :61].astype(np.float64)
    ours = imresize(img, 1 / 3)
    assert ours.dtype == np.float64
    x = torch.from_numpy(img).permute(2, 0, 1)[None]
    theirs = core.imresize(x, scale=1 / 3, antialiasing=True)[0].permute(1, 2, 0).double().numpy()
    np.testing.assert_allclose(ours, theirs, atol=2e-3)  # the oracle computes in float32


def test_layouts_agree(photos):
    img = photos["grace_hopper"][:40, :44]
    hwc = imresize(img, 1 / 4)
    nchw = imresize(np.stack([img.transpose(2, 0, 1)] * 2), 1 / 4)
    np.testing.assert_array_equal(nchw[0], hwc.transpose(2, 0, 1))
    np.testing.assert_array_equal(nchw[1], nchw[0])
    np.testing.assert_array_equal(imresize(img[..., 0], 1 / 4), hwc[..., 0])


def test_kernel_values_in_closed_form():
    # Keys (1981) with a = -0.5: 1 at 0, 0 at the integers, (a+2)/8 - (a+3)/4 + 1 = 0.5625 at 1/2,
    # a/8 - 5a/4 + 4a - 4a = -0.0625 at 3/2.
    np.testing.assert_allclose(cubic(np.array([0.0, 1.0, 2.0, 0.5, -0.5, 1.5, -1.5, 2.5])),
                               [1.0, 0.0, 0.0, 0.5625, 0.5625, -0.0625, -0.0625, 0.0], atol=1e-15)


def test_weight_rows_sum_to_one_and_upscaling_by_two_uses_keys_taps():
    for n_in, scale in ((17, 1 / 4), (17, 1 / 3), (10, 2.0), (10, 4.0), (5, 0.5)):
        m = weight_matrix(n_in, output_size((n_in, n_in), scale)[0], scale)
        np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-12)
    # ×2: output pixel 5 (1-based) maps to u = 5/2 + 0.5·(1 − 1/2) = 2.75, at distances 1.75,
    # 0.75, −0.25, −1.25 from input pixels 1..4, whose Keys weights sum to 1 already.
    row = weight_matrix(10, 20, 2.0)[4]
    expected = cubic(np.array([1.75, 0.75, -0.25, -1.25]))
    assert expected.sum() == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(row[:4], expected, atol=1e-15)
    assert not row[4:].any()
    # ×1/2 with antialiasing the kernel is stretched ×2 and halved, h(d) = 0.5·k(d/2): output
    # pixel 3 maps to u = 3·2 + 0.5·(1 − 2) = 5.5, 10 taps at input pixels 1..10 (1-based).
    row = weight_matrix(12, 6, 0.5)[2]
    taps = 0.5 * cubic((5.5 - np.arange(1, 11)) / 2)
    assert taps.sum() == pytest.approx(1.0, abs=1e-15) and taps[4] == taps[5] == 0.5 * 0.8671875
    np.testing.assert_allclose(row[:10], taps, atol=1e-15)


def test_border_mirrors_symmetrically():
    # ×2 output pixel 1 maps to u = 0.75: taps at input indices −1, 0, 1, 2 (1-based), at
    # distances 1.75, 0.75, −0.25, −1.25; MATLAB's symmetric padding reads index 0 as pixel 1 and
    # index −1 as pixel 2.
    m = weight_matrix(6, 12, 2.0)
    k = cubic(np.array([1.75, 0.75, -0.25, -1.25]))
    assert m[0, 0] == pytest.approx(k[1] + k[2], abs=1e-15)
    assert m[0, 1] == pytest.approx(k[0] + k[3], abs=1e-15)
    assert not m[0, 2:].any()


@pytest.mark.parametrize("scale", [1 / 2, 1 / 3, 1 / 4, 2, 3])
def test_constant_image_stays_constant(scale):
    for value in (0, 7, 128, 255):
        img = np.full((23, 30, 3), value, np.uint8)
        out = imresize(img, scale)
        assert out.shape == (*output_size((23, 30), scale), 3) and (out == value).all()


def test_intermediate_rounding_matches_matlab_uint8_passes():
    """MATLAB's uint8 imresize rounds after each axis; doing the same by hand (float per axis,
    round half away from zero, then the other axis) gives the same bytes."""
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (19, 23), dtype=np.uint8)
    ours = imresize(img, 1 / 3)
    rows = weight_matrix(19, 7, 1 / 3) @ img.astype(np.float64)
    rows = np.floor(np.clip(rows, 0, 255) + 0.5)
    both = np.floor(np.clip(rows @ weight_matrix(23, 8, 1 / 3).T, 0, 255) + 0.5)
    np.testing.assert_array_equal(ours, both.astype(np.uint8))


@pytest.mark.parametrize("image, scale, match", [
    (np.zeros((4,), np.uint8), 0.5, "H×W, H×W×C or N×C×H×W"),
    (np.zeros((8, 8), np.uint8), 0, "scale must be a positive number"),
    (np.zeros((8, 8), np.uint8), float("nan"), "scale must be a positive number"),
    (np.zeros((0, 8), np.uint8), 0.5, "empty image"),
])
def test_bad_input(image, scale, match):
    with pytest.raises(GenbenchError, match=match):
        imresize(image, scale)
