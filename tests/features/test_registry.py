"""The extractor registry: names, errors, defaults per dataset, third-party extractors."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import types
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest
from registry_plugins import rediscover

import genbench.features
from genbench.cli import main
from genbench.data import DATASETS, DatasetSpec, load_dataset, register_dataset
from genbench.data.dataset import Dataset, Split, compute_fingerprint
from genbench.data.stacked import build_stacked
from genbench.errors import GenbenchError
from genbench.features import EXTRACTORS, ExtractorSpec, default_extractor, get_extractor, register_extractor
from genbench.features.base import Extractor, ExtractorIdentity, Features

REPO = Path(__file__).resolve().parents[2]


def test_known_extractors_are_listed_with_descriptions():
    assert set(EXTRACTORS) == {"inception-v3-fid", "mnist-classifier", "shapes3d-classifier"}
    assert all(name == spec.name and len(spec.description) > 20 for name, spec in EXTRACTORS.items())


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(GenbenchError) as info:
        get_extractor("inception-v4")
    message = str(info.value)
    assert "'inception-v4'" in message
    assert "inception-v3-fid" in message and "mnist-classifier" in message


def test_mnist_classifier_by_name():
    from genbench.features.mnist_classifier import MnistClassifierExtractor

    extractor = get_extractor("mnist-classifier")
    assert isinstance(extractor, MnistClassifierExtractor) and isinstance(extractor, Extractor)
    assert extractor.identity.name == "mnist-classifier"


def test_keyword_arguments_reach_the_constructor(tmp_path):
    missing = tmp_path / "nothing.safetensors"
    with pytest.raises(GenbenchError, match="nothing.safetensors"):
        get_extractor("mnist-classifier", weights_path=missing)


def _image_dataset(name: str, shape=(3, 32, 32)) -> Dataset:
    splits = {"test": Split(np.zeros((4, *shape), np.uint8))}
    return Dataset(name=name, kind="image", splits=splits, fingerprint=compute_fingerprint(name, splits))


@pytest.mark.parametrize(
    "dataset, expected",
    [
        (lambda: load_dataset("mnist-5k"), "mnist-classifier"),
        (lambda: build_stacked(load_dataset("mnist-5k"), sizes={"test": 10}), "mnist-classifier"),
        (lambda: load_dataset("ring8"), None),
        (lambda: load_dataset("grid25"), None),
        (lambda: _image_dataset("cifar10-like"), "inception-v3-fid"),
    ],
    ids=["mnist-5k", "stacked-mnist", "ring8", "grid25", "other-images"],
)
def test_default_extractor_follows_the_field(dataset, expected):
    assert default_extractor(dataset()) == expected


def test_default_extractor_reads_the_dataset_registry(monkeypatch):
    assert default_extractor(_image_dataset("sketches")) == "inception-v3-fid"  # not registered
    monkeypatch.setattr(DATASETS, "_specs", dict(DATASETS._specs))
    register_dataset(DatasetSpec("sketches", "image", "line drawings measured by their own network",
                                 lambda root: None, extractor="sketch-net"))
    assert default_extractor(_image_dataset("sketches")) == "sketch-net"


# --- third-party extractors: register_extractor and the genbench.extractors entry points ---------


class MeanColour:
    """A toy extractor: the mean of each channel (enough to check the contract is honoured)."""

    feature_dim = 3
    n_classes = None

    def __init__(self, scale: float = 1.0):
        self.scale = scale
        self.identity = ExtractorIdentity("mean-colour", "0" * 64)

    def extract(self, batches, *, device=None, progress=True, total=None) -> Features:
        feats = np.concatenate([np.asarray(b, np.float64).mean(axis=(2, 3)) for b in batches]) * self.scale
        return Features(feats, None, self.identity)


@pytest.fixture
def plugins(monkeypatch):
    """Install entry points ``name -> (attr, object)`` in the genbench.extractors group (objects on
    a throw-away module) for the registry's next lookup; the registry is restored afterwards."""
    module = types.ModuleType("genbench_test_plugin_features")
    monkeypatch.setitem(sys.modules, module.__name__, module)

    def install(**eps):
        points = []
        for name, (attr, obj) in eps.items():
            setattr(module, attr, obj)
            points.append(EntryPoint(name, f"{module.__name__}:{attr}", genbench.features.ENTRY_POINT_GROUP))
        rediscover(monkeypatch, EXTRACTORS, points)

    return install


