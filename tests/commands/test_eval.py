"""`genbench eval` / `genbench stats` through the real CLI entry point (in process)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from genbench.cli import main

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")



@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.getbasetemp() / "genbench-eval-cache"


@pytest.fixture(scope="module")
def digits():
    from genbench.data import load_dataset

    return load_dataset("mnist-5k").split("test").samples


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_eval_writes_json_with_protocol_and_prints_table(tmp_path, capsys, digits, cache_dir):
    np.savez(tmp_path / "s.npz", samples=digits[:300])
    code, out, err = cli(capsys, "eval", tmp_path / "s.npz", "--dataset", "mnist-5k", "--split", "train",
                         "--metrics", "fid,kid,is", "--n", 300, "--extractor", "mnist-classifier",
                         "--device", "cpu", "--seed", 5, "--json", tmp_path / "r.json", "--cache-dir", cache_dir,
                         "--no-progress", "--bootstrap", 20)
    assert code == 0, err
    d = json.loads((tmp_path / "r.json").read_text())
    p = d["protocol"]
    assert p["dataset"] == "mnist-5k" and p["split"] == "train" and p["seed"] == 5
    assert p["n_generated"] == 300 and p["n_real"] == 300
    assert p["fingerprint"]["name"] == "mnist-5k" and len(p["fingerprint"]["sha256"]) == 64
    assert p["extractor"]["name"] == "mnist-classifier" and len(p["extractor"]["weights_sha256"]) == 64
    assert p["source"]["type"] == "npz" and p["source"]["path"].endswith("s.npz")
    assert p["metric_params"]["kid"]["subset_size"] == 150  # min(1000, n // 2): defect 14
    assert d["provenance"]["genbench_version"] and d["provenance"]["device"] == "cpu" and "git_commit" in d["provenance"]
    assert d["wall_time_s"] > 0
    names = [m["name"] for m in d["metrics"]]
    assert names == ["fid", "kid", "is"]
    fid = d["metrics"][0]
    assert fid["std"] > 0 and fid["ci"][0] < fid["ci"][1]  # --bootstrap 20 gives FID an uncertainty
    # the table: one row per metric with its uncertainty
    for text in ("metric", "fid", "kid", "is", "±", "mnist-5k [train]", "mnist-classifier", "wrote"):
        assert text in out, text
    kid_row = next(line for line in out.splitlines() if line.startswith("kid"))
    assert "±" in kid_row
    from genbench.evaluate import EvalResult

    assert EvalResult.load_json(tmp_path / "r.json").to_dict() == d  # the file reads back losslessly


@pytest.mark.slow
def test_stats_then_eval_against_the_stats_file(tmp_path, capsys, digits, cache_dir):
    code, out, err = cli(capsys, "stats", "--dataset", "mnist-5k", "--split", "train", "--extractor",
                         "mnist-classifier", "--n", 1000, "--out", tmp_path / "train.npz", "--device", "cpu",
                         "--cache-dir", cache_dir, "--no-progress")
    assert code == 0, err
    with np.load(tmp_path / "train.npz") as f:
        assert f["mu"].shape == (128,) and f["sigma"].shape == (128, 128)
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i, img in enumerate(digits[:200]):
        Image.fromarray(img[0]).save(folder / f"{i:04d}.png")
    code, out, err = cli(capsys, "eval", folder, "--reference", tmp_path / "train.npz", "--device", "cpu",
                         "--json", tmp_path / "r.json", "--no-progress")
    assert code == 0, err
    d = json.loads((tmp_path / "r.json").read_text())
    assert [m["name"] for m in d["metrics"]] == ["fid"]
    assert d["protocol"]["reference"]["type"] == "stats" and d["protocol"]["n_generated"] == 200
    assert d["protocol"]["extractor"]["name"] == "mnist-classifier"  # taken from the statistics file
    assert any("fewer than n=10000" in w for w in d["warnings"])  # the clamp is said, not silent
    assert "WARNING" in out
    # statistics of a source
    np.save(tmp_path / "s.npy", digits[200:600])
    code, out, err = cli(capsys, "stats", tmp_path / "s.npy", "--extractor", "mnist-classifier",
                         "--out", tmp_path / "s_stats.npz", "--device", "cpu", "--no-progress")
    assert code == 0, err
    with np.load(tmp_path / "s_stats.npz") as f:
        assert int(f["n"]) == 400 and f["mu"].shape == (128,)


@pytest.mark.slow
def test_grey_digits_saved_as_rgb_pngs_against_the_dataset(tmp_path, capsys, digits, cache_dir):
    folder = tmp_path / "rgb"
    folder.mkdir()
    for i, img in enumerate(digits[:100]):
        Image.fromarray(np.repeat(img[0][:, :, None], 3, axis=2)).save(folder / f"{i:04d}.png")
    code, out, err = cli(capsys, "eval", folder, "--dataset", "mnist-5k", "--metrics", "is", "--n", 100,
                         "--device", "cpu", "--json", tmp_path / "r.json", "--no-progress", "--cache-dir", cache_dir)
    assert code == 0, err
    assert json.loads((tmp_path / "r.json").read_text())["protocol"]["channels_reduced"]


BAD_INPUTS = [
    # (files to make, argv after "eval"/"stats", text the error must contain)
    ("none", ["eval", "{d}/missing.npz", "--dataset", "mnist-5k"], "no such file"),
    ("float", ["eval", "{d}/f.npy", "--dataset", "mnist-5k"], "--range"),
    ("float", ["eval", "{d}/f.npy", "--dataset", "mnist-5k", "--range", "0,255"], "not supported"),
    ("uint8", ["eval", "{d}/u.npy", "--dataset", "mnist-5k", "--metrics", "fid,bogus"], "valid metrics are fid, kid, is, prdc, parzen, modes"),
    ("uint8", ["eval", "{d}/u.npy", "--dataset", "no-such-set"], "no-such-set"),
    ("uint8", ["eval", "{d}/u.npy", "--dataset", "ring8"], "source gives images but the reference holds 2-D points"),
    ("mixed", ["eval", "{d}/mixed", "--dataset", "mnist-5k"], "different sizes"),
    ("pickle", ["eval", "{d}/model.pt", "--dataset", "mnist-5k", "--range", "-1,1"], "refusing to load a pickled model"),
    ("none", ["eval", "nosuchmodule_xyz:make", "--dataset", "mnist-5k"], "cannot import module"),
    ("uint8", ["eval", "{d}/u.npy", "--dataset", "mnist-5k", "--resize", "big"], "HxW"),
    ("uint8", ["stats", "{d}/u.npy", "--out", "{d}/x.txt"], "written as .npz"),
    ("uint8", ["stats", "{d}/u.npy", "--dataset", "mnist-5k", "--out", "{d}/x.npz"], "not both"),
    ("uint8", ["eval", "{d}/u.npy", "--dataset", "mnist-5k", "--device", "gpu0"], "invalid device 'gpu0'"),
    ("uint8", ["eval", "{d}/u.npy", "--dataset", "mnist-5k", "--device", "cuda:x"], "invalid device 'cuda:x'"),
    ("uint8", ["stats", "{d}/u.npy", "--out", "{d}/x.npz", "--device", "cuda:-1"], "invalid device"),
    ("uint8", ["eval", "{d}/u.npy", "--dataset", "mnist-5k", "--json", "{d}"], "is a directory"),
    ("uint8", ["eval", "{d}/u.npy", "--dataset", "mnist-5k", "--json", "{d}/u.npy/r.json"], "is a file, not a folder"),
    ("uint8", ["stats", "{d}/u.npy", "--out", "{d}/u.npy/sub/x.npz"], "is a file, not a folder"),
]


def _make(kind, d):
    if kind == "float":
        np.save(d / "f.npy", np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32))
    elif kind == "uint8":
        np.save(d / "u.npy", np.zeros((4, 1, 28, 28), np.uint8))
    elif kind == "mixed":
        (d / "mixed").mkdir()
        Image.fromarray(np.zeros((28, 28), np.uint8)).save(d / "mixed" / "a.png")
        Image.fromarray(np.zeros((32, 28), np.uint8)).save(d / "mixed" / "b.png")
    elif kind == "pickle":
        torch.save(torch.nn.Linear(2, 2), d / "model.pt")


@pytest.mark.parametrize("kind, argv, message", BAD_INPUTS, ids=[m for _, _, m in BAD_INPUTS])
def test_bad_inputs_exit_2_with_a_readable_message(tmp_path, capsys, kind, argv, message):
    _make(kind, tmp_path)
    code, out, err = cli(capsys, *[a.format(d=tmp_path) for a in argv])
    assert code == 2
    assert message in err
    assert "Traceback" not in err and err.count("\n") <= 1


def test_unwritable_json_fails_before_evaluating(tmp_path, capsys, monkeypatch):
    """Minutes of evaluation must not be spent before finding out the result cannot be written."""
    import genbench.evaluate

    def must_not_run(*args, **kwargs):
        raise AssertionError("evaluate ran although --json cannot be written")

    monkeypatch.setattr(genbench.evaluate, "evaluate", must_not_run)
    _make("uint8", tmp_path)
    code, out, err = cli(capsys, "eval", tmp_path / "u.npy", "--dataset", "mnist-5k", "--json", tmp_path)
    assert code == 2 and "is a directory" in err


def test_json_write_failure_is_one_line_and_the_table_is_printed(tmp_path, capsys, monkeypatch):
    """A full disk at the end: the numbers are already on screen, the error is one line."""
    import errno

    from genbench.evaluate import EvalResult

    def full_disk(self, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(EvalResult, "save_json", full_disk)
    np.save(tmp_path / "p.npy", np.random.default_rng(0).normal(size=(200, 2)).astype(np.float32))
    code, out, err = cli(capsys, "eval", tmp_path / "p.npy", "--dataset", "ring8", "--n", 200, "--device", "cpu",
                         "--no-progress", "--json", tmp_path / "r.json")
    assert code == 2 and "modes" in out
    assert "No space left on device" in err and "Traceback" not in err and err.count("\n") <= 1


def test_resolve_device_names():
    from genbench.device import resolve_device
    from genbench.errors import GenbenchError

    assert str(resolve_device("cpu")) == "cpu"
    for bad in ("gpu0", "cuda:x", "", "cuda:1:2", 3):
        with pytest.raises(GenbenchError):
            resolve_device(bad)
    if torch.cuda.is_available():
        with pytest.raises(GenbenchError, match="CUDA device"):
            resolve_device(f"cuda:{torch.cuda.device_count()}")


def test_dataset_and_reference_are_exclusive(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["eval", "x.npz", "--dataset", "mnist-5k", "--reference", "y.npz"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


class TinyDigitGenerator(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.latent_dim = 6
        self.net = torch.nn.Linear(6, 28 * 28)

    def forward(self, z):
        return torch.tanh(self.net(z)).view(-1, 1, 28, 28)


def test_eval_torchscript_generator_with_negative_range(tmp_path, capsys, cache_dir):
    torch.manual_seed(0)
    torch.jit.script(TinyDigitGenerator()).save(str(tmp_path / "G.pt"))
    argv = ["eval", tmp_path / "G.pt", "--dataset", "mnist-5k", "--range", "-1,1", "--metrics", "is,modes",
            "--n", 60, "--batch-size", 25, "--seed", 3, "--device", "cpu", "--no-progress",
            "--cache-dir", cache_dir]
    code, out, err = cli(capsys, *argv, "--json", tmp_path / "a.json")
    assert code == 0, err
    code, out, err = cli(capsys, *argv, "--json", tmp_path / "b.json", "--batch-size", 60)
    assert code == 0, err
    a, b = (json.loads((tmp_path / f).read_text()) for f in ("a.json", "b.json"))
    assert a["metrics"] == b["metrics"]  # same seed, other batch size: the same samples and numbers
    src = a["protocol"]["source"]
    assert src["type"] == "torchscript" and src["latent_dim"] == 6 and src["value_range"] == [-1.0, 1.0]
    assert a["protocol"]["n_generated"] == 60


def test_eval_says_each_warning_once(tmp_path, capsys, caplog, monkeypatch):
    """The result's warnings end the printed table; the log must not repeat them (it did), while
    a genbench warning that is not in the result is still logged."""
    import logging

    import genbench.evaluate

    original = genbench.evaluate.evaluate

    def evaluate_logging_another_warning(*args, **kwargs):
        logging.getLogger("genbench.features").warning("a warning the result does not carry")
        return original(*args, **kwargs)

    monkeypatch.setattr(genbench.evaluate, "evaluate", evaluate_logging_another_warning)
    np.save(tmp_path / "p.npy", np.random.default_rng(0).normal(size=(100, 2)).astype(np.float32))
    with caplog.at_level(logging.INFO):
        code, out, err = cli(capsys, "eval", tmp_path / "p.npy", "--dataset", "ring8", "--device", "cpu",
                             "--no-progress")
    assert code == 0, err
    said = out + err + caplog.text
    assert said.count("the source holds 100 samples, fewer than n=10000") == 1
    assert said.count("a warning the result does not carry") == 1


def test_the_mnist_fallback_is_said_once(tmp_path, capsys, caplog, cache_dir):
    """The dataset returns its fallback warning (it does not log it); eval's table says it once."""
    import logging

    np.save(tmp_path / "d.npy", np.zeros((20, 1, 28, 28), np.uint8))
    with caplog.at_level(logging.INFO):
        code, out, err = cli(capsys, "eval", tmp_path / "d.npy", "--dataset", "mnist", "--metrics", "is", "--n", 20,
                             "--device", "cpu", "--no-progress", "--cache-dir", cache_dir,
                             "--data-root", tmp_path / "nothing")
    assert code == 0, err
    assert (out + err + caplog.text).count("MNIST was not found") == 1


