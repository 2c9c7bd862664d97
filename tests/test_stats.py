"""Reference statistics: pytorch-fid's .npz format both ways, and the content-keyed feature cache."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from genbench.data.dataset import Dataset, Split, compute_fingerprint
from genbench.errors import GenbenchError
from genbench.features.base import ExtractorIdentity, Features
from genbench.stats import ReferenceStats, dataset_features, default_cache_dir, subset_indices

# ---------------------------------------------------------------------------------------------
# ReferenceStats


def test_from_features_hand_computed():
    # three points: mean (2/3, 2/3); with ddof=1: var x = var y = 4/3, cov(x, y) = -2/3
    features = Features(np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]]), None, ExtractorIdentity("e", "ab"))
    stats = ReferenceStats.from_features(features, fingerprint={"name": "d"}, split="test")
    np.testing.assert_allclose(stats.mu, [2 / 3, 2 / 3])
    np.testing.assert_allclose(stats.sigma, [[4 / 3, -2 / 3], [-2 / 3, 4 / 3]])
    assert stats.n == 3 and stats.extractor == {"name": "e", "weights_sha256": "ab"}
    assert stats.fingerprint == {"name": "d"} and stats.split == "test"


@pytest.mark.parametrize(
    "array, problem",
    [(np.zeros((1, 4)), "at least 2"), (np.zeros(4), "2-D"), (np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN")],
)
def test_from_features_rejects_bad_input(array, problem):
    with pytest.raises(GenbenchError, match=problem):
        ReferenceStats.from_features(array)


def _stats(rng, d=5) -> ReferenceStats:
    x = rng.normal(size=(40, d))
    fingerprint = {"name": "mnist-5k", "sizes": {"test": 1000}, "sha256": "f" * 64}
    return ReferenceStats.from_features(
        Features(x, None, ExtractorIdentity("inception-v3-fid", "a" * 64)), fingerprint=fingerprint, split="test"
    )


def test_saved_stats_are_read_by_pytorch_fid(tmp_path):
    from pytorch_fid.fid_score import compute_statistics_of_path

    stats = _stats(np.random.default_rng(0))
    path = tmp_path / "stats.npz"
    stats.save_npz(path)
    mu, sigma = compute_statistics_of_path(str(path), model=None, batch_size=1, dims=5, device="cpu")
    np.testing.assert_array_equal(mu, stats.mu)
    np.testing.assert_array_equal(sigma, stats.sigma)
    assert not list(tmp_path.glob(".*tmp"))  # written atomically: no temporary file left behind


def test_saved_stats_round_trip_with_provenance(tmp_path):
    stats = _stats(np.random.default_rng(1))
    stats.save_npz(tmp_path / "s.npz")
    loaded = ReferenceStats.load_npz(tmp_path / "s.npz")
    np.testing.assert_array_equal(loaded.mu, stats.mu)
    np.testing.assert_array_equal(loaded.sigma, stats.sigma)
    assert (loaded.n, loaded.fingerprint, loaded.extractor, loaded.split) == (
        40, stats.fingerprint, stats.extractor, "test"
    )


def test_plain_pytorch_fid_file_is_read(tmp_path):
    rng = np.random.default_rng(2)
    mu, a = rng.normal(size=6), rng.normal(size=(6, 6))
    path = tmp_path / "pytorch_fid_stats.npz"
    np.savez_compressed(path, mu=mu, sigma=a @ a.T)  # exactly what pytorch-fid's --save-stats writes
    loaded = ReferenceStats.load_npz(path)
    np.testing.assert_array_equal(loaded.mu, mu)
    np.testing.assert_array_equal(loaded.sigma, a @ a.T)
    assert loaded.n is None and loaded.fingerprint is None and loaded.extractor is None


def test_bad_stats_files_are_clear_errors(tmp_path):
    missing = tmp_path / "none.npz"
    with pytest.raises(GenbenchError, match="none.npz does not exist"):
        ReferenceStats.load_npz(missing)

    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(GenbenchError, match="garbage.npz"):
        ReferenceStats.load_npz(garbage)

    no_sigma = tmp_path / "no_sigma.npz"
    np.savez(no_sigma, mu=np.zeros(3))
    with pytest.raises(GenbenchError, match=r"no_sigma.npz.*lacks sigma"):
        ReferenceStats.load_npz(no_sigma)

    wrong_shape = tmp_path / "wrong_shape.npz"
    np.savez(wrong_shape, mu=np.zeros(3), sigma=np.eye(4))
    with pytest.raises(GenbenchError, match=r"wrong_shape.npz.*D×D"):
        ReferenceStats.load_npz(wrong_shape)

    non_finite = tmp_path / "nan.npz"
    np.savez(non_finite, mu=np.array([0.0, np.nan]), sigma=np.eye(2))
    with pytest.raises(GenbenchError, match=r"nan.npz.*NaN"):
        ReferenceStats.load_npz(non_finite)


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GENBENCH_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("GENBENCH_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "genbench"


# ---------------------------------------------------------------------------------------------
# dataset_features


class CountingExtractor:
    """A stand-in extractor: features = per-image pixel sums; counts the images it sees."""

    def __init__(self, sha="0" * 64):
        self.identity = ExtractorIdentity("fake", sha)
        self.feature_dim = 2
        self.n_classes = 3
        self.calls = 0
        self.seen: list[np.ndarray] = []

    def extract(self, batches, *, device=None, progress=True, total=None):
        self.calls += 1
        images = np.concatenate(list(batches))
        self.seen.append(images)
        flat = images.reshape(len(images), -1).astype(np.float64)
        features = np.stack([flat.sum(axis=1), flat[:, 0]], axis=1) / 7.0  # not float32-exact
        logits = features[:, :1] * np.array([[0.1, 0.2, 0.3]])
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return Features(features, probs, self.identity)


@pytest.fixture
def dataset():
    rng = np.random.default_rng(0)
    splits = {
        "train": Split(rng.integers(0, 256, (30, 1, 4, 4), dtype=np.uint8)),
        "test": Split(rng.integers(0, 256, (20, 1, 4, 4), dtype=np.uint8)),
    }
    return Dataset(name="tiny", kind="image", splits=splits, fingerprint=compute_fingerprint("tiny", splits))


def test_second_call_reads_the_cache(dataset, tmp_path):
    extractor = CountingExtractor()
    first = dataset_features(dataset, "test", extractor, cache_dir=tmp_path, batch_size=6, progress=False)
    second = dataset_features(dataset, "test", extractor, cache_dir=tmp_path, batch_size=6, progress=False)
    assert extractor.calls == 1
    np.testing.assert_array_equal(extractor.seen[0], dataset.split("test").samples)  # all of it, in order
    np.testing.assert_array_equal(second.features, first.features)
    np.testing.assert_array_equal(second.probs, first.probs)
    assert second.features.dtype == np.float64 and second.extractor == extractor.identity
    assert len(list((tmp_path / "features").glob("*.npz"))) == 1
    assert not list((tmp_path / "features").glob(".*tmp"))


def test_the_key_covers_split_n_extractor_and_data(dataset, tmp_path):
    extractor = CountingExtractor()
    dataset_features(dataset, "test", extractor, cache_dir=tmp_path, progress=False)
    dataset_features(dataset, "train", extractor, cache_dir=tmp_path, progress=False)
    dataset_features(dataset, "test", extractor, n=10, cache_dir=tmp_path, progress=False)
    assert extractor.calls == 3
    other_weights = CountingExtractor(sha="1" * 64)
    dataset_features(dataset, "test", other_weights, cache_dir=tmp_path, progress=False)
    assert other_weights.calls == 1
    changed = dict(dataset.splits)
    changed["test"] = Split(dataset.split("test").samples.copy())
    changed["test"].samples[0, 0, 0, 0] ^= 1  # one pixel differs: another fingerprint
    other_data = Dataset("tiny", "image", changed, compute_fingerprint("tiny", changed))
    dataset_features(other_data, "test", extractor, cache_dir=tmp_path, progress=False)
    assert extractor.calls == 4
    dataset_features(dataset, "test", extractor, n=10, cache_dir=tmp_path, progress=False)
    assert extractor.calls == 4  # everything above is still cached


def test_genbench_cache_env_is_the_default_location(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("GENBENCH_CACHE", str(tmp_path / "env_cache"))
    dataset_features(dataset, "test", CountingExtractor(), progress=False)
    assert len(list((tmp_path / "env_cache" / "features").glob("*.npz"))) == 1


def test_subset_is_the_documented_seeded_one(dataset, tmp_path):
    extractor = CountingExtractor()
    features = dataset_features(dataset, "train", extractor, n=12, cache_dir=tmp_path, batch_size=5, progress=False)
    expected_idx = np.sort(np.random.default_rng(0).permutation(30)[:12])
    np.testing.assert_array_equal(subset_indices(30, 12), expected_idx)
    np.testing.assert_array_equal(extractor.seen[0], dataset.split("train").samples[expected_idx])
    assert len(features) == 12


@pytest.mark.parametrize("n, problem", [(31, "larger than the split"), (1, "at least 2")])
def test_bad_n_is_an_error(dataset, tmp_path, n, problem):
    with pytest.raises(GenbenchError, match=problem):
        dataset_features(dataset, "train", CountingExtractor(), n=n, cache_dir=tmp_path, progress=False)


def test_points_and_unknown_splits_are_errors(tmp_path, dataset):
    splits = {"test": Split(np.zeros((5, 2), np.float32))}
    points = Dataset("pts", "points", splits, compute_fingerprint("pts", splits))
    with pytest.raises(GenbenchError, match="not images"):
        dataset_features(points, "test", CountingExtractor(), cache_dir=tmp_path, progress=False)
    with pytest.raises(GenbenchError, match="no split 'val'"):
        dataset_features(dataset, "val", CountingExtractor(), cache_dir=tmp_path, progress=False)


def _tamper(path, **replace):
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays.update(replace)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda p: _tamper(p, features=np.load(p)["features"] + 1.0), id="values-changed"),
        pytest.param(lambda p: _tamper(p, features=np.load(p)["features"][:5]), id="rows-dropped"),
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[:200]), id="truncated"),
        pytest.param(lambda p: p.write_bytes(b"garbage"), id="garbage"),
    ],
)
def test_corrupt_cache_is_recomputed_with_a_warning(dataset, tmp_path, caplog, corrupt):
    extractor = CountingExtractor()
    first = dataset_features(dataset, "test", extractor, cache_dir=tmp_path, progress=False)
    (path,) = (tmp_path / "features").glob("*.npz")
    corrupt(path)
    with caplog.at_level(logging.WARNING, logger="genbench.stats"):
        again = dataset_features(dataset, "test", extractor, cache_dir=tmp_path, progress=False)
    assert extractor.calls == 2
    assert any("corrupt feature cache" in r.message and str(path) in r.message for r in caplog.records)
    np.testing.assert_array_equal(again.features, first.features)
    dataset_features(dataset, "test", extractor, cache_dir=tmp_path, progress=False)
    assert extractor.calls == 2  # the recomputed entry was written back and is good


def _npy_header(shape, dtype="<f8") -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


@pytest.mark.parametrize("member, shape", [("features", (20, 10**10)), ("probs", (10**12, 3)),
                                           ("key", None)])
def test_cache_header_declaring_a_huge_array_is_refused_before_loading(dataset, tmp_path, caplog, member, shape):
    import zipfile

    extractor = CountingExtractor()
    dataset_features(dataset, "test", extractor, cache_dir=tmp_path, progress=False)
    (path,) = (tmp_path / "features").glob("*.npz")
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    if shape is None:  # a 0-d string of 2**28 characters (1 GiB)
        members["key.npy"] = _npy_header((), "<U268435456") + b"\0" * 64
    else:
        members[f"{member}.npy"] = _npy_header(shape) + b"\0" * 64
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with caplog.at_level(logging.WARNING, logger="genbench.stats"):
        again = dataset_features(dataset, "test", extractor, cache_dir=tmp_path, progress=False)
    assert extractor.calls == 2 and len(again) == 20
    assert any("corrupt feature cache" in r.message for r in caplog.records)


def test_cache_key_follows_the_computing_code(dataset, tmp_path, monkeypatch):
    from genbench import code_hash

    extractor = CountingExtractor()
    dataset_features(dataset, "test", extractor, cache_dir=tmp_path, progress=False)
    monkeypatch.setattr(code_hash, "evaluation_code", lambda: "edited-metric")
    dataset_features(dataset, "test", extractor, cache_dir=tmp_path, progress=False)
    assert extractor.calls == 2  # an edited metric or extractor must not reuse stale features


def test_stats_file_declaring_a_huge_sigma_is_refused_before_loading(tmp_path):
    import zipfile

    path = tmp_path / "stats.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:  # 1 kB on disk, 8 TB declared
        zf.writestr("mu.npy", _npy_header((10**6,)) + b"\0" * 64)
        zf.writestr("sigma.npy", _npy_header((10**6, 10**6)) + b"\0" * 64)
    with pytest.raises(GenbenchError, match=r"stats.npz: (mu|sigma) is declared \(1000000.*at most 8192 dimensions"):
        ReferenceStats.load_npz(path)
