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