def test_sys_exit_in_a_user_generator_exits_2(tmp_path, capsys, monkeypatch):
    (tmp_path / "exiting_gen_plugin.py").write_text("def make():\n    raise SystemExit(0)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = cli(capsys, "eval", "exiting_gen_plugin:make", "--dataset", "mnist-5k", "--range", "0,1",
                         "--latent-dim", 2, "--device", "cpu")
    assert code == 2 and "exiting_gen_plugin:make" in err and "SystemExit" in err


def test_zero_one_floats_declared_minus_one_one_are_a_recorded_warning(tmp_path, capsys, cache_dir):
    np.save(tmp_path / "f.npy", np.random.default_rng(0).random((20, 1, 28, 28), dtype=np.float32))
    code, out, err = cli(capsys, "eval", tmp_path / "f.npy", "--dataset", "mnist-5k", "--range", "-1,1",
                         "--metrics", "is", "--n", 20, "--device", "cpu", "--no-progress", "--cache-dir", cache_dir,
                         "--json", tmp_path / "r.json")
    assert code == 0, err
    warnings = json.loads((tmp_path / "r.json").read_text())["warnings"]
    assert any("declared to be in [-1, 1] but all 20 samples lie in [0, 1]" in w for w in warnings)
    assert "--range 0,1" in out


