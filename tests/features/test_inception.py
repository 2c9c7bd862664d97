"""inception-v3-fid against pytorch-fid (the oracle), offline.

The real weights are a 95 MB download, so the equality tests use a state dict of *random*
weights with the right shapes, saved under the official file name in a temporary TORCH_HOME:
pytorch-fid's own ``InceptionV3`` then loads the very same file from the hub cache, and any
difference in network layout, FID-specific blocks, preprocessing (÷255, bilinear resize to 299,
2x−1), grey→RGB tiling or pooling shows up as a feature difference.
"""

from __future__ import annotations

import hashlib
import shutil
import urllib.error
import warnings

import numpy as np
import pytest
import scipy.linalg
import torch
from PIL import Image

import genbench.features.inception as inception
from genbench.errors import GenbenchError
from genbench.features import get_extractor
from genbench.features.base import Extractor, iter_batches
from genbench.features.inception import WEIGHTS_ENV, WEIGHTS_FILENAME, WEIGHTS_URL, InceptionV3FidExtractor
from random_inception import save_random_fid_weights  # beside this file (pytest puts its folder on sys.path)

# 2 folders × 10 images × (pytorch-fid + genbench) = 40 Inception passes at 299×299 (~20 s of
# CPU). The oracle's own FID costs more: scipy's sqrtm of a 2048×2048 matrix (~40 s of CPU on 2
# cores), whatever the number of images.
N_PER_FOLDER = 10


def use_torch_home(mp: pytest.MonkeyPatch, home) -> None:
    """Point both $TORCH_HOME and an explicit torch.hub.set_dir at ``home`` (restored by ``mp``)."""
    mp.delenv(WEIGHTS_ENV, raising=False)
    mp.setenv("TORCH_HOME", str(home))
    mp.setattr(torch.hub, "_hub_dir", torch.hub._hub_dir, raising=False)  # restore whatever set_dir had
    torch.hub.set_dir(str(home / "hub"))


def smooth_images(rng: np.random.Generator, n: int, channels: int, size: int) -> np.ndarray:
    """Random smooth images (upsampled 4×4 noise plus fine noise): features differ between images."""
    coarse = torch.from_numpy(rng.random((n, channels, 4, 4), dtype=np.float32))
    smooth = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False).numpy()
    images = 255 * np.clip(0.8 * smooth + 0.2 * rng.random(smooth.shape, dtype=np.float32), 0, 1)
    return images.round().astype(np.uint8)


@pytest.fixture(scope="module")
def weights_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("torch_home")
    save_random_fid_weights(home / "hub" / "checkpoints" / WEIGHTS_FILENAME)
    with pytest.MonkeyPatch.context() as mp:
        use_torch_home(mp, home)
        yield home


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Two PNG folders as pytorch-fid reads them: grey 28×28 digits-like, RGB 32×32."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    grey = smooth_images(rng, N_PER_FOLDER, 1, 28)
    rgb = smooth_images(rng, N_PER_FOLDER, 3, 32)
    for name, images in (("grey", grey), ("rgb", rgb)):
        (root / name).mkdir()
        for i, img in enumerate(images):
            array = img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)
            Image.fromarray(array).save(root / name / f"{i:03d}.png")
    return root / "grey", root / "rgb"


@pytest.fixture(scope="module")
def pytorch_fid_run(weights_home, folders):
    """pytorch-fid's calculate_fid_given_paths on the two folders, with its activations recorded."""
    from pytorch_fid import fid_score

    recorded = []
    original = fid_score.get_activations

    def spy(files, model, *args, **kwargs):  # records, does not alter, pytorch-fid's own result
        activations = original(files, model, *args, **kwargs)
        recorded.append(([str(f) for f in files], activations))
        return activations

    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        # its sqrtm(disp=False) is deprecated in SciPy 1.17, and Σ1Σ2 is singular at 10 samples
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        mp.setattr(fid_score, "get_activations", spy)
        fid_value = fid_score.calculate_fid_given_paths(
            [str(p) for p in folders], batch_size=4, device="cpu", dims=2048, num_workers=0
        )
    assert len(recorded) == 2
    return fid_value, recorded


def load_pngs(files: list[str]) -> np.ndarray:
    """The files as uint8 N×C×H×W (grey files stay 1-channel: the extractor tiles them)."""
    arrays = [np.asarray(Image.open(f)) for f in files]
    return np.stack([a[None] if a.ndim == 2 else a.transpose(2, 0, 1) for a in arrays])


