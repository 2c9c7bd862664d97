"""Full MNIST from local IDX files (synthetic stand-ins of the real sizes) and the loud fallback."""


import numpy as np
import pytest

import genbench.data.mnist as mnist_module
from genbench.data import load_dataset
from genbench.data.idx import write_idx
from genbench.errors import GenbenchError

REAL_DOWNLOAD = mnist_module.download


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Never touch the network in tests: a download attempt reports failure."""
    monkeypatch.setattr(mnist_module, "download", lambda root: "downloads are disabled in this test")


def fake_mnist(root, gz_parts=(), seed=0):
    """MNIST-shaped IDX files (60,000 / 10,000 random digits) in torchvision's layout.

    Parts named in ``gz_parts`` ("train", "t10k") are written gzip-compressed. Only a 10×10
    patch per image is random, like MNIST's empty borders, so compression stays quick.
    """
    rng = np.random.default_rng(seed)
    raw = root / "MNIST" / "raw"
    arrays = {}
    for part, n in (("train", 60_000), ("t10k", 10_000)):
        images = np.zeros((n, 28, 28), np.uint8)
        images[:, 9:19, 9:19] = rng.integers(0, 256, (n, 10, 10), dtype=np.uint8)
        arrays[part] = (images, rng.integers(0, 10, n).astype(np.uint8))
        suffix = ".gz" if part in gz_parts else ""
        write_idx(raw / f"{part}-images-idx3-ubyte{suffix}", arrays[part][0])
        write_idx(raw / f"{part}-labels-idx1-ubyte{suffix}", arrays[part][1])
    return arrays


@pytest.mark.slow
def test_full_mnist_from_idx_files_plain_and_gz(tmp_path):
    plain = fake_mnist(tmp_path / "plain")
    ds = load_dataset("mnist", data_root=tmp_path / "plain")
    assert ds.name == "mnist" and ds.warnings == () and ds.n_classes == 10
    assert ds.fingerprint.sizes == {"train": 50_000, "val": 10_000, "test": 10_000}
    images, labels = plain["train"]
    # val is the last 10,000 training digits, train the first 50,000; test is t10k
    np.testing.assert_array_equal(ds.split("train").samples[:, 0], images[:50_000])
    np.testing.assert_array_equal(ds.split("val").samples[:, 0], images[50_000:])
    np.testing.assert_array_equal(ds.split("val").labels, labels[50_000:])
    np.testing.assert_array_equal(ds.split("test").samples[:, 0], plain["t10k"][0])
    assert ds.split("test").samples.dtype == np.uint8 and ds.split("test").samples.shape[1:] == (1, 28, 28)

    fake_mnist(tmp_path / "gz", gz_parts=("t10k",))  # same seed, same digits; test files gzipped
    ds_gz = load_dataset("mnist", data_root=tmp_path / "gz")
    assert ds_gz.fingerprint == ds.fingerprint


def test_data_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GENBENCH_DATA", str(tmp_path / "env-root"))
    ds = load_dataset("mnist")
    assert str(tmp_path / "env-root" / "MNIST" / "raw") in ds.warnings[0]


def test_fallback_is_loud_and_changes_the_fingerprint(tmp_path):
    ds = load_dataset("mnist", data_root=tmp_path)
    assert ds.name == "mnist-5k"
    assert len(ds.warnings) == 1
    message = ds.warnings[0]
    assert "MNIST was not found" in message
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "train-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message
    assert "mnist-5k instead" in message and "different fingerprint" in message
    assert ds.fingerprint.name != "mnist"
    assert ds.fingerprint == load_dataset("mnist-5k").fingerprint


def test_corrupt_mnist_file_is_an_error_not_a_fallback(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw / "train-images-idx3-ubyte", np.zeros((10, 28, 28), np.uint8))  # wrong count
    write_idx(raw / "train-labels-idx1-ubyte", np.zeros(10, np.uint8))
    write_idx(raw / "t10k-images-idx3-ubyte", np.zeros((10, 28, 28), np.uint8))
    write_idx(raw / "t10k-labels-idx1-ubyte", np.zeros(10, np.uint8))
    with pytest.raises(GenbenchError, match="60000") as info:
        load_dataset("mnist", data_root=tmp_path)
    assert str(raw / "train-images-idx3-ubyte") in str(info.value)

    (raw / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03\x00\x00")  # header cut short
    with pytest.raises(GenbenchError, match="truncated") as info:
        load_dataset("mnist", data_root=tmp_path)
    assert str(raw / "train-images-idx3-ubyte") in str(info.value)


def test_offline_switch_skips_the_download(monkeypatch):
    monkeypatch.setenv("GENBENCH_OFFLINE", "1")
    mnist_module._online.cache_clear()
    try:
        assert mnist_module._online() is False
    finally:
        mnist_module._online.cache_clear()


def test_failed_download_falls_back_with_the_reason(tmp_path, monkeypatch):
    class FailingMNIST:
        def __init__(self, root, train, download):
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(mnist_module, "download", REAL_DOWNLOAD)
    monkeypatch.setattr(mnist_module, "_online", lambda: True)
    monkeypatch.setattr(mnist_module, "_torchvision_mnist", lambda: FailingMNIST)
    ds = load_dataset("mnist", data_root=tmp_path)
    assert ds.name == "mnist-5k"
    assert "torchvision download failed (RuntimeError: Error downloading" in ds.warnings[0]


@pytest.mark.slow
def test_successful_download_is_read_from_the_data_root(tmp_path, monkeypatch):
    calls = []

    class FakeMNIST:  # writes what torchvision leaves behind: plain IDX files in MNIST/raw
        def __init__(self, root, train, download):
            calls.append((root, train, download))
            part, n = ("train", 60_000) if train else ("t10k", 10_000)
            raw = tmp_path / "MNIST" / "raw"
            write_idx(raw / f"{part}-images-idx3-ubyte", np.full((n, 28, 28), 7, np.uint8))
            write_idx(raw / f"{part}-labels-idx1-ubyte", (np.arange(n) % 10).astype(np.uint8))

    monkeypatch.setattr(mnist_module, "download", REAL_DOWNLOAD)
    monkeypatch.setattr(mnist_module, "_online", lambda: True)
    monkeypatch.setattr(mnist_module, "_torchvision_mnist", lambda: FakeMNIST)
    ds = load_dataset("mnist", data_root=tmp_path)
    assert calls == [(str(tmp_path), True, True), (str(tmp_path), False, True)]
    assert ds.name == "mnist" and ds.warnings == ()
    assert ds.fingerprint.sizes == {"train": 50_000, "val": 10_000, "test": 10_000}
    np.testing.assert_array_equal(ds.split("val").labels[:3], [0, 1, 2])  # 50,000 % 10 == 0