def test_an_os_error_anywhere_is_one_line(capsys, monkeypatch):
    """The backstop for filesystem errors no command foresaw (full disk, permissions)."""
    import errno

    import genbench.commands.eval as eval_command

    def full_disk(args):
        raise OSError(errno.ENOSPC, "No space left on device", "/runs/x/result.json")

    monkeypatch.setattr(eval_command, "run_eval", full_disk)
    code, out, err = cli(capsys, "eval", "x.npz", "--dataset", "mnist-5k")
    assert code == 2
    assert err == "genbench eval: error: /runs/x/result.json: No space left on device\n"


# ---------------------------------------------------------------------------- paired images (--targets)


def _y(img_chw):
    """BT.601 luma on 0..255 values, transcribed (MATLAB rgb2ycbcr's Y, float)."""
    x = img_chw.astype(np.float64)
    return 16.0 + (65.481 * x[0] + 128.553 * x[1] + 24.966 * x[2]) / 255.0 if x.shape[0] == 3 else x[0]


def _psnr(a, b):
    return 10 * np.log10(255.0**2 / np.mean((a - b) ** 2))


def _save(folder, name, chw):
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(chw[0] if chw.shape[0] == 1 else chw.transpose(1, 2, 0)).save(folder / name)


@pytest.fixture
def sr_folders(tmp_path):
    """HR crops of the shipped test photos of three different sizes (one greyscale, one not a
    multiple of 4) and noisy 'outputs' of the trimmed HR."""
    from genbench.data.photos import TEST, load_photos

    rng = np.random.default_rng(0)
    photos = load_photos(TEST)
    crops = {"astronaut": (slice(0, 64), slice(0, 48)), "coffee": (slice(10, 50), slice(20, 102)),
             "grace_hopper": (slice(5, 71), slice(0, 63))}
    hr, out = {}, {}
    for name, (rows, cols) in crops.items():
        img = photos[name][rows, cols].transpose(2, 0, 1)
        if name == "coffee":
            img = img[1:2]  # greyscale
        hr[name] = img
        h, w = img.shape[1] - img.shape[1] % 4, img.shape[2] - img.shape[2] % 4
        out[name] = np.clip(img[:, :h, :w] + rng.normal(0, 8, (img.shape[0], h, w)), 0, 255).astype(np.uint8)
        _save(tmp_path / "hr", f"{name}.png", hr[name])
        _save(tmp_path / "out", f"{name}.png", out[name])
    return tmp_path, hr, out


