"""Folder datasets: ``folder:PATH?size=N`` (any image folder) and ``srN:PATH`` (an SR test folder).

Oracles: PIL itself (crop + resize of the file), hashlib (the split rule), the SR protocol's own
modcrop/degrade and the shipped ``photos-sr4`` (a folder of its test photos must give its arrays),
and ``genbench eval TRANSLATOR --task sr4 --targets`` (image-by-image scoring of a folder).
"""

import hashlib
import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import genbench.data.folder as folder_module
from genbench.data import DATASETS, dataset_spec, expand_dataset_pattern, load_dataset
from genbench.data.dataset import Split, compute_fingerprint
from genbench.errors import GenbenchError
from genbench.imaging import sr

PHOTOS = Path(__file__).resolve().parents[2] / "genbench" / "assets" / "photos"


def _photo(name: str, mode: str = "RGB") -> np.ndarray:
    with Image.open(PHOTOS / f"{name}.png") as im:
        return np.asarray(im.convert(mode))


@pytest.fixture
def images(tmp_path):
    """20 random RGB images of various sizes (≥ 40 px) plus a text file."""
    d = tmp_path / "imgs"
    d.mkdir()
    rng = np.random.default_rng(0)
    for i in range(20):
        h, w = rng.integers(40, 90, 2)
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(d / f"im{i:02d}.png")
    (d / "README.txt").write_text("not an image")
    return d


def _name(path, size=32):
    return f"folder:{path}?size={size}"


# ----------------------------------------------------------------------------- folder:


def test_folder_is_resolved_by_the_one_registry_and_listed():
    assert "folder:PATH?size=N" in DATASETS and "srN:PATH" in DATASETS
    spec = dataset_spec("folder:/data/celeba?size=64")
    assert spec.name == "folder:/data/celeba?size=64" and spec.kind == "image" and spec.extractor == "inception-v3-fid"
    assert dataset_spec("sr4:Set5").kind == "image"
    assert dataset_spec("cifar") is None


def test_folder_prepares_every_image_as_pil_crops_and_resizes_it(images):
    ds = load_dataset(_name(images))
    files = sorted(images.glob("*.png"))
    got = {}
    for split in ("train", "val", "test"):
        assert ds.split(split).samples.dtype == np.uint8 and ds.split(split).samples.shape[1:] == (3, 32, 32)
    # each split in relative-path order; the union is every image
    rel = {p: p.name for p in files}
    ordered = sorted(files, key=lambda p: hashlib.sha256(rel[p].encode()).hexdigest())
    expect = {"train": sorted(ordered[:16], key=rel.get), "val": sorted(ordered[16:18], key=rel.get),
              "test": sorted(ordered[18:], key=rel.get)}
    for split, paths in expect.items():
        for i, p in enumerate(paths):
            with Image.open(p) as im:  # PIL alone: crop box, then bicubic resize
                w, h = im.size
                s = min(w, h)
                left, top = (w - s) // 2, (h - s) // 2
                want = np.asarray(im.convert("RGB").crop((left, top, left + s, top + s)).resize((32, 32), Image.BICUBIC))
            got[p] = ds.split(split).samples[i]
            np.testing.assert_array_equal(got[p], want.transpose(2, 0, 1), err_msg=str(p))
    assert len(got) == 20
    assert ds.warnings and "README.txt" in ds.warnings[0] and "1 file" in ds.warnings[0]
    assert "centre square crop" in ds.source and "PIL bicubic" in ds.source and "sha256" in ds.source


def test_folder_fingerprint_is_stable_and_moves_with_one_pixel_and_the_size(images):
    a = load_dataset(_name(images)).fingerprint
    assert load_dataset(_name(images)).fingerprint == a
    assert load_dataset(_name(images, 24)).fingerprint.sha256 != a.sha256
    arr = np.asarray(Image.open(images / "im03.png")).copy()
    arr[20, 20, 0] ^= 0xFF  # a centre pixel: it survives the crop
    Image.fromarray(arr).save(images / "im03.png")
    b = load_dataset(_name(images)).fingerprint
    assert b.sha256 != a.sha256 and b.sizes == a.sizes == {"train": 16, "val": 2, "test": 2}


