"""Sample sources: every kind, every layout, every refusal."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from genbench.errors import GenbenchError
from genbench.sources import latents, open_source, quantize

# TorchScript is deprecated upstream in favour of torch.export, but it is the format users have.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")



def collect(source, n, batch_size=7, seed=0):
    batches = list(source.batches(n, batch_size, seed))
    assert all(len(b) <= batch_size for b in batches)
    return np.concatenate(batches)


def rng_images(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


# ---------------------------------------------------------------- arrays: layouts


@pytest.mark.parametrize(
    "stored_shape, to_stored",
    [
        ((10, 12, 9), lambda x: x[:, 0]),  # N×H×W
        ((10, 1, 12, 9), lambda x: x),  # N×C×H×W grey
        ((10, 12, 9, 1), lambda x: x.transpose(0, 2, 3, 1)),  # N×H×W×C grey
    ],
)
def test_grey_layouts_give_nchw(tmp_path, stored_shape, to_stored):
    images = rng_images((10, 1, 12, 9))
    stored = np.ascontiguousarray(to_stored(images))
    assert stored.shape == stored_shape
    np.save(tmp_path / "x.npy", stored)
    src = open_source(tmp_path / "x.npy")
    assert src.kind == "image" and src.n_available == 10 and src.image_shape == (1, 12, 9)
    np.testing.assert_array_equal(collect(src, 10), images)


def test_rgb_nhwc_and_nchw_agree(tmp_path):
    images = rng_images((9, 3, 8, 10))
    np.savez(tmp_path / "chw.npz", samples=images)
    np.savez(tmp_path / "hwc.npz", samples=images.transpose(0, 2, 3, 1))
    a = collect(open_source(tmp_path / "chw.npz"), 9)
    b = collect(open_source(tmp_path / "hwc.npz"), 9)
    np.testing.assert_array_equal(a, images)
    np.testing.assert_array_equal(b, images)


def test_ambiguous_layout_is_an_error(tmp_path):
    np.save(tmp_path / "x.npy", rng_images((4, 3, 5, 3)))
    with pytest.raises(GenbenchError, match="cannot tell whether.*N×C×H×W or N×H×W×C"):
        open_source(tmp_path / "x.npy")


def test_no_channel_axis_is_an_error(tmp_path):
    np.save(tmp_path / "x.npy", rng_images((4, 4, 5, 6)))
    with pytest.raises(GenbenchError, match="no channel axis"):
        open_source(tmp_path / "x.npy")


def test_first_n_in_order_and_too_many_is_an_error():
    images = rng_images((20, 1, 6, 6))
    src = open_source(images)
    np.testing.assert_array_equal(collect(src, 13, batch_size=5), images[:13])
    with pytest.raises(GenbenchError, match="21 samples requested but only 20"):
        list(src.batches(21, 5, 0))


def test_torch_tensor_in_memory():
    images = rng_images((5, 1, 6, 6))
    np.testing.assert_array_equal(collect(open_source(torch.from_numpy(images)), 5), images)


def test_integer_images_must_be_in_0_255():
    ok = rng_images((4, 1, 6, 6)).astype(np.int64)
    np.testing.assert_array_equal(collect(open_source(ok), 4), ok.astype(np.uint8))
    bad = ok.copy()
    bad[0, 0, 0, 0] = 300
    with pytest.raises(GenbenchError, match="0..255"):
        collect(open_source(bad), 4)


# ---------------------------------------------------------------- arrays: npz keys


def test_npz_key_choice(tmp_path):
    a, b = rng_images((3, 1, 5, 5), 1), rng_images((3, 1, 5, 5), 2)
    np.savez(tmp_path / "s.npz", other=a, samples=b)
    np.testing.assert_array_equal(collect(open_source(tmp_path / "s.npz"), 3), b)
    np.savez(tmp_path / "arr.npz", a)  # unnamed → arr_0
    np.testing.assert_array_equal(collect(open_source(tmp_path / "arr.npz"), 3), a)
    np.savez(tmp_path / "single.npz", imgs=a)
    np.testing.assert_array_equal(collect(open_source(tmp_path / "single.npz"), 3), a)
    np.savez(tmp_path / "many.npz", x=a, y=b)
    with pytest.raises(GenbenchError, match=r"several arrays \(x, y\)"):
        open_source(tmp_path / "many.npz")


def test_stats_npz_is_not_samples(tmp_path):
    np.savez(tmp_path / "stats.npz", mu=np.zeros(4), sigma=np.eye(4))
    with pytest.raises(GenbenchError, match="reference statistics"):
        open_source(tmp_path / "stats.npz")


def test_corrupt_and_object_npz(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not a zip at all")
    with pytest.raises(GenbenchError, match="bad.npz"):
        open_source(tmp_path / "bad.npz")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(GenbenchError, match="obj.npy"):
        open_source(tmp_path / "obj.npy")


# ---------------------------------------------------------------- arrays: untrusted sizes


def _npy_header(shape, dtype="|u1") -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _traced_peak(fn):
    """(result, peak bytes allocated while fn ran); numpy's buffers are traced too."""
    import tracemalloc

    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_header_declaring_a_huge_array_is_refused_without_allocating(tmp_path, suffix):
    """A header declaring 10¹² elements: np.load allocated (or tried to) before anything checked it."""
    data = _npy_header((10**6, 1000, 1000)) + bytes(784)
    path = tmp_path / f"huge{suffix}"
    if suffix == ".npy":
        path.write_bytes(data)
    else:
        import zipfile

        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("samples.npy", data)

    def open_it():
        with pytest.raises(GenbenchError, match=r"huge\.np.*declares shape \(1000000, 1000, 1000\)"):
            open_source(path)

    _, peak = _traced_peak(open_it)
    assert peak < 20 << 20


