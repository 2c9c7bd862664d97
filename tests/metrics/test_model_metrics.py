"""The registered model metrics' adapters (genbench.metrics.builtin): what they hand the metric
functions, and what they record for a model they do not apply to. Fake models, real digits."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from genbench.data import load_dataset
from genbench.errors import GenbenchError
from genbench.evaluate import evaluate
from genbench.features import get_extractor
from genbench.metrics.edit import classify
from genbench.metrics.registry import METRICS, MetricInputs
from genbench.metrics.truncation import truncation_sweep


@pytest.fixture(scope="module")
def digits():
    return load_dataset("mnist-5k")


def _inputs(ds, model, **kw):
    return MetricInputs(kind="image", seed=0, dataset=ds, split="test", model=model, n=100,
                        extractor="mnist-classifier", **kw)


def _model(name="fake", **spec):
    return SimpleNamespace(name=name, spec=SimpleNamespace(name=name, conditioning="none", **spec),
                           config=SimpleNamespace(n_classes=10), kind="image")


def test_edit_accuracy_edits_each_digit_to_every_other_class_in_turn_and_scores_an_oracle_editor(digits):
    test = digits.split("test")
    predicted = classify(test.samples[:300], get_extractor("mnist-classifier"))
    exemplar = {c: test.samples[int(np.flatnonzero(predicted == c)[0])] for c in range(10)}
    seen = {}

    def edit(model, images, targets):
        if targets is None:
            return images ^ np.uint8(1)  # every pixel off by exactly one grey level
        seen["targets"] = targets
        return np.stack([exemplar[int(t)] for t in targets])

    x = _inputs(digits, _model(edit=edit))
    out = {r.name: r for r in METRICS["edit_accuracy"].compute(x, n=30, classifier=None)}
    labels = test.labels[:30]
    assert (seen["targets"] != labels).all()  # never the digit's own class
    np.testing.assert_array_equal(seen["targets"], (labels + 1 + np.arange(30) % 9) % 10)
    assert out["edit_accuracy"].value == 1.0 and out["edit_accuracy"].params["n"] == 30
    assert out["edit_psnr"].value == pytest.approx(20 * math.log10(255.0), abs=1e-9)  # MSE = 1
    assert x.not_applicable == {}


def test_a_model_without_the_ability_is_recorded_as_not_applicable_with_why(digits):
    x = _inputs(digits, _model(supports_truncation=False))
    assert METRICS["edit_accuracy"].compute(x, n=30, classifier=None) == []
    assert METRICS["truncation_sweep"].compute(x, psis=[1.0], n=None) == []
    assert set(x.not_applicable) == {"edit_accuracy", "edit_psnr", "edit_ssim", "truncation_best_fid",
                                     "truncation_max_is"}
    assert "has no encoder" in x.not_applicable["edit_psnr"] and "no truncation trick" in x.not_applicable["truncation_max_is"]


class _Truncatable:
    """Samples real training digits, more of one class the lower ψ is (a stand-in for the trade-off)."""

    name = "fake"
    spec = SimpleNamespace(supports_truncation=True)

    def __init__(self, ds):
        self.train = ds.split("train")
        self.calls = []

    def sample(self, n, seed, truncation):
        self.calls.append((n, seed, truncation))
        k = int(round((1 - truncation) * n))
        ones = self.train.samples[self.train.labels == 1]
        return np.concatenate([ones[:k], self.train.samples[:n - k]])


def test_truncation_sweep_psi_1_is_the_fid_of_the_untruncated_samples(digits, tmp_path):
    model = _Truncatable(digits)
    out = {r.name: r for r in truncation_sweep(model, digits, psis=[0.5, 1.0], n=200, seed=3,
                                               extractor="mnist-classifier", cache_dir=str(tmp_path))}
    assert model.calls == [(200, 3, 1.0), (200, 3, 0.5)]  # the same seed at every ψ, ψ = 1 first
    direct = {m.name: m.value for m in evaluate(digits.split("train").samples[:200], dataset=digits, metrics=["fid", "is"],
                                                n=200, extractor="mnist-classifier", seed=3, progress=False,
                                                cache_dir=str(tmp_path)).metrics}
    curve = out["truncation_best_fid"].params["curve"]
    assert curve["psi"] == [1.0, 0.5] and curve["fid"][0] == pytest.approx(direct["fid"], rel=1e-12)
    assert curve["is"][0] == pytest.approx(direct["is"], rel=1e-12)
    assert out["truncation_best_fid"].value == min(curve["fid"]) and out["truncation_best_fid"].params["psi"] == 1.0
    assert out["truncation_max_is"].value == max(curve["is"])


@pytest.mark.parametrize("psis, message", [([], "non-empty list"), ([1.0, 1.2], "got 1.2"), ([0.0], "got 0.0"),
                                           ([0.5, 0.5], "lists a ψ twice")])
def test_a_bad_truncation_grid_is_a_one_line_error(digits, psis, message):
    with pytest.raises(GenbenchError, match=message):
        truncation_sweep(_Truncatable(digits), digits, psis=psis, n=10)


def test_ppl_auto_distance_is_resolved_into_the_cache_key(monkeypatch, tmp_path):
    """'auto' means LPIPS where its weights are and the classifier distance elsewhere: the runner's
    key holds what it resolved to, so weights installed later make the path length rerun."""
    from genbench.metrics import lpips

    spec = METRICS["ppl"]
    params = dict(spec.params)

    def absent():
        raise GenbenchError("LPIPS weights not found")

    monkeypatch.setattr(lpips, "find_weights", absent)
    assert spec.resolved(params)["distance"] == "mnist-classifier"
    files = [tmp_path / "lin.pth", tmp_path / "vgg.pth"]
    for f in files:
        f.write_bytes(b"x")
    monkeypatch.setattr(lpips, "find_weights", lambda: tuple(files))
    assert spec.resolved(params) == {"distance": "lpips", "weights": [str(f) for f in files], "sizes": [1, 1]}
    assert spec.resolved({**params, "distance": "pixel-l2"}) == {"distance": "pixel-l2"}