def test_folder_fingerprint_covers_the_preparation_rule(images, monkeypatch):
    a = load_dataset(_name(images)).fingerprint
    monkeypatch.setattr(folder_module, "PREPARATION", folder_module.PREPARATION + " (changed)")
    assert load_dataset(_name(images)).fingerprint.sha256 != a.sha256


def test_folder_split_subfolders_are_the_splits(tmp_path):
    rng = np.random.default_rng(1)
    for split, n in (("train", 3), ("val", 1), ("test", 2)):
        (tmp_path / "d" / split / "x").mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(tmp_path / "d" / split / "x" / f"{i}.png")
    ds = load_dataset("folder:d?size=16", data_root=tmp_path)  # relative: below the data root
    assert ds.fingerprint.sizes == {"train": 3, "val": 1, "test": 2}
    assert ds.image_shape == (1, 16, 16)  # all greyscale: one channel
    np.testing.assert_array_equal(ds.split("test").samples[1, 0], np.asarray(Image.open(tmp_path / "d/test/x/1.png")))
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "d" / "stray.png")
    with pytest.raises(GenbenchError, match="stray.png lies outside train/ val/ test/"):
        load_dataset(f"folder:{tmp_path / 'd'}?size=16")
    (tmp_path / "d" / "stray.png").unlink()
    shutil.rmtree(tmp_path / "d" / "val")
    with pytest.raises(GenbenchError, match=r"no val/"):
        load_dataset(f"folder:{tmp_path / 'd'}?size=16")


def test_folder_replicates_greyscale_images_when_any_is_in_colour(tmp_path):
    d = tmp_path / "mixed"
    d.mkdir()
    Image.fromarray(_photo("coffee")[:40, :40]).save(d / "a.png")
    Image.fromarray(_photo("astronaut", "L")[:40, :40]).save(d / "b.png")
    Image.fromarray(_photo("chelsea")[:40, :40]).save(d / "c.jpg")
    ds = load_dataset(_name(d, 40))
    assert ds.image_shape == (3, 40, 40)
    grey = np.concatenate([ds.split(s).samples for s in ("train", "val", "test")])
    rows = [x for x in grey if np.array_equal(x[0], x[1]) and np.array_equal(x[1], x[2])]
    np.testing.assert_array_equal(rows[0][0], _photo("astronaut", "L")[:40, :40])


@pytest.mark.parametrize("name, message", [
    ("folder:?size=8", "no folder given"),
    ("folder:/x", "give the image size"),
    ("folder:/x?size=big", "size must be an integer"),
    ("folder:/x?size=4", "size must be an integer from 8"),
    ("folder:/x?size=8&crop=none", "give the image size and nothing else"),
    ("folder:/data/../etc?size=8", r"may not contain '\.\.'"),
    ("sr5:/x", "scale 5 is not one of 2, 3, 4"),
    ("sr4:/x?size=8", "takes no options"),
])
def test_malformed_folder_names_are_one_line_errors(name, message):
    with pytest.raises(GenbenchError, match=message) as info:
        load_dataset(name)
    assert "\n" not in str(info.value)


def test_missing_and_empty_folders_name_the_folder(tmp_path):
    with pytest.raises(GenbenchError, match="no folder .*nope.*below the data root"):
        load_dataset("folder:nope?size=8", data_root=tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(GenbenchError, match="no images in .*empty"):
        load_dataset(f"folder:{tmp_path / 'empty'}?size=8")


def test_corrupt_small_and_huge_images_are_refused_naming_the_file(images, monkeypatch):
    good = load_dataset(_name(images)).fingerprint
    (images / "im05.png").write_bytes((images / "im05.png").read_bytes()[:200])  # truncated
    with pytest.raises(GenbenchError, match=r"im05\.png: not a readable image"):
        load_dataset(_name(images))
    (images / "im05.png").unlink()
    Image.fromarray(np.zeros((30, 50, 3), np.uint8)).save(images / "tiny.png")
    with pytest.raises(GenbenchError, match=r"tiny\.png is 30×50 \(H×W\), smaller than the requested 32×32"):
        load_dataset(_name(images))
    (images / "tiny.png").unlink()
    assert load_dataset(_name(images)).fingerprint.sizes != good.sizes  # 19 images now
    # a header claiming 40000×40000 pixels (a decompression bomb) is refused before decoding
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", (40000).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0]))
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))
    (images / "bomb.png").write_bytes(bomb)
    with pytest.raises(GenbenchError, match=r"bomb\.png: .*(more than genbench reads|too large)"):
        load_dataset(_name(images))