def test_compressed_npz_reads_only_the_rows_asked_for(tmp_path):
    """200 MB of zeros deflate to ~200 KB; reading 10 samples must not inflate all of it."""
    import zipfile

    n_rows = 255_000  # × 784 bytes ≈ 200 MB
    path = tmp_path / "zeros.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("samples.npy", "w", force_zip64=True) as f:
            f.write(_npy_header((n_rows, 28, 28)))
            block = bytes(784 * 1000)
            for _ in range(n_rows // 1000):
                f.write(block)
    marker = rng_images((3, 28, 28), 6)  # rows 5..7 are not zero, to check the right rows come back
    assert path.stat().st_size < 2 << 20
    (src, out), peak = _traced_peak(lambda: (src := open_source(path), collect(src, 10, batch_size=4)))
    assert src.n_available == n_rows
    assert out.shape == (10, 1, 28, 28) and not out.any()
    assert peak < 10 << 20

    # the streamed reader returns what np.load returns, batch after batch and read again
    x = rng_images((50, 28, 28), 7)
    x[5:8] = marker
    np.savez_compressed(tmp_path / "r.npz", samples=x)
    src = open_source(tmp_path / "r.npz")
    np.testing.assert_array_equal(collect(src, 50, batch_size=7)[:, 0], x)
    np.testing.assert_array_equal(collect(src, 9, batch_size=9)[:, 0], x[:9])
    np.savez(tmp_path / "f.npz", samples=np.asfortranarray(x))  # Fortran order: small, read whole
    np.testing.assert_array_equal(collect(open_source(tmp_path / "f.npz"), 50)[:, 0], x)


def test_truncated_npz_member_is_an_error(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "t.npz", "w") as zf:
        zf.writestr("samples.npy", _npy_header((10, 28, 28)) + bytes(784 * 3))
    with pytest.raises(GenbenchError, match=r"t\.npz.*declares shape \(10, 28, 28\)"):
        open_source(tmp_path / "t.npz")


def test_resize_target_is_bounded():
    with pytest.raises(GenbenchError, match=r"at most 4096x4096"):
        open_source(rng_images((2, 8, 8)), resize="100000x100000")
    assert open_source(rng_images((2, 8, 8)), resize="4096x16").image_shape == (1, 4096, 16)


def test_reads_are_cut_to_the_byte_budget(monkeypatch):
    """Whatever the batch size, one read holds at most READ_BUDGET_BYTES (a sample at least)."""
    import genbench.sources.base as base

    monkeypatch.setattr(base, "READ_BUDGET_BYTES", 4 * 10 * 10 * 5)  # five 10×10 float32 samples
    x = np.random.default_rng(0).random((23, 1, 10, 10), dtype=np.float32)
    src = open_source(x, value_range=(0, 1))
    sizes = [len(b) for b in src.batches(23, batch_size=250)]
    assert sizes == [5, 5, 5, 5, 3]
    np.testing.assert_array_equal(np.concatenate(list(src.batches(23, 250))), quantize(x, (0, 1)))
    with pytest.raises(GenbenchError, match="one sample of shape"):
        open_source(np.zeros((2, 1, 40, 40), np.float32), value_range=(0, 1))


def test_folder_batches_are_cut_to_the_byte_budget(tmp_path, monkeypatch):
    """250 large images (a PNG of one colour is tiny on disk) in one batch would take tens of GB."""
    import genbench.sources.base as base

    for i in range(7):
        write_png(tmp_path / f"{i}.png", rng_images((10, 10), i))
    monkeypatch.setattr(base, "READ_BUDGET_BYTES", 3 * (4 * 100 + 2 * 100))  # three 10×10 images
    src = open_source(tmp_path)
    assert [len(b) for b in src.batches(7, batch_size=250)] == [3, 3, 1]


# ---------------------------------------------------------------- float images and points


def test_float_images_need_a_range(tmp_path):
    np.save(tmp_path / "f.npy", np.random.default_rng(0).random((4, 1, 6, 6), dtype=np.float32))
    with pytest.raises(GenbenchError, match="does not guess"):
        open_source(tmp_path / "f.npy")
    with pytest.raises(GenbenchError, match="not supported"):
        open_source(tmp_path / "f.npy", value_range=(0, 255))


def test_quantize_hand_values():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 1.1, -1.2], dtype=np.float32)
    # (x+1)/2*255 + 0.5, floored: -1→0, -0.5→64.25→64, 0→128, 0.5→191.75→191, 1→255; clipped ends
    assert quantize(x, (-1, 1)).tolist() == [0, 64, 128, 191, 255, 255, 0]
    assert quantize(np.array([0.0, 0.5, 1.0, 0.002]), (0, 1)).tolist() == [0, 128, 255, 1]


