"""The unpaired digit domains: shapes, determinism, disjoint sources, the MNIST-M recipe, the
UCI asset (re-derived from scikit-learn, sha256 checked) and its upsampling (against
bicubic-pytorch, an independent MATLAB-bicubic implementation)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import genbench.data.photos as photos_module
from genbench.data import DATASETS, load_dataset
from genbench.data.mnist5k import load_mnist5k
from genbench.data.unpaired_digits import (
    UCI_ASSET_PATH, UCI_ASSET_SHA256, blend_over_photos, build_mnist_mnistm, load_uci_digits, uci_to_mnist_frame,
)
from genbench.errors import GenbenchError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def mnistm():
    return load_dataset("mnist-mnistm")


@pytest.fixture(scope="module")
def uci():
    return load_dataset("mnist-uci")


def _rows(images: np.ndarray) -> list[bytes]:
    return [im.tobytes() for im in images]


@pytest.mark.parametrize("name, channels, sizes_a, sizes_b", [
    ("mnist-mnistm", 3, {"train": 1750, "val": 250, "test": 500}, {"train": 1750, "val": 250, "test": 500}),
    ("mnist-uci", 1, {"train": 3500, "val": 500, "test": 1000}, {"train": 1259, "val": 179, "test": 359}),
])
def test_domains_have_the_documented_shapes_and_task(name, channels, sizes_a, sizes_b, mnistm, uci):
    ds = {"mnist-mnistm": mnistm, "mnist-uci": uci}[name]
    assert ds.pairing == "unpaired" and ds.n_classes == 10 and ds.image_shape == (channels, 28, 28)
    # mnist-classifier reads colour as three stacked digits: mnist-mnistm has no task classifier
    assert ds.task.kind == "unpaired" and ds.task.classifier == (None if channels == 3 else "mnist-classifier")
    spec = DATASETS[name]
    assert spec.sample_shape == (channels, 28, 28) and spec.extractor == "mnist-classifier"
    for split_name, split in ds.splits.items():
        assert split.inputs.shape == (sizes_a[split_name], channels, 28, 28) and split.inputs.dtype == np.uint8
        assert split.samples.shape == (sizes_b[split_name], channels, 28, 28) and split.samples.dtype == np.uint8
        assert not split.paired
        assert set(np.unique(split.labels)) == set(range(10)) == set(np.unique(split.input_labels))


def test_domains_are_deterministic(mnistm, uci):
    for ds in (mnistm, uci):
        again = load_dataset(ds.name)
        assert again.fingerprint == ds.fingerprint
        for name, split in ds.splits.items():
            np.testing.assert_array_equal(again.split(name).samples, split.samples)
            np.testing.assert_array_equal(again.split(name).inputs, split.inputs)
    assert mnistm.fingerprint.sha256 != uci.fingerprint.sha256


def test_mnistm_domains_come_from_disjoint_halves_of_each_split(monkeypatch):
    # Black photos make the blend |0 − digit| = digit, so domain B's source digits can be read back.
    black = {n: np.zeros((288, 288, 3), np.uint8) for n in photos_module.TRAIN}
    monkeypatch.setattr(photos_module, "load_photos", lambda names=None: {n: black[n] for n in names})
    mnist = load_mnist5k()
    ds = build_mnist_mnistm(mnist)
    for name, split in ds.splits.items():
        source = mnist.split(name)
        a, b = split.inputs, split.samples
        assert (a[:, 0:1] == a[:, 1:2]).all() and (a[:, 0:1] == a[:, 2:3]).all()  # grey in R, G, B
        assert (b[:, 0:1] == b[:, 1:2]).all()
        rows_a, rows_b = _rows(a[:, :1]), _rows(b[:, :1])
        assert not set(rows_a) & set(rows_b)  # no digit in both domains
        # Together the two halves are exactly the source split, each digit with its own label.
        by_bytes = dict(zip(_rows(source.samples), source.labels.tolist()))
        assert sorted(rows_a + rows_b) == sorted(_rows(source.samples))
        assert [by_bytes[r] for r in rows_a] == split.input_labels.tolist()
        assert [by_bytes[r] for r in rows_b] == split.labels.tolist()
        assert abs(len(a) - len(b)) <= 1


def test_blend_is_mnistm_recipe_per_channel():
    rng = np.random.default_rng(0)
    digits = rng.integers(0, 256, (3, 1, 28, 28), dtype=np.uint8)
    photo = rng.integers(0, 256, (28, 28, 3), dtype=np.uint8)  # one patch position only
    out = blend_over_photos(digits, [photo], np.random.RandomState(0))
    for i in range(3):
        for c in range(3):
            want = [[abs(int(photo[y, x, c]) - int(digits[i, 0, y, x])) for x in range(28)] for y in range(28)]
            np.testing.assert_array_equal(out[i, c], np.array(want))


def test_mnistm_backgrounds_are_photo_patches(mnistm):
    b = mnistm.split("train").samples.astype(np.float64)
    # Colour: the channels differ (photos), unlike domain A's grey.
    assert np.abs(b[:, 0] - b[:, 1]).mean() > 5
    assert b.std(axis=(2, 3)).mean() > 20


def test_uci_domain_b_is_the_asset_in_mnists_frame(uci):
    from bicubic_pytorch.core import resize_1d

    def oracle(x):  # MATLAB on uint8: each axis resized, then rounded/clipped to uint8 (imresizemex)
        for dim in (-2, -1):
            x = torch.floor(resize_1d(x, dim, size=20, scale=2.5).clamp(0, 255) + 0.5)
        return x

    raw = load_uci_digits()
    mnist = load_mnist5k()
    for name, split in uci.splits.items():
        np.testing.assert_array_equal(split.inputs, mnist.split(name).samples)  # A is mnist-5k itself
        x, y = raw[name]
        np.testing.assert_array_equal(split.labels, y)
        b = split.samples
        assert not b[:, :, :4].any() and not b[:, :, -4:].any()  # MNIST's 4-pixel empty border
        assert not b[:, :, :, :4].any() and not b[:, :, :, -4:].any()
        grey = torch.from_numpy(np.round(x.astype(np.float64) * 255 / 16)[:, None]).float()
        want = oracle(grey).numpy()
        assert np.abs(b[:, :, 4:24, 4:24].astype(np.float64) - want).max() <= 1


def test_uci_asset_is_scikit_learns_digits_with_a_stratified_split():
    from sklearn.datasets import load_digits

    digits = load_digits()
    with np.load(UCI_ASSET_PATH, allow_pickle=False) as npz:
        rows = np.concatenate([npz[f"source_row_{s}"] for s in ("train", "val", "test")])
        for s in ("train", "val", "test"):
            np.testing.assert_array_equal(npz[f"x_{s}"], digits.images[npz[f"source_row_{s}"]].astype(np.uint8))
            np.testing.assert_array_equal(npz[f"y_{s}"], digits.target[npz[f"source_row_{s}"]])
    assert sorted(rows.tolist()) == list(range(1797))  # every digit once, in exactly one split
    sums = (REPO / "genbench" / "assets" / "SHA256SUMS").read_text()
    assert f"{UCI_ASSET_SHA256}  uci_digits.npz" in sums.splitlines()


def test_a_corrupt_or_missing_uci_asset_is_a_one_line_error(tmp_path):
    bad = tmp_path / "uci_digits.npz"
    shutil.copy(UCI_ASSET_PATH, bad)
    data = bytearray(bad.read_bytes())
    data[100] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(GenbenchError, match=r"has sha256 [0-9a-f]{64}, expected 2bd258d4.*corrupt") as err:
        load_uci_digits(bad)
    assert "\n" not in str(err.value)
    with pytest.raises(GenbenchError, match="is missing") as err:
        load_uci_digits(tmp_path / "nothing.npz")
    assert "\n" not in str(err.value)
    bad.write_bytes(b"not a zip file")
    with pytest.raises(GenbenchError, match="cannot read the UCI digits asset"):
        load_uci_digits(bad, expected_sha256=None)


def test_uci_frame_keeps_an_empty_digit_empty_and_a_full_one_full():
    out = uci_to_mnist_frame(np.stack([np.zeros((8, 8), np.uint8), np.full((8, 8), 16, np.uint8)]))
    assert out.shape == (2, 1, 28, 28)
    assert not out[0].any()
    assert (out[1, 0, 4:24, 4:24] == 255).all() and out[1].sum() == 255 * 400