def test_dataset_memory_is_checked_before_reading(images, monkeypatch):
    monkeypatch.setattr(folder_module, "MAX_DATASET_BYTES", 20 * 3 * 32 * 32 - 1)
    read = []
    monkeypatch.setattr("genbench.sources.folder.read_image", lambda *a, **k: read.append(a) or 1 / 0)
    with pytest.raises(GenbenchError, match=r"20 images of 3,072 bytes are 0\.0 GiB, more than genbench holds"):
        load_dataset(_name(images))
    assert read == []


def test_dcgan_trains_on_a_folder_dataset(images, tmp_path):
    import baselines

    ds = load_dataset(_name(images))
    ckpt = baselines.train("dcgan", ds, out_dir=tmp_path / "ck", overrides={"batch_size": 8}, steps=2, seed=0,
                           device="cpu", progress=False)
    samples = baselines.load(ckpt, device="cpu").sample(4, seed=0)
    assert tuple(np.asarray(samples).shape) == (4, 3, 32, 32)


# ----------------------------------------------------------------------------- srN:


def _sr_folder(root: Path, name: str, images: dict[str, np.ndarray]) -> Path:
    d = root / name
    d.mkdir(parents=True)
    for k, arr in images.items():
        Image.fromarray(arr).save(d / f"{k}.png")
    return d


def test_sr_folder_of_the_test_photos_is_photos_sr4(tmp_path):
    _sr_folder(tmp_path, "photos", {n: _photo(n) for n in ("astronaut", "coffee", "grace_hopper")})
    ds = load_dataset("sr4:photos", data_root=tmp_path)
    ref = load_dataset("photos-sr4")
    assert ds.task == ref.task and ds.fingerprint.sizes == ref.fingerprint.sizes
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(ds.split(split).samples, ref.split(split).samples)
        np.testing.assert_array_equal(ds.split(split).inputs, ref.split(split).inputs)
    assert ds.split("test").sizes is None  # one size: a plain array
    assert load_dataset("sr4:photos", data_root=tmp_path).fingerprint == ds.fingerprint
    assert ref.fingerprint.sha256 == "67191ad40709067f32953f05917eb3de050fad0a7f74c85f19c042f7d9726522"  # unchanged


def test_sr_folder_bicubic_scores_equal_photos_sr4s(tmp_path):
    """Oracle: the existing protocol path (photos-sr4) scored by the same code on the same photos."""
    import torch

    from genbench.translations import Translations, evaluate_translations

    _sr_folder(tmp_path, "photos", {n: _photo(n) for n in ("astronaut", "coffee", "grace_hopper")})
    scores = []
    for ds in (load_dataset("sr4:photos", data_root=tmp_path), load_dataset("photos-sr4")):
        s = ds.split("test")
        out = sr.bicubic_upscaler(4)(torch.from_numpy(s.inputs))
        tr = Translations(outputs=np.asarray(out), indices=np.arange(len(s)))
        ev = evaluate_translations(tr, ds, split="test", metrics=["psnr", "ssim"], extractor=None)
        scores.append({m["name"]: m["value"] for m in ev["metrics"]})
    assert scores[0] == scores[1] and 20 < scores[0]["psnr"] < 40


