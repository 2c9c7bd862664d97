"""Checkpoints: resume equals an uninterrupted run, atomic writes, refused mismatches, clear errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from baseline_fixtures import make_points, tiny

import baselines
from baselines import checkpoint
from genbench.errors import GenbenchError

REPO = Path(__file__).resolve().parents[2]


def _tensors(path) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in checkpoint.read(path)[1].items()}


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not np.array_equal(a[k], b[k])]
    assert not different, f"tensors differ after resume: {different[:5]}"


@pytest.mark.parametrize("name", ["gan", "dcgan", "cgan", "ae", "vae", "aae", "unrolled-gan", "minibatch-gan"])
def test_resume_gives_the_uninterrupted_weights(name, points_ds, tmp_path):
    o = {**tiny(name, "points"), "checkpoint_every": 100}
    straight = baselines.train(name, points_ds, out_dir=tmp_path / "a", overrides=o, steps=5, progress=False)
    baselines.train(name, points_ds, out_dir=tmp_path / "b", overrides=o, steps=2, progress=False)
    resumed = baselines.train(name, points_ds, out_dir=tmp_path / "b", overrides=o, steps=5, progress=False)
    _assert_same(_tensors(straight), _tensors(resumed))  # weights, BatchNorm buffers and optimizer state
    # The log of the resumed run has each step once, with the same losses.
    la = [json.loads(x) for x in (straight / checkpoint.LOG_FILE).read_text().splitlines()]
    lb = [json.loads(x) for x in (resumed / checkpoint.LOG_FILE).read_text().splitlines()]
    strip = lambda log: [{k: v for k, v in e.items() if k != "wall_time_s"} for e in log]  # noqa: E731
    assert strip(la) == strip(lb) and [e["step"] for e in lb] == [1, 2, 3, 4, 5]


def test_resume_with_batchnorm_conv_nets(images_ds, tmp_path):
    o = {**tiny("dcgan", "image"), "checkpoint_every": 100}
    a = baselines.train("dcgan", images_ds, out_dir=tmp_path / "a", overrides=o, steps=3, progress=False)
    baselines.train("dcgan", images_ds, out_dir=tmp_path / "b", overrides=o, steps=1, progress=False)
    b = baselines.train("dcgan", images_ds, out_dir=tmp_path / "b", overrides=o, steps=3, progress=False)
    _assert_same(_tensors(a), _tensors(b))


def test_resume_with_stored_config_when_none_given(points_ds, tmp_path):
    o = tiny("gan", "points")
    baselines.train("gan", points_ds, out_dir=tmp_path, overrides=o, steps=2, progress=False)
    baselines.train("gan", points_ds, out_dir=tmp_path, steps=4, progress=False)  # no config: the stored one
    record, _ = checkpoint.read(tmp_path)
    assert record["step"] == 4 and record["config"]["g_hidden"] == [16, 16]


def test_different_config_seed_or_dataset_is_refused(points_ds, tmp_path):
    o = {**tiny("gan", "points"), "lr_d": 0.001}
    baselines.train("gan", points_ds, out_dir=tmp_path, overrides=o, steps=2, progress=False)
    with pytest.raises(GenbenchError, match=r"different config \(lr_d: 0.001 → 0.5\)"):
        baselines.train("gan", points_ds, out_dir=tmp_path, overrides={**o, "lr_d": 0.5}, steps=4, progress=False)
    with pytest.raises(GenbenchError, match="trained with seed 0, not 1"):
        baselines.train("gan", points_ds, out_dir=tmp_path, overrides=o, steps=4, seed=1, progress=False)
    with pytest.raises(GenbenchError, match="was trained on dataset 'ring-tiny'"):
        baselines.train("gan", make_points(64, "other"), out_dir=tmp_path, overrides=o, steps=4, progress=False)
    with pytest.raises(GenbenchError, match="holds a 'gan' checkpoint, not 'vae'"):
        baselines.train("vae", points_ds, out_dir=tmp_path, steps=4, progress=False)
    assert checkpoint.read(tmp_path)[0]["step"] == 2  # nothing was touched


def test_a_failed_write_never_replaces_a_finished_checkpoint(points_ds, tmp_path, monkeypatch):
    o = tiny("gan", "points")
    baselines.train("gan", points_ds, out_dir=tmp_path, overrides=o, steps=2, progress=False)
    before = (tmp_path / checkpoint.MODEL_FILE).read_bytes()

    def crash(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"half a checkpoint")  # the process dies mid-write
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "save_file", crash)
    with pytest.raises(KeyboardInterrupt):
        baselines.train("gan", points_ds, out_dir=tmp_path, overrides=o, steps=4, progress=False)
    assert (tmp_path / checkpoint.MODEL_FILE).read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert baselines.load(tmp_path).step == 2


@pytest.mark.parametrize("damage", ["truncate", "garbage", "missing", "bad-record"])
def test_corrupt_checkpoint_is_a_clear_error(damage, points_ds, tmp_path):
    o = tiny("gan", "points")
    baselines.train("gan", points_ds, out_dir=tmp_path, overrides=o, steps=1, progress=False)
    path = tmp_path / checkpoint.MODEL_FILE
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00" * 64 + data[64:])
    elif damage == "missing":
        path.unlink()
    else:  # a valid safetensors file that is not a genbench checkpoint
        from safetensors.numpy import save_file

        save_file({"w": np.zeros(3, np.float32)}, str(path))
    expected = {"truncate": "corrupt or unreadable", "garbage": "corrupt or unreadable",
                "missing": "no such checkpoint file", "bad-record": "no valid genbench record"}[damage]
    with pytest.raises(GenbenchError, match=expected):
        baselines.load(tmp_path)
    if damage != "missing":  # a missing file just means "no checkpoint yet": training starts afresh
        with pytest.raises(GenbenchError, match=expected):
            baselines.train("gan", points_ds, out_dir=tmp_path, overrides=o, steps=2, progress=False)


def test_weights_that_do_not_fit_the_config_are_refused(points_ds, tmp_path):
    o = tiny("gan", "points")
    baselines.train("gan", points_ds, out_dir=tmp_path, overrides=o, steps=1, progress=False)
    record, tensors = checkpoint.read(tmp_path)
    record["config"]["g_hidden"] = [32, 32]
    from safetensors.torch import save_file

    save_file(tensors, str(tmp_path / checkpoint.MODEL_FILE), metadata={"genbench": json.dumps(record)})
    with pytest.raises(GenbenchError, match="weights do not fit"):
        baselines.load(tmp_path)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(points_ds, tmp_path, monkeypatch):
    from baselines.gan import GANSpec

    real_step = GANSpec.train_step
    calls = {"n": 0}

    def poisoned(self, nets, opts, batch, gen, config):
        calls["n"] += 1
        losses = real_step(self, nets, opts, batch, gen, config)
        if calls["n"] >= 4:
            losses["loss_g"] = losses["loss_g"] * float("nan")
        return losses

    monkeypatch.setattr(GANSpec, "train_step", poisoned)
    o = {**tiny("gan", "points"), "checkpoint_every": 2}
    with pytest.raises(GenbenchError, match="diverged at step 4: loss loss_g is nan.*last good checkpoint"):
        baselines.train("gan", points_ds, out_dir=tmp_path, overrides=o, steps=10, progress=False)
    record, tensors = checkpoint.read(tmp_path)
    assert record["step"] == 2 and not record["finished"]
    assert all(np.isfinite(t.numpy()).all() for t in tensors.values() if t.is_floating_point())


def test_nan_weights_are_never_saved(points_ds, tmp_path, monkeypatch):
    from baselines.gan import GANSpec

    real_step = GANSpec.train_step

    def poison_weights(self, nets, opts, batch, gen, config):
        losses = real_step(self, nets, opts, batch, gen, config)
        nets["G"][0].weight.data.fill_(float("inf"))  # the update blew up; the loss did not show it yet
        return losses

    o = {**tiny("gan", "points"), "checkpoint_every": 1}
    baselines.train("gan", points_ds, out_dir=tmp_path, overrides=o, steps=1, progress=False)
    monkeypatch.setattr(GANSpec, "train_step", poison_weights)
    with pytest.raises(GenbenchError, match="weights became NaN/Inf"):
        baselines.train("gan", points_ds, out_dir=tmp_path, overrides=o, steps=3, progress=False)
    assert checkpoint.read(tmp_path)[0]["step"] == 1


_CHILD = """
import sys, torch
sys.path[:0] = [{repo!r}, {tests!r}]
torch.set_num_threads(1)
from baseline_fixtures import make_points, tiny
import baselines
o = {{**tiny("gan", "points"), "checkpoint_every": 3}}
baselines.train("gan", make_points(), out_dir=sys.argv[1], overrides=o, steps=int(sys.argv[2]), progress=False)
"""


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_matches_uninterrupted(tmp_path):
    """A real ``kill -9`` while training; the resumed run ends with the uninterrupted run's weights."""
    script = tmp_path / "child.py"
    script.write_text(_CHILD.format(repo=str(REPO), tests=str(Path(__file__).parents[1] / "helpers")))
    killed, straight = tmp_path / "killed", tmp_path / "straight"
    child = subprocess.Popen([sys.executable, str(script), str(killed), "100000"], cwd=REPO)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            cfg = killed / checkpoint.CONFIG_FILE
            if cfg.exists():
                try:
                    if json.loads(cfg.read_text())["step"] >= 6:
                        break
                except (json.JSONDecodeError, KeyError):
                    pass
            time.sleep(0.05)
        else:
            pytest.fail("child never wrote a checkpoint")
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    step = checkpoint.read(killed)[0]["step"]
    assert 6 <= step < 100000
    target = step + 4
    o = {**tiny("gan", "points"), "checkpoint_every": 3}
    ds = make_points()
    baselines.train("gan", ds, out_dir=killed, overrides=o, steps=target, progress=False)
    baselines.train("gan", ds, out_dir=straight, overrides=o, steps=target, progress=False)
    _assert_same(_tensors(killed), _tensors(straight))
    steps = [json.loads(x)["step"] for x in (killed / checkpoint.LOG_FILE).read_text().splitlines()]
    assert steps == list(range(1, target + 1))