@pytest.fixture(scope="module")
def genbench_run(weights_home, pytorch_fid_run):
    """genbench's features of the same files, in the same order, read into memory, in batches of 3."""
    extractor = get_extractor("inception-v3-fid")
    return [
        extractor.extract(iter_batches(load_pngs(files), 3), device="cpu", progress=False)
        for files, _ in pytorch_fid_run[1]
    ]


@pytest.mark.slow
def test_pool3_features_and_probs_match_pytorch_fid(weights_home, pytorch_fid_run, genbench_run):
    _, recorded = pytorch_fid_run
    fc_weight = torch.load(weights_home / "hub" / "checkpoints" / WEIGHTS_FILENAME, weights_only=True)["fc.weight"]
    for (files, expected), ours in zip(recorded, genbench_run):
        assert ours.features.shape == (N_PER_FOLDER, 2048) and ours.features.dtype == np.float64
        # the images must give informative, distinct features, or equality would prove little
        assert np.abs(expected).max() > 0.1 and expected.std(axis=0).mean() > 1e-3
        # float32 convolutions in channels_last vs NCHW order differ by rounding only (~1e-7 relative)
        np.testing.assert_allclose(ours.features, expected, rtol=1e-5, atol=1e-5)
        # IS probabilities: softmax of pool3 · fc.weightᵀ without bias (torch-fidelity's logits_unbiased)
        logits = expected @ fc_weight.double().numpy().T
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        assert ours.probs.shape == (N_PER_FOLDER, 1008)
        np.testing.assert_allclose(ours.probs, probs, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(ours.probs.sum(axis=1), 1.0, atol=1e-12)
    grey_files = recorded[0][0]
    assert np.asarray(Image.open(grey_files[0])).ndim == 2  # the grey→RGB tiling path was exercised


@pytest.mark.slow
# expected at 10 samples in 2048 dimensions: genbench's and SciPy's rank-deficiency warnings
@pytest.mark.filterwarnings("ignore:features_[ab].*rank deficient:UserWarning")
def test_fid_between_folders_matches_pytorch_fid(pytorch_fid_run, genbench_run):
    from genbench.metrics import fid

    expected, _ = pytorch_fid_run
    value = fid(genbench_run[0].features, genbench_run[1].features).value
    # With 10 images per folder both covariances have rank ≤ 9 in 2048 dimensions. The two sides
    # take the trace of sqrt(Σ1Σ2) differently (scipy sqrtm vs genbench's eigenvalues), and the
    # ~2039 numerically-zero eigenvalues each contribute O(sqrt(float64 eps · ‖Σ‖)) of rounding
    # noise to it; that and float32 feature rounding (≤1e-5 relative, above) bound the
    # disagreement well below 1e-4 relative (observed: 2.5e-6). A real difference (a wrong resize, missing
    # normalisation or block) changes FID by far more than that.
    print(f"FID genbench {value!r} pytorch-fid {expected!r} (relative difference {abs(value - expected) / expected:.1e})")
    assert expected > 1.0
    assert value == pytest.approx(expected, rel=1e-4)


def test_is_an_extractor_with_the_file_hash_as_identity(weights_home):
    extractor = InceptionV3FidExtractor()
    path = weights_home / "hub" / "checkpoints" / WEIGHTS_FILENAME
    assert isinstance(extractor, Extractor)
    assert extractor.weights_path == path
    assert extractor.identity.name == "inception-v3-fid"
    assert extractor.identity.weights_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (extractor.feature_dim, extractor.n_classes) == (2048, 1008)


def test_weights_are_hashed_once_per_process(weights_home, monkeypatch):
    InceptionV3FidExtractor()  # ensure the file was seen once
    calls = []
    real_sha256_file = inception.sha256_file
    monkeypatch.setattr(inception, "sha256_file", lambda *a: calls.append(a) or real_sha256_file(*a))
    InceptionV3FidExtractor()
    assert calls == []


def test_env_override_is_used_before_the_hub_cache(weights_home, tmp_path, monkeypatch):
    other = tmp_path / "elsewhere" / "fid.pth"
    other.parent.mkdir()
    save_random_fid_weights(other, seed=1)
    monkeypatch.setenv(WEIGHTS_ENV, str(other))
    extractor = get_extractor("inception-v3-fid")
    assert extractor.weights_path == other
    assert extractor.identity.weights_sha256 == hashlib.sha256(other.read_bytes()).hexdigest()

    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "missing.pth"))
    with pytest.raises(GenbenchError, match=r"GENBENCH_INCEPTION_WEIGHTS.*missing\.pth"):
        get_extractor("inception-v3-fid")