def test_sr_folder_of_mixed_sizes_is_trimmed_degraded_and_kept_with_its_sizes(tmp_path):
    crops = {"a": _photo("astronaut")[:201, :150], "b": _photo("coffee")[10:110, 5:287],
             "c": _photo("grace_hopper", "L")[:123, :77]}
    _sr_folder(tmp_path, "Set3", crops)
    (tmp_path / "Set3" / "Thumbs.db").write_bytes(b"x")
    ds = load_dataset("sr3:Set3", data_root=tmp_path)
    t = ds.split("test")
    assert ds.task.scale == 3 and ds.warnings and "Thumbs.db" in ds.warnings[0]
    assert t.samples.shape == (3, 3, 201, 282) and t.inputs.shape == (3, 3, 67, 94)
    for i, k in enumerate("abc"):
        rgb = np.repeat(crops[k][None], 3, 0) if crops[k].ndim == 2 else crops[k].transpose(2, 0, 1)
        hr = sr.modcrop(rgb, 3)
        np.testing.assert_array_equal(t.target(i), hr)
        np.testing.assert_array_equal(t.input(i), sr.degrade(np.ascontiguousarray(hr), 3))
        assert tuple(t.sizes[i]) == hr.shape[1:] and tuple(t.input_sizes[i] * 3) == hr.shape[1:]
        assert not t.samples[i, :, hr.shape[1]:].any() and not t.samples[i, :, :, hr.shape[2]:].any()
    # train/val: photos-sr4's patches, inputs at ×1/3
    np.testing.assert_array_equal(ds.split("train").samples, load_dataset("photos-sr4").split("train").samples)
    assert ds.split("train").inputs.shape[2:] == (32, 32)
    # the sizes are part of the fingerprint
    moved = Split(samples=t.samples, inputs=t.inputs, sizes=t.sizes[::-1].copy(), input_sizes=t.input_sizes[::-1].copy())
    assert compute_fingerprint("x", {"test": moved}) != compute_fingerprint("x", {"test": t})


def test_sr_folder_refuses_images_too_small_for_the_scale(tmp_path):
    _sr_folder(tmp_path, "s", {"big": _photo("coffee")[:64, :64], "small": _photo("coffee")[:7, :40]})
    with pytest.raises(GenbenchError, match=r"small\.png is 7×40 \(H×W\), too small for ×4"):
        load_dataset("sr4:s", data_root=tmp_path)


def test_mixed_size_split_has_no_feature_statistics(tmp_path):
    from genbench.stats import dataset_features

    _sr_folder(tmp_path, "s", {"a": _photo("coffee")[:64, :64], "b": _photo("coffee")[:48, :64]})
    ds = load_dataset("sr4:s", data_root=tmp_path)
    with pytest.raises(GenbenchError, match="images of different sizes"):
        dataset_features(ds, "test", "inception-v3-fid")