def test_paired_folders_score_each_pair_then_average(sr_folders, capsys):
    tmp_path, hr, out = sr_folders
    code, stdout, err = cli(capsys, "eval", tmp_path / "out", "--targets", tmp_path / "hr", "--task", "sr4",
                            "--device", "cpu", "--json", tmp_path / "r.json")
    assert code == 0, err
    d = json.loads((tmp_path / "r.json").read_text())
    p = d["protocol"]
    assert p["y_channel"] is True and p["crop_border"] == 4 and p["task"] == "sr4" and p["scale"] == 4
    assert "modcrop" in p["trim"] and p["resize"] is None and p["n_images"] == 3  # genbench made no inputs
    expected = {}
    for name in hr:
        h, w = out[name].shape[1:]
        t = _y(hr[name][:, :h, :w])[4:-4, 4:-4]
        o = _y(out[name])[4:-4, 4:-4]
        expected[name] = _psnr(t, o)
        assert p["per_image"][name]["psnr"] == pytest.approx(expected[name], rel=1e-12)
    v = np.array(list(expected.values()))
    psnr = next(m for m in d["metrics"] if m["name"] == "psnr")
    assert psnr["value"] == pytest.approx(v.mean(), rel=1e-12)
    assert psnr["std"] == pytest.approx(v.std(ddof=1) / np.sqrt(3), rel=1e-9)
    assert psnr["params"]["n_images"] == 3 and psnr["params"]["y_channel"] is True
    assert [m["name"] for m in d["metrics"]] == ["psnr", "ssim"]
    assert "3 pairs" in stdout and "psnr" in stdout and "±" in stdout and "Y channel" in stdout