@pytest.mark.slow  # importing torchvision takes seconds on a loaded CPU
@pytest.mark.parametrize("value_range", [(0.0, 1.0), (-1.0, 1.0)])
def test_quantize_matches_torchvision_png(tmp_path, value_range):
    """Oracle: torchvision.utils.save_image writes the PNG a user would have saved."""
    from torchvision.utils import save_image

    lo, hi = value_range
    x = torch.rand(6, 1, 10, 10, generator=torch.Generator().manual_seed(3)) * (hi - lo) + lo
    ours = collect(open_source(x.numpy(), value_range=value_range), 6)
    for i in range(6):
        kw = {} if value_range == (0, 1) else {"normalize": True, "value_range": value_range}
        save_image(x[i : i + 1], tmp_path / f"{i}.png", **kw)
        png = np.asarray(Image.open(tmp_path / f"{i}.png"))[..., 0]
        np.testing.assert_array_equal(ours[i, 0], png)


def test_float_range_mismatch_and_nan_are_errors():
    x = np.random.default_rng(0).random((4, 1, 6, 6), dtype=np.float32) * 2 - 1  # really [-1, 1]
    with pytest.raises(GenbenchError, match=r"declared to be in \[0, 1\]"):
        collect(open_source(x, value_range=(0, 1)), 4)
    x[1, 0, 2, 2] = np.nan
    with pytest.raises(GenbenchError, match="NaN"):
        collect(open_source(x, value_range=(-1, 1)), 4)


