"""The mnist-classifier extractor against oracles: the true labels, the weights file read
independently, and a per-channel run for stacked MNIST."""

import hashlib
import shutil

import numpy as np
import pytest
import torch

import genbench.features.mnist_classifier as mc
from genbench.data import load_dataset
from genbench.data.stacked import stack_digits
from genbench.errors import GenbenchError
from genbench.features.base import Extractor, iter_batches
from genbench.features.mnist_classifier import MnistClassifierExtractor


@pytest.fixture(scope="module")
def extractor():
    return MnistClassifierExtractor()


@pytest.fixture(scope="module")
def mnist5k():
    return load_dataset("mnist-5k")


@pytest.fixture(scope="module")
def test_features(extractor, mnist5k):
    images = mnist5k.split("test").samples
    return extractor.extract(iter_batches(images, 250), device="cpu", progress=False, total=len(images))


def test_accuracy_on_the_shipped_test_split(test_features, mnist5k):
    accuracy = np.mean(test_features.probs.argmax(1) == mnist5k.split("test").labels)
    assert accuracy >= 0.97, accuracy


def test_real_test_digits_get_a_high_inception_score(test_features):
    # IS = exp(E_x KL(p(y|x) || p(y))), 10 splits, computed here directly (Salimans et al. 2016)
    scores = []
    for part in np.array_split(test_features.probs, 10):
        p_y = part.mean(0)
        kl = np.sum(part * (np.log(np.maximum(part, 1e-300)) - np.log(p_y)), axis=1)
        scores.append(np.exp(kl.mean()))
    assert 9.0 < np.mean(scores) <= 10.0


def test_shapes_dtypes_identity(extractor, test_features):
    assert isinstance(extractor, Extractor)
    assert test_features.features.shape == (1000, mc.FEATURE_DIM) and test_features.features.dtype == np.float64
    assert test_features.probs.shape == (1000, 10) and test_features.probs.dtype == np.float64
    np.testing.assert_allclose(test_features.probs.sum(1), 1.0, atol=1e-12)
    expected_sha = hashlib.sha256(mc.DEFAULT_WEIGHTS.read_bytes()).hexdigest()
    assert test_features.extractor.to_dict() == {"name": "mnist-classifier", "weights_sha256": expected_sha}
    assert mc.DEFAULT_WEIGHTS.stat().st_size < 1_000_000


def test_features_are_the_penultimate_layer(test_features):
    """softmax(head(features)) with the head read straight from the file must give the probs."""
    from safetensors.numpy import load_file

    state = load_file(str(mc.DEFAULT_WEIGHTS))
    logits = test_features.features @ state["head.weight"].T.astype(np.float64) + state["head.bias"]
    logits -= logits.max(1, keepdims=True)
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(probs, test_features.probs, atol=1e-5)
    assert (test_features.features >= 0).all()  # after the ReLU