def test_paired_folders_rgb_mode_and_explicit_crop(sr_folders, capsys):
    tmp_path, hr, out = sr_folders
    code, _, err = cli(capsys, "eval", tmp_path / "out", "--targets", tmp_path / "hr", "--task", "sr4",
                       "--no-y-channel", "--crop-border", "2", "--metrics", "psnr", "--device", "cpu",
                       "--json", tmp_path / "r.json")
    assert code == 0, err
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["protocol"]["y_channel"] is False and d["protocol"]["crop_border"] == 2
    name = "astronaut"
    h, w = out[name].shape[1:]
    t = hr[name][:, :h, :w][:, 2:-2, 2:-2].astype(np.float64)
    assert d["protocol"]["per_image"][name]["psnr"] == pytest.approx(
        _psnr(t, out[name][:, 2:-2, 2:-2].astype(np.float64)), rel=1e-12)


def test_paired_folders_without_the_task_do_not_trim(sr_folders, capsys):
    tmp_path, _, _ = sr_folders
    code, _, err = cli(capsys, "eval", tmp_path / "out", "--targets", tmp_path / "hr", "--device", "cpu")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "coffee.png" in err and "40×80 (H×W)" in err and "40×82" in err and "--task srN" in err


def _write_bicubic_plugin(tmp_path, monkeypatch, module, scale=4):
    """An entry point whose translator is MATLAB-bicubic ×scale (a fresh module name per test:
    imported modules stay cached)."""
    (tmp_path / f"{module}.py").write_text(
        "import torch\nfrom genbench.imaging.resize import imresize\n\n\ndef make():\n"
        f"    return lambda x: torch.from_numpy(imresize(x.cpu().numpy(), {scale}))\n")
    monkeypatch.syspath_prepend(str(tmp_path))


