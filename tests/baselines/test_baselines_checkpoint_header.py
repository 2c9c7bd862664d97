"""Checkpoint headers are untrusted: a crafted safetensors record is a one-line error naming the
file, and a config declaring huge networks is refused before any network is allocated."""

from __future__ import annotations

import json

import pytest
from safetensors.torch import save_file

import baselines
import baselines.training
from baselines import checkpoint
from baselines import config as configs
from baselines.gan import GANConfig
from genbench.errors import GenbenchError


@pytest.fixture(scope="module")
def trained(points_ds, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt")
    tiny = {"batch_size": 8, "g_hidden": (16, 16), "d_hidden": (16,), "z_dim": 4}
    baselines.train("gan", points_ds, out_dir=out, overrides=tiny, steps=1, progress=False)
    return checkpoint.read(out)


def _write(tmp_path, record, tensors):
    save_file(tensors, str(tmp_path / checkpoint.MODEL_FILE), metadata={"genbench": json.dumps(record)})


@pytest.fixture
def no_allocation(monkeypatch):
    """Building networks from a crafted header would be the memory blow-up under test: fail instead."""
    def refuse(*a, **k):
        raise AssertionError("networks were built from an oversized checkpoint config")
    monkeypatch.setattr(baselines.training, "build_networks", refuse)


def _edit(record, path, value):
    record = json.loads(json.dumps(record))
    *parents, last = path
    d = record
    for p in parents:
        d = d[p]
    if value is KeyError:
        del d[last]
    else:
        d[last] = value
    return record


@pytest.mark.parametrize("path,value,expected", [
    (("config",), KeyError, "checkpoint record has no 'config'"),
    (("model",), KeyError, "checkpoint record has no 'model'"),
    (("step",), KeyError, "checkpoint record has no 'step'"),
    (("config",), [1, 2], "checkpoint record 'config' must be a JSON object, got list"),
    (("step",), "3", "checkpoint record 'step' must be an integer, got str"),
    (("step",), -1, "'step' must be >= 0"),
    (("finished",), 1, "'finished' must be true or false"),
    (("data_stats",), [], "'data_stats' must be a JSON object"),
    (("data_stats", "mean"), ["a"], "data_stats.mean must be a list of numbers or null"),
    (("optimizers", "G"), {"param_groups": 3}, "optimizer record 'G' is malformed"),
    (("config", "g_hidden"), [200_000, 200_000], "checkpoint config: config key 'g_hidden[0]' must be between 1 and 65,536"),
    (("config", "g_hidden"), [[1, 2]], "g_hidden' must be a list of integers, got a nested list"),
    (("config", "lr_g"), "fast", "lr_g' must be a number"),
    (("config", "learning_rate"), 1.0, "unknown config key(s) learning_rate"),
])
def test_crafted_headers_are_one_line_errors_naming_the_file(trained, tmp_path, no_allocation, path, value, expected):
    record, tensors = trained
    _write(tmp_path, _edit(record, path, value), tensors)
    with pytest.raises(GenbenchError) as exc:
        baselines.load(tmp_path)
    msg = str(exc.value)
    assert msg.startswith(str(tmp_path / checkpoint.MODEL_FILE)) and expected in msg and "\n" not in msg, msg


def test_a_record_that_is_not_an_object(trained, tmp_path):
    _write(tmp_path, [1, 2], trained[1])
    with pytest.raises(GenbenchError, match="checkpoint record must be a JSON object, got list"):
        checkpoint.read(tmp_path)


def test_networks_over_the_parameter_limit_are_refused_before_allocation(trained, tmp_path, no_allocation):
    # Every width is under the per-field limit, but three 60,000-wide layers are 7 billion parameters.
    record, tensors = trained
    _write(tmp_path, _edit(record, ("config", "g_hidden"), [60_000, 60_000, 60_000]), tensors)
    with pytest.raises(GenbenchError, match=rf"config describes [\d,]+ parameters for model 'gan'; the limit is "
                                            rf"{configs.MAX_PARAMETERS:,}"):
        baselines.load(tmp_path)


def test_from_dict_round_trips_a_valid_config(trained):
    record, _ = trained
    config = configs.from_dict(GANConfig, record["config"], "x")
    assert config.to_dict() == record["config"]
    with pytest.raises(GenbenchError, match="^x: checkpoint config must be a mapping, got NoneType$"):
        configs.from_dict(GANConfig, None, "x")