def test_missing_weights_offline_names_the_file_both_places_and_the_url(tmp_path, monkeypatch):
    empty_home = tmp_path / "empty_torch_home"
    use_torch_home(monkeypatch, empty_home)
    monkeypatch.delenv("GENBENCH_OFFLINE")  # a machine that believes it is online, without network
    attempts = []

    def offline(url, dest, progress):  # stands in for torch.hub's download: no network is touched
        attempts.append((url, dest))
        raise urllib.error.URLError("no network (test)")

    monkeypatch.setattr(inception, "_download", offline)
    with pytest.raises(GenbenchError) as info:
        get_extractor("inception-v3-fid")
    message = str(info.value)
    hub_path = empty_home / "hub" / "checkpoints" / WEIGHTS_FILENAME
    assert attempts == [(WEIGHTS_URL, hub_path)]
    for needle in (WEIGHTS_FILENAME, WEIGHTS_ENV, str(hub_path), WEIGHTS_URL, "no network"):
        assert needle in message

    attempts.clear()
    with pytest.raises(GenbenchError, match="downloading is switched off"):
        get_extractor("inception-v3-fid", download=False)
    assert attempts == []


def test_genbench_offline_never_attempts_the_download(tmp_path, monkeypatch):
    """GENBENCH_OFFLINE=1 (set for every test by conftest) must keep genbench off the network;
    the weights download was attempted anyway."""
    empty_home = tmp_path / "empty_torch_home"
    use_torch_home(monkeypatch, empty_home)
    attempts = []
    monkeypatch.setattr(inception, "_download", lambda url, dest, progress: attempts.append(url))
    with pytest.raises(GenbenchError) as info:
        get_extractor("inception-v3-fid")
    assert attempts == []
    hub_path = empty_home / "hub" / "checkpoints" / WEIGHTS_FILENAME
    for needle in ("GENBENCH_OFFLINE is set", str(hub_path), WEIGHTS_URL, WEIGHTS_ENV):
        assert needle in str(info.value)


@pytest.mark.parametrize("content", [b"not a checkpoint at all", b"PK\x03\x04truncated zip"])
def test_corrupt_weights_file_is_a_clear_error(tmp_path, content):
    bad = tmp_path / WEIGHTS_FILENAME
    bad.write_bytes(content)
    with pytest.raises(GenbenchError, match=rf"cannot load the FID Inception weights {bad}"):
        InceptionV3FidExtractor(weights_path=bad)


def test_wrong_state_dict_is_a_clear_error(tmp_path):
    wrong = tmp_path / "resnet.pth"
    torch.save({"conv1.weight": torch.zeros(4, 3, 3, 3)}, wrong)
    with pytest.raises(GenbenchError, match=r"do not fit the FID Inception network"):
        InceptionV3FidExtractor(weights_path=wrong)


def test_pickled_code_is_refused(tmp_path):
    """weights_only=True: a checkpoint that would run code when unpickled is not loaded."""
    evil = tmp_path / "evil.pth"
    torch.save({"fc.weight": torch.zeros(1), "payload": shutil.rmtree}, evil)
    with pytest.raises(GenbenchError, match="cannot load"):
        InceptionV3FidExtractor(weights_path=evil)


@pytest.mark.parametrize(
    "batch, problem",
    [
        (np.zeros((2, 3, 8, 8), np.float32), "dtype"),
        (np.zeros((2, 2, 8, 8), np.uint8), "shape"),
        (np.zeros((3, 8, 8), np.uint8), "shape"),
        ([[0, 1]], "not a numpy array or torch tensor"),
    ],
)
def test_bad_batches_are_rejected(weights_home, batch, problem):
    with pytest.raises(GenbenchError, match=problem):
        InceptionV3FidExtractor().extract([batch], progress=False)


def test_empty_input_is_an_error(weights_home):
    with pytest.raises(GenbenchError, match="no images"):
        InceptionV3FidExtractor().extract([], progress=False)