def test_sr_translator_against_hr_folder_equals_its_saved_outputs(sr_folders, capsys, monkeypatch):
    """The translator path (trim, MATLAB-bicubic LR, translate, score) gives what scoring the same
    outputs saved to a folder gives: one code path for both."""
    from genbench.imaging.resize import imresize

    tmp_path, hr, _ = sr_folders
    _write_bicubic_plugin(tmp_path, monkeypatch, "bicubic_x4_plugin")
    code, stdout, err = cli(capsys, "eval", "bicubic_x4_plugin:make", "--task", "sr4", "--targets", tmp_path / "hr",
                            "--device", "cpu", "--json", tmp_path / "t.json")
    assert code == 0, err
    for name, img in hr.items():  # the same bicubic ×4 of the LR, saved
        h, w = img.shape[1] - img.shape[1] % 4, img.shape[2] - img.shape[2] % 4
        _save(tmp_path / "bicubic", f"{name}.png", imresize(imresize(img[:, :h, :w][None], 1 / 4), 4)[0])
    code, _, err = cli(capsys, "eval", tmp_path / "bicubic", "--task", "sr4", "--targets", tmp_path / "hr",
                       "--device", "cpu", "--json", tmp_path / "f.json")
    assert code == 0, err
    t, f = (json.loads((tmp_path / n).read_text()) for n in ("t.json", "f.json"))
    assert t["protocol"]["per_image"] == f["protocol"]["per_image"]
    assert t["protocol"]["resize"] == "matlab-bicubic" and t["protocol"]["source"]["entry_point"] == "bicubic_x4_plugin:make"
    assert t["protocol"]["source"]["inputs"]["n"] == 3 and t["protocol"]["source"]["inputs"]["scale"] == 4
    assert "LR inputs by matlab-bicubic ×1/4" in stdout
    assert 15 < t["metrics"][0]["value"] < 40


def test_sr_translator_with_the_wrong_output_size_is_an_error(sr_folders, capsys, monkeypatch):
    tmp_path, _, _ = sr_folders
    _write_bicubic_plugin(tmp_path, monkeypatch, "bicubic_x2_plugin", scale=2)
    code, _, err = cli(capsys, "eval", "bicubic_x2_plugin:make", "--task", "sr4", "--targets", tmp_path / "hr",
                       "--device", "cpu")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "astronaut.png" in err and "×4 of its 16×12 input must be 64×48" in err


def _pair_dirs(tmp_path, outputs: dict, targets: dict):
    for name, img in outputs.items():
        _save(tmp_path / "o", name, img)
    for name, img in targets.items():
        _save(tmp_path / "t", name, img)
    return tmp_path / "o", tmp_path / "t"


RGB = np.full((3, 16, 16), 100, np.uint8)
GREY = np.full((1, 16, 16), 100, np.uint8)


@pytest.mark.parametrize("outputs, targets, message", [
    ({"a.png": RGB}, {"a.png": RGB, "b.png": RGB}, "1 target(s) have no output of the same name in .*o: b.png"),
    ({"a.png": RGB, "c.png": RGB}, {"a.png": RGB}, "1 output(s) have no target of the same name in .*t: c.png"),
    ({"a.png": RGB}, {"a.png": RGB[:, :12]}, "a.png is 16×16 (H×W) but its target .*a.png is 12×16"),
    ({"a.png": np.stack([GREY[0], GREY[0] + 1, GREY[0]])}, {"a.png": GREY},
     "o/a.png is RGB but its target .*t/a.png is greyscale: channel mismatch"),
    ({"a.png": RGB, "a.bmp": RGB}, {"a.png": RGB}, "a.bmp and a.png have the same name|a.png and a.bmp have the same name"),
])
def test_paired_folders_that_do_not_match_are_one_line_errors(tmp_path, capsys, outputs, targets, message):
    o, t = _pair_dirs(tmp_path, outputs, targets)
    code, _, err = cli(capsys, "eval", o, "--targets", t, "--device", "cpu")
    assert code == 2 and len(err.strip().splitlines()) == 1
    import re

    assert re.search(message.replace("(", r"\(").replace(")", r"\)"), err), err


def test_unreadable_and_oversized_images_are_named(tmp_path, capsys, monkeypatch):
    o, t = _pair_dirs(tmp_path, {"a.png": RGB}, {"a.png": RGB})
    (o / "a.png").write_bytes(b"not a png")
    code, _, err = cli(capsys, "eval", o, "--targets", t, "--device", "cpu")
    assert code == 2 and "a.png: not a readable image" in err
    _save(o, "a.png", RGB)
    monkeypatch.setattr("genbench.sources.folder.MAX_PAIR_PIXELS", 255)
    code, _, err = cli(capsys, "eval", o, "--targets", t, "--device", "cpu")
    assert code == 2 and "16×16 pixels is more than genbench reads for one image" in err