def test_zero_one_images_declared_minus_one_one_warn_once():
    """The reverse of the mismatch above stays inside the range, so it passed silently."""
    import warnings

    x = np.random.default_rng(0).random((20, 1, 6, 6), dtype=np.float32)  # really [0, 1]
    src = open_source(x, value_range=(-1, 1))
    with pytest.warns(UserWarning, match=r"declared to be in \[-1, 1\] but all 20 samples lie in \[0, 1\].*--range 0,1"):
        collect(src, 20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        collect(src, 20)  # said once per source
        collect(open_source(x * 2 - 1, value_range=(-1, 1)), 20)  # really [-1, 1]: no warning
        collect(open_source(x[:5], value_range=(-1, 1)), 5)  # too few samples to tell


def test_points(tmp_path):
    pts = np.random.default_rng(0).normal(size=(11, 2))
    np.save(tmp_path / "p.npy", pts)
    src = open_source(tmp_path / "p.npy")
    assert src.kind == "points" and src.image_shape is None
    out = collect(src, 11, batch_size=4)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, pts, rtol=1e-6)
    with pytest.raises(GenbenchError, match="applies only to images"):
        open_source(tmp_path / "p.npy", value_range=(0, 1))
    with pytest.raises(GenbenchError, match="must be floats"):
        open_source(np.zeros((5, 2), dtype=np.int64))


def test_resize_arrays_with_pil_bicubic():
    images = rng_images((3, 3, 8, 8))
    out = collect(open_source(images, resize="4x6"), 3)
    assert out.shape == (3, 3, 4, 6)
    expect = np.asarray(Image.fromarray(images[1].transpose(1, 2, 0)).resize((6, 4), Image.BICUBIC))
    np.testing.assert_array_equal(out[1], expect.transpose(2, 0, 1))


# ---------------------------------------------------------------- image folders


