"""``genbench train`` / ``genbench models`` and third-party models through the entry-point group."""

from __future__ import annotations

import json

import pytest
from registry_plugins import rediscover
from baseline_fixtures import make_points

import baselines
from genbench.cli import main
from genbench.commands.train import parse_set


def test_models_lists_every_model_with_its_paper(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name, info in baselines.MODELS.items():
        line = next(l for l in out.splitlines() if l.startswith(name + " "))
        assert info.paper in line
    assert "Metz et al. 2017" in out and "Kingma & Welling 2014" in out


def test_parse_set_reads_yaml_scalars():
    assert parse_set(["lr_g=1e-3", "amp=true", "g_hidden=[64, 64]", "generator_loss=saturating", "d_steps=2"]) == {
        "lr_g": 1e-3, "amp": True, "g_hidden": [64, 64], "generator_loss": "saturating", "d_steps": 2}
    assert parse_set(["lr_d=2.5e-4", "z_dim=8"]) == {"lr_d": 2.5e-4, "z_dim": 8}


@pytest.fixture
def fake_dataset(monkeypatch):
    import genbench.data

    ds = make_points()
    monkeypatch.setattr(genbench.data, "load_dataset", lambda name, data_root=None: ds)
    return ds


@pytest.mark.slow  # first import of the dataset registry and the CLI stack
def test_train_prints_the_checkpoint_and_resumes(fake_dataset, tmp_path, capsys):
    args = ["train", "gan", "--dataset", "ring-tiny", "--out", str(tmp_path), "--device", "cpu", "--no-progress",
            "--set", "batch_size=8", "--set", "g_hidden=[8]", "--set", "d_hidden=[8]"]
    assert main(args + ["--steps", "2"]) == 0
    assert f"checkpoint: {tmp_path}" in capsys.readouterr().out
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["step"] == 2 and cfg["finished"] and cfg["config"]["g_hidden"] == [8]
    assert cfg["dataset_fingerprint"]["sha256"] == fake_dataset.fingerprint.sha256
    assert main(args + ["--steps", "3"]) == 0  # resume: same settings, more steps
    assert json.loads((tmp_path / "config.json").read_text())["step"] == 3


def test_train_errors_are_one_line_messages(fake_dataset, tmp_path, capsys):
    base = ["train", "gan", "--dataset", "ring-tiny", "--out", str(tmp_path), "--device", "cpu", "--no-progress"]
    assert main(base + ["--set", "learning_rate=0.1"]) == 2
    err = capsys.readouterr().err
    assert "unknown config key(s) learning_rate" in err and "valid keys:" in err and "lr_g" in err
    assert main(base + ["--set", "nonsense"]) == 2
    assert "--set expects key=value" in capsys.readouterr().err
    assert main(["train", "no-such-model", "--dataset", "ring-tiny"]) == 2
    assert "unknown model 'no-such-model'" in capsys.readouterr().err


def test_third_party_model_via_entry_point(monkeypatch):
    from baselines.gan import GANSpec

    class PluginSpec(GANSpec):
        name = "plugin-gan"
        paper = "Someone et al. 2030"

    class FakeEntryPoint:
        name, value = "plugin-gan", "plugin_pkg:SPEC"

        def load(self):
            return PluginSpec()

    class Broken(FakeEntryPoint):
        name, value = "broken", "broken_pkg:SPEC"

        def load(self):
            raise ImportError("no module named broken_pkg")

    class TextSpec(PluginSpec):
        name, conditioning = "text-gan", "text"  # not a conditioning genbench knows (yet)

    class Unknown(FakeEntryPoint):
        name, value = "text-gan", "text_pkg:SPEC"

        def load(self):
            return TextSpec()

    rediscover(monkeypatch, baselines.MODELS, [FakeEntryPoint(), Broken(), Unknown()])
    assert baselines.MODELS["plugin-gan"].paper == "Someone et al. 2030"
    assert baselines.MODELS["plugin-gan"].conditioning == "none" and not baselines.MODELS["plugin-gan"].can_translate
    assert "broken" not in baselines.MODELS  # a broken plug-in is skipped with a warning
    assert "text-gan" not in baselines.MODELS  # so is one that declares an unknown conditioning
    assert isinstance(baselines.get_spec("plugin-gan"), PluginSpec)