def test_folded_batchnorm_matches_the_trained_network(mnist5k):
    from safetensors.torch import load_file

    reference = mc.MnistCNN()
    reference.load_state_dict(load_file(str(mc.DEFAULT_WEIGHTS)))
    reference.eval()
    folded = mc.load_model(mc.DEFAULT_WEIGHTS)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    x = mc.to_input(torch.from_numpy(mnist5k.split("val").samples[:200]))
    with torch.no_grad():
        for a, b in zip(reference(x), folded(x)):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_deterministic_and_batch_size_independent(extractor, mnist5k, test_features):
    images = mnist5k.split("test").samples[:300]
    a = extractor.extract(iter_batches(images, 100), progress=False)
    b = extractor.extract(iter_batches(images, 100), progress=False)
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.probs, b.probs)
    c = extractor.extract([torch.from_numpy(images[:7]), images[7:300]], progress=False)  # tensors too
    np.testing.assert_allclose(c.features, a.features, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(a.features, test_features.features[:300], rtol=1e-5, atol=1e-5)


def test_stacked_probs_are_the_per_channel_outer_product(extractor, mnist5k):
    source = mnist5k.split("test")
    split = stack_digits(source.samples, source.labels, 200, np.random.RandomState(1))
    out = extractor.extract(iter_batches(split.samples, 128), progress=False)
    assert out.features.shape == (200, 3 * mc.FEATURE_DIM) and out.probs.shape == (200, 1000)
    np.testing.assert_allclose(out.probs.sum(1), 1.0, atol=1e-12)
    per_channel = [extractor.extract([split.samples[:, c : c + 1]], progress=False) for c in range(3)]
    r, g, b = (f.probs.argmax(1) for f in per_channel)
    np.testing.assert_array_equal(out.probs.argmax(1), r * 100 + g * 10 + b)
    np.testing.assert_allclose(
        out.features, np.concatenate([f.features for f in per_channel], axis=1), rtol=1e-5, atol=1e-5
    )
    # a single probability checked by hand: P(r=1, g=2, b=3) of the first image
    i = 0
    expected = per_channel[0].probs[i, 1] * per_channel[1].probs[i, 2] * per_channel[2].probs[i, 3]
    assert out.probs[i, 123] == pytest.approx(expected, rel=1e-5, abs=1e-12)
    # and the stacked labels are recovered about as often as three digits in a row are
    assert np.mean(out.probs.argmax(1) == split.labels) > 0.9


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((2, 1, 28, 28), np.float32), "uint8"),
        (torch.zeros((2, 1, 28, 28)), "uint8"),
        (np.zeros((2, 1, 32, 32), np.uint8), "28×28"),
        (np.zeros((2, 2, 28, 28), np.uint8), "C = 1"),
        (np.zeros((2, 28, 28), np.uint8), "N×C×28×28"),
        ([[0]], "numpy array or torch tensor"),
    ],
)
def test_bad_images_are_clear_errors(extractor, bad, match):
    with pytest.raises(GenbenchError, match=match):
        extractor.extract([bad], progress=False)


def test_mixed_channels_and_empty_input_are_errors(extractor):
    with pytest.raises(GenbenchError, match="earlier batches had 1"):
        extractor.extract([np.zeros((1, 1, 28, 28), np.uint8), np.zeros((1, 3, 28, 28), np.uint8)], progress=False)
    with pytest.raises(GenbenchError, match="no images"):
        extractor.extract([], progress=False)


def test_bad_weights_files(tmp_path, monkeypatch):
    with pytest.raises(GenbenchError, match="does not exist"):
        MnistClassifierExtractor(tmp_path / "missing.safetensors")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00" * 100)
    with pytest.raises(GenbenchError, match=str(garbage)):
        MnistClassifierExtractor(garbage)
    from safetensors.torch import save_file

    wrong = tmp_path / "wrong.safetensors"
    save_file({"hidden.weight": torch.zeros(3, 3)}, str(wrong))
    with pytest.raises(GenbenchError, match="do not fit"):
        MnistClassifierExtractor(wrong)
    # a modified shipped file is refused; the same bytes passed explicitly are a different identity
    tampered = tmp_path / "mnist_classifier.safetensors"
    shutil.copy(mc.DEFAULT_WEIGHTS, tampered)
    data = bytearray(tampered.read_bytes())
    data[-5] ^= 0x01
    tampered.write_bytes(bytes(data))
    monkeypatch.setattr(mc, "DEFAULT_WEIGHTS", tampered)
    with pytest.raises(GenbenchError, match="corrupt or was modified"):
        MnistClassifierExtractor()
    explicit = MnistClassifierExtractor(tampered)
    assert explicit.identity.weights_sha256 == hashlib.sha256(bytes(data)).hexdigest()
    assert explicit.identity.weights_sha256 != mc.DEFAULT_WEIGHTS_SHA256


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_explicit_cuda_without_cuda_is_an_error(extractor):
    with pytest.raises(GenbenchError, match="CUDA"):
        extractor.extract([np.zeros((1, 1, 28, 28), np.uint8)], device="cuda", progress=False)


def test_progress_bar_counts_images(extractor, capsys):
    extractor.extract(iter_batches(np.zeros((30, 1, 28, 28), np.uint8), 10), progress=True, total=30)
    assert "30/30" in capsys.readouterr().err