def test_suite_sr_pattern_adds_the_image_folders_under_the_data_root(tmp_path):
    from genbench.suite import load_suite

    suite_file = Path(__file__).resolve().parents[2] / "suites" / "sr.yaml"
    assert load_suite(suite_file, "quick", data_root=tmp_path / "none").datasets == ("photos-sr4",)
    _sr_folder(tmp_path, "Set2", {"a": _photo("coffee")[:64, :64], "b": _photo("chelsea")[:64, :64]})
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    (tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").write_bytes(b"x")  # not an image folder
    assert expand_dataset_pattern("sr4:*", tmp_path) == ("sr4:Set2",)
    assert expand_dataset_pattern("photos-sr4", tmp_path) is None
    assert load_suite(suite_file, "quick", data_root=tmp_path).datasets == ("photos-sr4", "sr4:Set2")
    assert load_suite(suite_file, "full", data_root=tmp_path).datasets == ("photos-sr4", "mnist-sr2", "sr4:Set2")


@pytest.mark.slow
def test_suite_runner_scores_a_mixed_size_folder_as_genbench_eval_does(tmp_path):
    """bicubic through the suite runner on a folder of three sizes vs the image-by-image eval path."""
    from genbench.paired import evaluate_sr_translator
    from genbench.runner import Runner
    from genbench.suite import load_suite

    crops = {"a": _photo("astronaut")[:201, :150], "b": _photo("coffee")[10:110, 5:287],
             "c": _photo("grace_hopper")[:123, :77]}
    _sr_folder(tmp_path / "root", "Set3", crops)
    suite = load_suite(Path(__file__).resolve().parents[2] / "suites" / "sr.yaml", "quick", data_root=tmp_path / "root")
    summary = Runner(suite, tmp_path / "run", only=["bicubic"], data_root=str(tmp_path / "root"), device="cpu",
                     progress=False, echo=lambda s: None).run()
    assert not summary.failed
    import json

    result = json.loads((tmp_path / "run" / "jobs" / "sr4:Set3" / "bicubic" / "seed0" / "result.json").read_text())
    got = {m["name"]: m for m in result["metrics"]}
    assert "differ in size" in result["protocol"]["skipped"]["fid"]
    ckpt = next((tmp_path / "run" / "jobs" / "sr4:Set3" / "bicubic" / "seed0").glob("train-*/"))
    evaluated = evaluate_sr_translator(str(ckpt), tmp_path / "root" / "Set3", scale=4).metrics
    oracle = {m.name: m.value for m in evaluated}
    assert got["psnr"]["value"] == pytest.approx(oracle["psnr"], abs=1e-9)
    assert got["ssim"]["value"] == pytest.approx(oracle["ssim"], abs=1e-9)
    # the same ± too: the standard error of the mean over the three images (ddof 1) in both paths
    oracle_se = {m.name: m.std for m in evaluated}
    assert got["psnr"]["std"] == pytest.approx(oracle_se["psnr"], rel=1e-9)
    assert got["ssim"]["std"] == pytest.approx(oracle_se["ssim"], rel=1e-9)
    assert got["psnr"]["params"]["n_images"] == 3


def test_a_suite_whose_patterns_find_nothing_is_an_error_and_a_folder_name_is_validated(tmp_path):
    from genbench.suite import SuiteError, parse_suite

    text = "name: s\ndatasets: [{d}]\nmodels: [dcgan]\nevaluation: {{n: 10, metrics: [fid]}}\nsteps: 1\n"
    with pytest.raises(SuiteError, match=r"s\.yaml:2: datasets: sr4:\* found no dataset"):
        parse_suite(text.format(d='"sr4:*"'), "s.yaml", data_root=str(tmp_path))
    with pytest.raises(SuiteError, match=r"s\.yaml:2: datasets\[0\]: dataset 'folder:x\?size=1': size must be"):
        parse_suite(text.format(d='"folder:x?size=1"'), "s.yaml", data_root=str(tmp_path))
    with pytest.raises(SuiteError, match=r"datasets\[0\]: unknown dataset 'cifar'; known: .*folder:PATH\?size=N"):
        parse_suite(text.format(d="cifar"), "s.yaml", data_root=str(tmp_path))


def test_train_names_its_default_directory_without_the_path():
    from genbench.commands.train import default_out_dir

    assert default_out_dir("dcgan", "folder:/data/celeba?size=64", 0, None) == \
        Path("runs/train/dcgan_folder_data_celeba_size_64_seed0")


def test_split_sizes_must_fit_their_canvas():
    hr, lr = np.zeros((2, 3, 8, 8), np.uint8), np.zeros((2, 3, 4, 4), np.uint8)
    ok = np.array([[8, 6], [4, 8]])
    assert Split(samples=hr, inputs=lr, sizes=ok, input_sizes=ok // 2).target(1).shape == (3, 4, 8)
    with pytest.raises(GenbenchError, match="needs both sizes and input_sizes"):
        Split(samples=hr, inputs=lr, sizes=ok)
    with pytest.raises(GenbenchError, match="sizes must be one"):
        Split(samples=hr, inputs=lr, sizes=ok * 2, input_sizes=ok // 2)
    with pytest.raises(GenbenchError, match="only paired"):
        Split(samples=hr, inputs=lr, paired=False, sizes=ok, input_sizes=ok // 2)


def test_a_suite_trains_and_scores_on_every_folder_under_the_data_root(tmp_path):
    import json

    from genbench.runner import Runner
    from genbench.suite import parse_suite

    digits = load_dataset("mnist-5k").split("test").samples[:120]
    (tmp_path / "root" / "digits").mkdir(parents=True)
    for i, im in enumerate(digits):
        Image.fromarray(im[0]).save(tmp_path / "root" / "digits" / f"{i:04d}.png")
    text = ('name: f\ndatasets: ["folder:*?size=28"]\nsteps: 3\nmodels: [dcgan]\n'
            "evaluation: {n: 12, extractor: mnist-classifier, metrics: [fid]}\n")
    suite = parse_suite(text, str(tmp_path / "f.yaml"), data_root=str(tmp_path / "root"))
    assert suite.datasets == ("folder:digits?size=28",)
    summary = Runner(suite, tmp_path / "run", data_root=str(tmp_path / "root"), device="cpu", progress=False,
                     echo=lambda s: None).run()
    assert not summary.failed
    result = json.loads((tmp_path / "run/jobs/folder:digits?size=28/dcgan/seed0/result.json").read_text())
    assert [m["name"] for m in result["metrics"]] == ["fid"] and result["metrics"][0]["value"] > 0