def write_png(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def test_folder_grey_recursive_sorted(tmp_path):
    imgs = rng_images((5, 7, 6))
    names = ["b.png", "a.png", "sub/c.png", "sub/a.PNG", "z/0.png"]
    for name, img in zip(names, imgs):
        write_png(tmp_path / name, img)
    (tmp_path / "notes.txt").write_text("ignored")
    src = open_source(tmp_path)
    assert src.kind == "image" and src.n_available == 5 and src.image_shape == (1, 7, 6)
    order = sorted(range(5), key=lambda i: names[i])  # a, b, sub/a.PNG, sub/c, z/0
    np.testing.assert_array_equal(collect(src, 5, batch_size=2)[:, 0], imgs[order])
    d = src.describe()
    assert d["type"] == "image-folder" and len(d["sha256"]) == 64


def test_folder_any_colour_makes_all_rgb(tmp_path):
    grey = rng_images((6, 5), 1)
    rgb = rng_images((6, 5, 3), 2)
    write_png(tmp_path / "0.png", grey)
    write_png(tmp_path / "1.png", rgb)
    out = collect(open_source(tmp_path), 2)
    assert out.shape == (2, 3, 6, 5)
    for c in range(3):
        np.testing.assert_array_equal(out[0, c], grey)
    np.testing.assert_array_equal(out[1], rgb.transpose(2, 0, 1))


def test_folder_mixed_sizes_names_two_files(tmp_path):
    write_png(tmp_path / "a.png", rng_images((8, 8)))
    write_png(tmp_path / "b.png", rng_images((8, 8)))
    write_png(tmp_path / "c.png", rng_images((9, 8)))
    with pytest.raises(GenbenchError, match=r"a\.png is 8×8.*c\.png is 9×8.*--resize"):
        open_source(tmp_path)
    out = collect(open_source(tmp_path, resize=(8, 8)), 3)
    assert out.shape == (3, 1, 8, 8)


def test_folder_jpeg_and_errors(tmp_path):
    Image.fromarray(rng_images((8, 8, 3))).save(tmp_path / "x.jpg", quality=95)
    out = collect(open_source(tmp_path), 1)
    expect = np.asarray(Image.open(tmp_path / "x.jpg").convert("RGB")).transpose(2, 0, 1)
    np.testing.assert_array_equal(out[0], expect)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(GenbenchError, match="broken.png"):
        open_source(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(GenbenchError, match="no images found"):
        open_source(empty)
    with pytest.raises(GenbenchError, match="value range does not apply"):
        open_source(tmp_path / "empty", value_range=(0, 1))


# pytorch-fid's nine suffixes, each written by PIL in its format (grey where the format is grey-only)
FOLDER_FORMATS = [(".bmp", {}), (".jpg", {"quality": 95}), (".jpeg", {"quality": 95}), (".pgm", {}),
                  (".png", {}), (".ppm", {}), (".tif", {}), (".tiff", {}), (".webp", {"lossless": True})]


@pytest.mark.parametrize("suffix, options", FOLDER_FORMATS, ids=[s for s, _ in FOLDER_FORMATS])
def test_folder_reads_pytorch_fids_suffixes(tmp_path, suffix, options):
    """pytorch-fid reads these nine; genbench read only PNG/JPEG and skipped the rest silently."""
    img = rng_images((10, 12, 3), 4)
    if suffix == ".pgm":
        img = img[:, :, 0]
    Image.fromarray(img).save(tmp_path / f"a{suffix}", **options)
    Image.fromarray(img).save(tmp_path / f"B{suffix.upper()}", **options)  # upper case too
    src = open_source(tmp_path)
    assert src.n_available == 2
    expect = np.asarray(Image.open(tmp_path / f"a{suffix}").convert("L" if img.ndim == 2 else "RGB"))
    got = collect(src, 2)[1]  # sorted: "B…" < "a…"
    np.testing.assert_array_equal(got[0] if img.ndim == 2 else got.transpose(1, 2, 0), expect)


def test_folder_warns_once_about_skipped_files(tmp_path, caplog):
    write_png(tmp_path / "a.png", rng_images((6, 6)))
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.json").write_text("{}")
    with caplog.at_level("WARNING", logger="genbench"):
        src = open_source(tmp_path)
    said = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(said) == 1 and "skipped 2 file(s)" in said[0] and "notes.txt" in said[0]
    assert src.describe()["skipped_files"] == {"count": 2, "example": "notes.txt"}
    assert src.n_available == 1


def _png_bytes(shape=(16, 16)) -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(rng_images(shape, 5)).save(buf, format="PNG")
    return buf.getvalue()


def test_folder_corrupt_images_are_one_line_errors(tmp_path):
    """A truncated PNG, a PNG whose image data fails its CRC, a truncated JPEG (found only when
    decoding) and a decompression bomb: each an error naming the file, no traceback."""
    good = _png_bytes()
    idat = good.find(b"IDAT")
    cases = {
        "truncated.png": good[: idat + 30],
        "badcrc.png": good[: idat + 10] + bytes([good[idat + 10] ^ 0xFF]) + good[idat + 11 :],
    }
    for name, data in cases.items():
        folder = tmp_path / name.split(".")[0]
        folder.mkdir()
        write_png(folder / "ok.png", rng_images((16, 16)))
        (folder / name).write_bytes(data)
        with pytest.raises(GenbenchError, match=rf"{name}: not a readable image, corrupt or truncated"):
            collect(open_source(folder), 2)
    folder = tmp_path / "jpeg"
    folder.mkdir()
    Image.fromarray(rng_images((64, 64, 3))).save(folder / "a.jpg", quality=95)
    data = (folder / "a.jpg").read_bytes()
    (folder / "a.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(GenbenchError, match=r"a\.jpg: not a readable image, corrupt or truncated"):
        collect(open_source(folder), 1)


@pytest.mark.parametrize("limit", [500, 1500])  # 64×64 = 4096 pixels: over 2× the limit (PIL's error), under (its warning)
def test_folder_decompression_bomb_is_refused(tmp_path, monkeypatch, limit):
    write_png(tmp_path / "bomb.png", rng_images((64, 64)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    with pytest.raises(GenbenchError, match=r"bomb\.png: the image is too large"):
        open_source(tmp_path)


# ---------------------------------------------------------------- TorchScript generators


class TinyGenerator(torch.nn.Module):
    def __init__(self, latent_dim: int = 5, channels: int = 1):
        super().__init__()
        self.latent_dim = latent_dim
        self.channels = channels
        self.net = torch.nn.Linear(latent_dim, channels * 8 * 8)
        torch.manual_seed(0)
        torch.nn.init.normal_(self.net.weight)

    def forward(self, z):
        return torch.tanh(self.net(z)).view(-1, self.channels, 8, 8)


class TinyPoints(torch.nn.Module):
    def forward(self, z):
        return z[:, :2] * 3.0


def test_torchscript_generator_matches_direct_call(tmp_path):
    g = TinyGenerator()
    torch.jit.script(g).save(str(tmp_path / "g.pt"))
    src = open_source(tmp_path / "g.pt", value_range=(-1, 1), device="cpu")
    assert src.kind == "image" and src.n_available is None and src.image_shape == (1, 8, 8)
    out = collect(src, 23, batch_size=5, seed=7)
    z = latents(7, 0, 23, 5)
    with torch.no_grad():
        expect = g(torch.from_numpy(z)).numpy()
    expect = np.floor(np.clip((expect + 1) / 2, 0, 1) * 255 + 0.5).astype(np.uint8)
    assert (out != expect).mean() < 1e-3  # float32 rounding at ties only
    # same seed → same samples whatever the batch size; another seed → other samples
    np.testing.assert_array_equal(collect(src, 23, batch_size=23, seed=7), out)
    assert not np.array_equal(collect(src, 23, batch_size=5, seed=8), out)
    d = src.describe()
    assert d["type"] == "torchscript" and d["latent_dim"] == 5 and d["value_range"] == [-1.0, 1.0]


def test_torchscript_with_flipped_weight_bytes_is_refused(tmp_path):
    """torch.jit.load does not check the archive's CRC-32s: flipped bytes in the weights gave
    other samples (another FID) and exit 0."""
    import zipfile

    torch.jit.script(TinyGenerator()).save(str(tmp_path / "g.pt"))
    data = bytearray((tmp_path / "g.pt").read_bytes())
    with zipfile.ZipFile(tmp_path / "g.pt") as zf:
        weights = max((i for i in zf.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
        assert weights.compress_type == zipfile.ZIP_STORED and weights.file_size == 5 * 64 * 4
    name_len, extra_len = np.frombuffer(data, "<u2", 2, weights.header_offset + 26)  # local file header
    start = weights.header_offset + 30 + int(name_len) + int(extra_len)
    for i in range(start + 40, start + 48):  # inside the Linear weight tensor, not a header
        data[i] ^= 0xFF
    (tmp_path / "bad.pt").write_bytes(bytes(data))
    with pytest.raises(GenbenchError, match=r"bad\.pt: the archive is corrupt.*CRC"):
        open_source(tmp_path / "bad.pt", value_range=(-1, 1), device="cpu")
    assert open_source(tmp_path / "g.pt", value_range=(-1, 1), device="cpu").image_shape == (1, 8, 8)


def test_latent_stream_is_batch_size_invariant():
    np.testing.assert_array_equal(latents(3, 4, 6, 2), latents(3, 0, 10, 2)[4:])


def test_torchscript_needs_range_and_latent_dim(tmp_path):
    torch.jit.script(TinyGenerator()).save(str(tmp_path / "g.pt"))
    with pytest.raises(GenbenchError, match="does not guess"):
        open_source(tmp_path / "g.pt")
    with pytest.raises(GenbenchError, match="declares latent_dim=5"):
        open_source(tmp_path / "g.pt", value_range=(-1, 1), latent_dim=4)
    traced = torch.jit.trace(TinyGenerator(), torch.zeros(2, 5))  # tracing drops the attribute
    traced.save(str(tmp_path / "t.pt"))
    with pytest.raises(GenbenchError, match="--latent-dim"):
        open_source(tmp_path / "t.pt", value_range=(-1, 1))
    src = open_source(tmp_path / "t.pt", value_range=(-1, 1), latent_dim=5)
    assert collect(src, 3).shape == (3, 1, 8, 8)
    with pytest.raises(GenbenchError, match="calling the generator"):
        open_source(tmp_path / "t.pt", value_range=(-1, 1), latent_dim=6)


def test_torchscript_points(tmp_path):
    torch.jit.script(TinyPoints()).save(str(tmp_path / "p.pt"))
    src = open_source(tmp_path / "p.pt", latent_dim=3)
    assert src.kind == "points"
    np.testing.assert_allclose(collect(src, 9, seed=1), latents(1, 0, 9, 3)[:, :2] * 3.0, rtol=1e-6)


class Boom:
    """Unpickling this writes a marker file: proof that code ran."""

    marker = None

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "pwned"))


def test_pickled_model_is_refused_without_running_code(tmp_path):
    torch.save(TinyGenerator(), tmp_path / "full.pt")
    with pytest.raises(GenbenchError, match="refusing to load a pickled model.*TorchScript"):
        open_source(tmp_path / "full.pt", value_range=(-1, 1))
    marker = tmp_path / "marker"
    boom = Boom()
    boom.marker = str(marker)
    torch.save({"x": boom}, tmp_path / "evil.pth")
    with pytest.raises(GenbenchError, match="refusing"):
        open_source(tmp_path / "evil.pth")
    assert not marker.exists()
    torch.save(TinyGenerator().state_dict(), tmp_path / "sd.pt")
    with pytest.raises(GenbenchError, match="state dict.*TorchScript"):
        open_source(tmp_path / "sd.pt")
    (tmp_path / "x.pkl").write_bytes(b"whatever")
    with pytest.raises(GenbenchError, match="refusing to unpickle"):
        open_source(tmp_path / "x.pkl")
    (tmp_path / "w.safetensors").write_bytes(b"whatever")
    with pytest.raises(GenbenchError, match="without an architecture"):
        open_source(tmp_path / "w.safetensors")


# ---------------------------------------------------------------- entry points


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    (tmp_path / "my_gen_plugin.py").write_text(
        textwrap.dedent(
            """
            import torch

            class G(torch.nn.Module):
                latent_dim = 4
                def forward(self, z):
                    return torch.sigmoid(z.sum(1)).view(-1, 1, 1, 1).expand(-1, 1, 6, 6)

            def make(device=None):
                return G().to(device)

            def make_plain():
                return lambda z: torch.sigmoid(z[:, :1]).view(-1, 1, 1, 1).expand(-1, 1, 6, 6)

            def not_a_generator():
                return 42

            def exits_when_building():
                raise SystemExit(0)

            def exits_when_called():
                def g(z):
                    raise SystemExit(0)
                return g

            VALUE = 3
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_gen_plugin"
    sys.modules.pop("my_gen_plugin", None)


def test_entry_point(plugin_module):
    src = open_source(f"{plugin_module}:make", value_range=(0, 1))
    out = collect(src, 10, seed=2)
    z = latents(2, 0, 10, 4)
    expect = np.floor(1 / (1 + np.exp(-z.sum(1).astype(np.float64))) * 255 + 0.5)
    assert np.abs(out[:, 0, 0, 0].astype(int) - expect).max() <= 1
    assert src.describe()["entry_point"] == f"{plugin_module}:make"
    with pytest.raises(GenbenchError, match="--latent-dim"):
        open_source(f"{plugin_module}:make_plain", value_range=(0, 1))
    assert collect(open_source(f"{plugin_module}:make_plain", value_range=(0, 1), latent_dim=2), 3).shape == (3, 1, 6, 6)


def test_bad_entry_points(plugin_module):
    with pytest.raises(GenbenchError, match="cannot import module 'no_such_genbench_mod'"):
        open_source("no_such_genbench_mod:make")
    with pytest.raises(GenbenchError, match="has no attribute 'missing'"):
        open_source(f"{plugin_module}:missing")
    with pytest.raises(GenbenchError, match="is not callable"):
        open_source(f"{plugin_module}:VALUE")
    with pytest.raises(GenbenchError, match="returned int"):
        open_source(f"{plugin_module}:not_a_generator")
    with pytest.raises(GenbenchError, match="no such file"):
        open_source("does/not/exist.npz")


@pytest.mark.parametrize("name, stage", [("exits_when_building", "building the generator failed"),
                                         ("exits_when_called", "calling the generator")])
def test_sys_exit_in_user_code_is_an_error_naming_it(plugin_module, name, stage):
    """SystemExit(0) from a user generator made `genbench eval` exit 0 with no output."""
    with pytest.raises(GenbenchError, match=rf"entry point '{plugin_module}:{name}': {stage}.*SystemExit"):
        open_source(f"{plugin_module}:{name}", value_range=(0, 1), latent_dim=2)


# ---------------------------------------------------------------- genbench checkpoints


class FakeTrained:
    name = "fake"
    config = {"a": 1}
    dataset_fingerprint = {"name": "ring8"}
    step = 3

    def sample(self, n, seed, batch_size=500):
        return np.random.default_rng(seed).normal(size=(n, 2)).astype(np.float32)


def test_checkpoint_dir_goes_through_baselines_load(tmp_path, monkeypatch):
    import baselines

    calls = []
    monkeypatch.setattr(baselines, "load", lambda path, device=None: calls.append(Path(path)) or FakeTrained())
    (tmp_path / "config.json").write_text(json.dumps({"model": "fake"}))
    with pytest.raises(GenbenchError, match="missing model.safetensors"):
        open_source(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"\0")
    src = open_source(tmp_path)
    assert calls == [tmp_path] and src.kind == "points"
    np.testing.assert_array_equal(collect(src, 12, seed=4), FakeTrained().sample(12, 4))
    d = src.describe()
    assert d["type"] == "genbench-checkpoint" and d["model"] == "fake" and d["step"] == 3
    with pytest.raises(GenbenchError, match="latent_dim applies only"):
        open_source(tmp_path, latent_dim=3)


def test_image_folder_with_a_config_json_is_still_an_image_folder(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    write_png(tmp_path / "a.png", rng_images((5, 5)))
    assert open_source(tmp_path).describe()["type"] == "image-folder"


def test_real_baseline_checkpoint(tmp_path):
    """A checkpoint written by baselines.train opens as a source and samples deterministically."""
    import baselines
    from genbench.data import load_dataset

    ring = load_dataset("ring8")
    ckpt = baselines.train("gan", ring, out_dir=tmp_path / "gan", steps=2, seed=0, device="cpu", progress=False)
    src = open_source(ckpt, device="cpu")
    assert src.kind == "points" and src.n_available is None
    a = collect(src, 50, batch_size=16, seed=1)
    assert a.shape == (50, 2) and a.dtype == np.float32
    np.testing.assert_array_equal(collect(src, 50, batch_size=50, seed=1), a)
    np.testing.assert_array_equal(a, baselines.load(ckpt, device="cpu").sample(50, 1))
    d = src.describe()
    assert d["model"] == "gan" and d["dataset_fingerprint"]["sha256"] == ring.fingerprint.sha256