def test_grey_target_with_a_three_identical_channel_output_is_scored_as_grey(tmp_path, capsys):
    noisy = GREY.copy()
    noisy[0, ::2] += 10
    o, t = _pair_dirs(tmp_path, {"a.png": np.repeat(noisy, 3, axis=0)}, {"a.png": GREY})
    code, out, err = cli(capsys, "eval", o, "--targets", t, "--y-channel", "--device", "cpu", "--metrics", "psnr",
                         "--json", tmp_path / "r.json")
    assert code == 0, err
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["protocol"]["per_image"]["a"]["psnr"] == pytest.approx(_psnr(GREY[0].astype(float), noisy[0].astype(float)))
    assert d["protocol"]["channels_reduced"] == ["a"] and "identical channels" in out


@pytest.mark.parametrize("argv, message", [
    (["{d}/o", "--targets", "{d}/t", "--metrics", "fid"], "metric 'fid' does not score an output against its target"),
    (["{d}/o", "--targets", "{d}/t", "--crop-border", "-1"], "crop border must be a non-negative integer"),
    (["{d}/o", "--targets", "{d}/t", "--task", "edges"], "task 'edges' is not a super-resolution task"),
    (["{d}/o", "--targets", "{d}/t", "--resize", "8x8"], "--resize does not apply with --targets"),
    (["{d}/o", "--dataset", "mnist-5k", "--crop-border", "4"], "--crop-border applies with --targets"),
    (["{d}/o", "--dataset", "mnist-5k", "--task", "sr4"], "--task applies with --targets"),
    (["some_module:make", "--targets", "{d}/t"], "some_module:make is not a folder of outputs; .* needs --task srN"),
    (["{d}/o", "--targets", "{d}/t", "--task", "sr4", "--crop-border", "9"], "cropping 9 pixels from each border"),
])
def test_paired_option_errors(tmp_path, capsys, argv, message):
    _pair_dirs(tmp_path, {"a.png": RGB}, {"a.png": RGB})
    code, _, err = cli(capsys, "eval", *[a.format(d=tmp_path) for a in argv], "--device", "cpu")
    assert code == 2 and len(err.strip().splitlines()) == 1
    import re

    assert re.search(message, err), err


def test_bicubic_x4_entry_point_on_the_shipped_test_photos_gives_the_readme_figure(tmp_path, capsys):
    """The README's bicubic ×4 figure on the shipped test photos, recomputed through the command
    and checked per image against the transcribed Y-PSNR of the same outputs."""
    from genbench.data.photos import TEST, load_photos
    from genbench.imaging.resize import imresize

    photos = load_photos(TEST)
    for name, img in photos.items():
        _save(tmp_path / "hr", f"{name}.png", img.transpose(2, 0, 1))
    code, _, err = cli(capsys, "eval", "genbench.imaging.sr:bicubic_x4", "--task", "sr4", "--targets", tmp_path / "hr",
                       "--device", "cpu", "--json", tmp_path / "r.json")
    assert code == 0, err
    d = json.loads((tmp_path / "r.json").read_text())
    for name, img in photos.items():
        hr = img.transpose(2, 0, 1)
        sr = imresize(imresize(hr[None], 1 / 4), 4)[0]
        expected = _psnr(_y(hr)[4:-4, 4:-4], _y(sr)[4:-4, 4:-4])
        assert d["protocol"]["per_image"][name]["psnr"] == pytest.approx(expected, rel=1e-12)
    psnr, ssim = d["metrics"]
    assert round(psnr["value"], 2) == 26.03 and round(psnr["std"], 2) == 0.77  # README, "Super-resolution protocol"
    assert round(ssim["value"], 3) == 0.790 and round(ssim["std"], 3) == 0.037


def test_identical_pairs_give_infinite_psnr_written_as_null(tmp_path, capsys):
    img = np.random.default_rng(1).integers(0, 256, (3, 20, 20), dtype=np.uint8)
    o, t = _pair_dirs(tmp_path, {"a.png": img}, {"a.png": img})
    code, out, err = cli(capsys, "eval", o, "--targets", t, "--device", "cpu", "--json", tmp_path / "r.json")
    assert code == 0, err
    d = json.loads((tmp_path / "r.json").read_text())
    psnr, ssim = d["metrics"]
    assert psnr["value"] is None and psnr["params"]["identical_pairs"] == 1
    assert ssim["value"] == pytest.approx(1.0) and ssim["std"] is None  # one image: no standard error
