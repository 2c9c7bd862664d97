"""IDX reading against files written by hand here (struct + gzip), not by genbench's writer."""

import gzip
import struct

import numpy as np
import pytest

from genbench.data.idx import read_idx, write_idx
from genbench.errors import GenbenchError


def handmade_idx(array: np.ndarray) -> bytes:
    """The IDX layout straight from LeCun's page: 0x00 0x00 0x08 ndim, big-endian sizes, data."""
    header = b"\x00\x00\x08" + bytes([array.ndim]) + b"".join(struct.pack(">I", s) for s in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_handmade_images_and_labels(tmp_path, compress):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5, 9, 2], dtype=np.uint8)
    for name, arr in (("img", images), ("lab", labels)):
        data = handmade_idx(arr)
        path = tmp_path / (f"{name}.gz" if compress else name)
        path.write_bytes(gzip.compress(data) if compress else data)
    suffix = ".gz" if compress else ""
    np.testing.assert_array_equal(read_idx(tmp_path / f"img{suffix}", ndim=3), images)
    np.testing.assert_array_equal(read_idx(tmp_path / f"lab{suffix}", ndim=1), labels)


def test_magic_numbers_of_written_files(tmp_path):
    write_idx(tmp_path / "a", np.zeros((2, 28, 28), np.uint8))
    write_idx(tmp_path / "b.gz", np.zeros(5, np.uint8))
    assert (tmp_path / "a").read_bytes()[:8] == bytes.fromhex("00000803") + struct.pack(">I", 2)
    assert gzip.decompress((tmp_path / "b.gz").read_bytes())[:8] == bytes.fromhex("00000801") + struct.pack(">I", 5)


@pytest.mark.parametrize(
    "payload, problem",
    [
        (b"\x01\x00\x08\x03" + b"\x00" * 20, "magic"),
        (b"\x00\x00\x0d\x01\x00\x00\x00\x01" + b"\x00" * 4, "data type"),
        (handmade_idx(np.zeros((3, 28, 28), np.uint8))[:-10], "truncated"),
        (handmade_idx(np.zeros((3, 28, 28), np.uint8)) + b"\x00", "holds"),
        (b"\x00\x00", "too short"),
    ],
)
def test_corrupt_idx_names_the_file(tmp_path, payload, problem):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(payload)
    with pytest.raises(GenbenchError, match=problem) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_wrong_dimensionality_and_bad_gzip_name_the_file(tmp_path):
    labels_path = tmp_path / "labels"
    labels_path.write_bytes(handmade_idx(np.zeros(4, np.uint8)))
    with pytest.raises(GenbenchError, match="expected 3") as info:
        read_idx(labels_path, ndim=3)
    assert str(labels_path) in str(info.value)

    bad_gz = tmp_path / "t10k-images-idx3-ubyte.gz"
    bad_gz.write_bytes(gzip.compress(handmade_idx(np.zeros((2, 28, 28), np.uint8)))[:-12])
    with pytest.raises(GenbenchError) as info:
        read_idx(bad_gz)
    assert str(bad_gz) in str(info.value)