def test_an_entry_point_extractor_is_listed_and_built(plugins, capsys):
    plugins(mean=("SPEC", ExtractorSpec("mean-colour", "per-channel mean colour (a test plug-in)", MeanColour)))
    assert main(["extractors"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.strip().splitlines()}
    assert "per-channel mean colour (a test plug-in)" in rows["mean-colour"] and "inception-v3-fid" in rows
    extractor = get_extractor("mean-colour", scale=2.0)  # keyword arguments reach the factory
    assert isinstance(extractor, MeanColour) and isinstance(extractor, Extractor)
    images = np.stack([np.full((3, 4, 4), v, np.uint8) for v in (10, 20)])
    np.testing.assert_array_equal(extractor.extract([images]).features, [[20.0] * 3, [40.0] * 3])


def test_broken_or_clashing_extractor_plugins_only_warn(plugins, caplog):
    def explodes():
        raise RuntimeError("plug-in bug")

    plugins(boom=("explodes", explodes),
            notaspec=("OTHER", "inception-v5"),
            clash=("CLASH", ExtractorSpec("mnist-classifier", "tries to replace a built-in", MeanColour)))
    with caplog.at_level(logging.WARNING, logger="genbench.registry"):
        assert get_extractor("mnist-classifier").identity.name == "mnist-classifier"  # the built-in
    assert list(EXTRACTORS) == ["inception-v3-fid", "mnist-classifier", "shapes3d-classifier"]
    text = caplog.text
    assert "could not load extractor plug-in 'boom'" in text and "plug-in bug" in text
    assert "could not load extractor plug-in 'notaspec'" in text and "not a genbench.features.ExtractorSpec" in text
    assert "reuses the name 'mnist-classifier'" in text
    assert len(caplog.records) == 3


def test_a_factory_returning_no_extractor_is_an_error(monkeypatch):
    monkeypatch.setattr(EXTRACTORS, "_specs", dict(EXTRACTORS._specs))
    register_extractor(ExtractorSpec("nothing", "a factory that forgot to return", lambda: None))
    with pytest.raises(GenbenchError, match="extractor 'nothing': its factory returned NoneType"):
        get_extractor("nothing")
    with pytest.raises(ValueError, match="'nothing' is registered twice"):
        register_extractor(ExtractorSpec("nothing", "again", lambda: None))


_PLUGIN = """
import numpy as np

from genbench.data import DatasetSpec, SPLITS
from genbench.features import ExtractorSpec


def _load(root):
    import toyplug.heavy  # what a real plug-in keeps out of the listing: its data and networks

    return toyplug.heavy.load()


def _build(**kwargs):
    import toyplug.heavy

    return toyplug.heavy.Extractor(**kwargs)


DATASET = DatasetSpec("toy-squares", "image", "4x4 grey squares (an installed test plug-in)", _load,
                      extractor="toy-mean")
EXTRACTOR = ExtractorSpec("toy-mean", "mean brightness (an installed test plug-in)", _build)
"""

_HEAVY = """
import numpy as np

from genbench.data import SPLITS, Dataset, Split, compute_fingerprint
from genbench.features import ExtractorIdentity, Features


def load():
    splits = {s: Split(np.arange(32, dtype=np.uint8).reshape(2, 1, 4, 4)) for s in SPLITS}
    return Dataset("toy-squares", "image", splits, compute_fingerprint("toy-squares", splits))


class Extractor:
    feature_dim = 1
    n_classes = None
    identity = ExtractorIdentity("toy-mean", "0" * 64)

    def extract(self, batches, *, device=None, progress=True, total=None):
        feats = np.concatenate([np.asarray(b, np.float64).mean(axis=(1, 2, 3))[:, None] for b in batches])
        return Features(feats, None, self.identity)
"""

_SCRIPT = """
import json, sys
from genbench.cli import main
main(["datasets"]); main(["extractors"])
heavy = sorted(m for m in sys.modules if m in (
    "toyplug.heavy", "genbench.data.mnist", "genbench.data.mnist5k", "genbench.data.toy2d",
    "genbench.features.inception", "genbench.features.mnist_classifier"))
from genbench.data import load_dataset
from genbench.features import default_extractor, get_extractor
ds = load_dataset("toy-squares")
ext = get_extractor(default_extractor(ds))
feats = ext.extract([ds.split("test").samples]).features
print(json.dumps({"heavy_after_listing": heavy, "extractor": ext.identity.name, "features": feats.tolist()}))
"""


def test_installed_plugins_are_found_through_their_entry_points(tmp_path):
    """End to end, through importlib.metadata: a package installed with a dist-info directory
    declares a dataset and an extractor; listing them imports neither its data nor its network."""
    (tmp_path / "toyplug").mkdir()
    (tmp_path / "toyplug" / "__init__.py").write_text(textwrap.dedent(_PLUGIN))
    (tmp_path / "toyplug" / "heavy.py").write_text(textwrap.dedent(_HEAVY))
    info = tmp_path / "toyplug-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyplug\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[genbench.datasets]\nsquares = toyplug:DATASET\n\n"
                                           "[genbench.extractors]\nmean = toyplug:EXTRACTOR\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(REPO)]), OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    listed = {line.split()[0]: line for line in lines[:-1]}
    assert "4x4 grey squares (an installed test plug-in)" in listed["toy-squares"]
    assert "toy-mean" in listed["toy-squares"]  # its default extractor is listed with it
    assert "mean brightness (an installed test plug-in)" in listed["toy-mean"]
    assert {"mnist-5k", "ring8", "inception-v3-fid", "mnist-classifier"} <= set(listed)
    result = json.loads(lines[-1])
    assert result["heavy_after_listing"] == []
    assert result["extractor"] == "toy-mean"
    assert result["features"] == [[7.5], [23.5]]  # means of 0..15 and 16..31
    assert "plug-in" not in done.stderr  # no warnings
