"""``genbench train --set`` goes through the one override path: malformed lists are one-line errors."""

from __future__ import annotations

import pytest

from genbench.cli import main


@pytest.fixture
def fake_dataset(monkeypatch, points_ds):
    import genbench.data

    monkeypatch.setattr(genbench.data, "load_dataset", lambda name, data_root=None: points_ds)
    return points_ds


@pytest.mark.parametrize("value,expected", [
    ("g_hidden=[[1,2]]", "config key 'g_hidden' must be a list of integers, got a nested list"),
    ("g_hidden=[1.5,2]", "config key 'g_hidden[0]' must be an integer, got 1.5"),  # was silently truncated to [1, 2]
    ("lr_g=.nan", "config key 'lr_g' must be a finite number, got nan"),
    ("batch_size=32.0", "config key 'batch_size' must be an integer, got 32.0"),
])
def test_bad_set_values_are_one_line_errors(fake_dataset, tmp_path, capsys, value, expected):
    args = ["train", "gan", "--dataset", "ring-tiny", "--out", str(tmp_path), "--device", "cpu", "--no-progress"]
    assert main(args + ["--set", value]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "model.safetensors").exists()


@pytest.mark.parametrize("value", ["batch_size=" + "9" * 5000, "g_hidden=" + "[" * 2000, "g_hidden=[1, 2"])
def test_unparsable_set_values_are_one_line_errors(value):
    from genbench.commands.train import parse_set
    from genbench.errors import GenbenchError

    with pytest.raises(GenbenchError, match=r"^--set \w+: cannot parse value") as exc:
        parse_set([value])
    assert "\n" not in str(exc.value) and len(str(exc.value)) < 300
