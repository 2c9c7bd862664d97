"""evaluate(): end to end on mnist-5k with the mnist-classifier (never Inception here), the
protocol it records, and the errors it gives. Oracles: pytorch-fid's Fréchet distance on
features extracted directly, the metric library on directly extracted probabilities,
scikit-image for PSNR/SSIM."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from genbench.errors import GenbenchError
from genbench.evaluate import EvalResult, evaluate, evaluate_reconstructions, parse_metrics
from genbench.metrics.result import MetricResult
from genbench.sources import open_source

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")


N = 1000  # the whole mnist-5k test split


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    # shared by this project's eval tests in one session: real features are extracted once
    return tmp_path_factory.getbasetemp() / "genbench-eval-cache"


@pytest.fixture(scope="module")
def mnist5k():
    from genbench.data import load_dataset

    return load_dataset("mnist-5k")


@pytest.fixture(scope="module")
def classifier():
    from genbench.features import get_extractor

    return get_extractor("mnist-classifier")


def run(source, cache_dir, **kw):
    kw.setdefault("dataset", "mnist-5k")
    kw.setdefault("extractor", "mnist-classifier")
    kw.setdefault("device", "cpu")
    kw.setdefault("progress", False)
    kw.setdefault("n", N)
    return evaluate(source, cache_dir=cache_dir, **kw)


# ---------------------------------------------------------------- end to end on mnist-5k


@pytest.fixture(scope="module")
def real_vs_train(mnist5k, cache_dir):
    """The mnist-5k test split scored as if it were generated, against the train split."""
    return run(mnist5k.split("test").samples, cache_dir, split="train", metrics="fid,is,modes")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The `disp` argument")  # inside the pytorch-fid oracle
@pytest.mark.filterwarnings("ignore:Matrix is singular")  # dead ReLU units; pytorch-fid handles it
def test_real_test_split_against_train(mnist5k, classifier, real_vs_train):
    from pytorch_fid.fid_score import calculate_frechet_distance

    from genbench.features.base import iter_batches
    from genbench.metrics import inception_score

    test = mnist5k.split("test").samples
    res = real_vs_train
    # oracle: the same features extracted directly, pytorch-fid's Fréchet distance
    from genbench.stats import subset_indices

    train = mnist5k.split("train").samples
    train = train[subset_indices(len(train), N)]  # the documented subset rule for n < len(split)
    real = classifier.extract(iter_batches(train, 250), device="cpu", progress=False)
    fake = classifier.extract(iter_batches(test, 250), device="cpu", progress=False)
    expect_fid = calculate_frechet_distance(
        real.features.mean(0), np.cov(real.features, rowvar=False), fake.features.mean(0), np.cov(fake.features, rowvar=False)
    )
    assert res["fid"].value == pytest.approx(expect_fid, rel=1e-5, abs=1e-6)
    # IS of the real digits under the classifier: the real-data value, and high
    assert res["is"].value == pytest.approx(inception_score(fake.probs, splits=10).value, rel=1e-9)
    assert res["is"].value > 8.5
    assert res["modes"].value == 10
    # small FID: real vs real is far below noise (next test) and below a few units of feature variance
    noise_scale = np.trace(np.cov(real.features, rowvar=False))
    assert res["fid"].value < 0.05 * noise_scale

    p = res.protocol
    assert p["dataset"] == "mnist-5k" and p["split"] == "train"
    assert p["fingerprint"] == mnist5k.fingerprint.to_dict()
    assert p["n_generated"] == N and p["n_real"] == N
    assert p["extractor"] == classifier.identity.to_dict()
    assert p["seed"] == 0 and p["source"]["type"] == "array"
    assert set(p["metric_params"]) >= {"fid", "is", "modes"}
    prov = res.provenance
    assert prov["genbench_version"] and "git_commit" in prov and prov["device"] == "cpu"
    assert res.wall_time_s > 0


@pytest.mark.slow
def test_uniform_noise_gives_a_very_large_fid(cache_dir, real_vs_train):
    noise = np.random.default_rng(0).integers(0, 256, size=(300, 1, 28, 28), dtype=np.uint8)
    res = run(noise, cache_dir, n=300, metrics=["fid", "kid"])
    assert res["fid"].value > 50 * real_vs_train["fid"].value
    assert res["kid"].value > 100 * max(res["kid"].std, 1e-6) or res["kid"].value > 1.0
    assert res["kid"].params["subset_size"] == 150  # min(1000, min(n_real, n_fake) // 2): defect 14
    assert res.protocol["n_real"] == 300 and not res.warnings


class Memorizer(torch.nn.Module):
    """Returns stored digits chosen by Φ(z₀): a 'generator' whose samples we know exactly."""

    def __init__(self, bank_uint8: np.ndarray):
        super().__init__()
        self.latent_dim = 8
        self.register_buffer("bank", torch.from_numpy(bank_uint8.astype(np.float32) / 255.0))

    def forward(self, z):
        u = 0.5 * (1.0 + torch.erf(z[:, 0] / 1.4142135623730951))
        idx = (u * self.bank.shape[0]).long().clamp(0, self.bank.shape[0] - 1)
        return self.bank[idx]


@pytest.mark.slow
def test_torchscript_generator_and_npz_of_its_samples_give_identical_numbers(mnist5k, tmp_path, cache_dir):
    bank = mnist5k.split("test").samples
    torch.jit.script(Memorizer(bank)).save(str(tmp_path / "g.pt"))
    gen = open_source(tmp_path / "g.pt", value_range=(0, 1), device="cpu")
    samples = np.concatenate(list(gen.batches(300, 128, seed=3)))
    # independent: the same latents, indices and digits computed here
    from genbench.sources import latents

    u = 0.5 * (1 + np.vectorize(math.erf)(latents(3, 0, 300, 8)[:, 0].astype(np.float64) / math.sqrt(2)))
    np.testing.assert_array_equal(samples, bank[np.clip((u * len(bank)).astype(int), 0, len(bank) - 1)])
    np.savez(tmp_path / "s.npz", samples=samples)
    kw = dict(n=300, seed=3, metrics="fid,kid,is,prdc,modes", split="train")
    a = run(gen, cache_dir, **kw)
    b = run(str(tmp_path / "s.npz"), cache_dir, **kw)
    assert [m.to_dict() for m in a.metrics] == [m.to_dict() for m in b.metrics]
    assert a.protocol["source"]["type"] == "torchscript" and b.protocol["source"]["type"] == "npz"
    assert {m.name for m in a.metrics} == {"fid", "kid", "is", "precision", "recall", "density", "coverage", "modes", "mode_kl"}


@pytest.mark.slow
def test_reference_statistics_file(mnist5k, tmp_path, cache_dir):
    from genbench.evaluate import compute_reference_stats

    stats = compute_reference_stats(dataset="mnist-5k", split="train", extractor="mnist-classifier", n=N,
                                    device="cpu", cache_dir=cache_dir, progress=False)
    stats.save_npz(tmp_path / "train.npz")
    with np.load(tmp_path / "train.npz") as f:  # pytorch-fid reads exactly these keys
        np.savez(tmp_path / "plain.npz", mu=f["mu"], sigma=f["sigma"])
    test = mnist5k.split("test").samples[:500]
    via_stats = run(test, cache_dir, dataset=None, reference=str(tmp_path / "train.npz"), metrics=None, n=500)
    assert [m.name for m in via_stats.metrics] == ["fid"]
    assert via_stats.protocol["reference"]["type"] == "stats" and via_stats.protocol["n_real"] == N
    assert via_stats.protocol["fingerprint"]["sha256"] == mnist5k.fingerprint.sha256
    # the same 1000 train digits as against the dataset with n=1000 (500 generated: clamped, warned)
    direct = run(test, cache_dir, split="train", metrics="fid", n=N)
    assert direct.protocol["n_real"] == N and direct.protocol["n_generated"] == 500
    assert via_stats["fid"].value == pytest.approx(direct["fid"].value, rel=1e-5)  # μ,Σ path vs features path
    # a plain pytorch-fid file (mu, sigma only): the extractor must be named, the number is the same
    plain = run(test, cache_dir, dataset=None, reference=str(tmp_path / "plain.npz"), metrics="fid,is", n=500)
    assert plain["fid"].value == pytest.approx(via_stats["fid"].value, rel=1e-9)
    assert plain["is"].value > 5
    stacked = np.concatenate([test[:50], test[50:100], test[100:150]], axis=1)  # 3 different digits
    with pytest.raises(GenbenchError, match="statistics have 128 dimensions but .* gives 384"):
        run(stacked, cache_dir, dataset=None, reference=str(tmp_path / "train.npz"), metrics="fid", n=50)
    with pytest.raises(GenbenchError, match="'kid' cannot be computed.*statistics file"):
        run(test, cache_dir, dataset=None, reference=str(tmp_path / "train.npz"), metrics="fid,kid", n=500)


def test_source_against_another_source(mnist5k, cache_dir, tmp_path):
    test = mnist5k.split("test").samples
    res = run(test[:200], cache_dir, dataset=None, reference=test[300:700], metrics="fid,kid", n=250)
    assert res.protocol["reference"]["type"] == "source" and res.protocol["reference"]["source"]["n_available"] == 400
    assert res.protocol["n_real"] == 250 and res.protocol["n_generated"] == 200
    assert res["kid"].params["subset_size"] == 100  # min(1000, min(n_real, n_fake) // 2)
    with pytest.raises(GenbenchError, match="'parzen' cannot be computed.*needs a dataset"):
        run(test[:300], cache_dir, dataset=None, reference=test[300:700], metrics="parzen", n=300)


def test_points_on_ring8(cache_dir):
    from genbench.data import load_dataset

    ring = load_dataset("ring8")
    pts = ring.split("test").samples[:800]
    res = evaluate(pts, dataset=ring, metrics="modes,parzen", n=800, device="cpu", progress=False, cache_dir=cache_dir)
    assert res["modes"].value == 8
    assert res["high_quality"].value > 0.95
    assert res["parzen"].params["sigma_chosen_on"] == "val" and res["parzen"].params["scored_on"] == "test"
    # the chosen kernel width is near the mixture's own σ = 0.01, inside the searched grid
    assert 0.003 < res["parzen"].params["sigma"] < 0.1 and not any("edge" in w for w in res.warnings)
    assert res.protocol["extractor"] is None and res.protocol["kind"] == "points"
    # default for points is modes; image metrics on points are refused
    assert {m.name for m in evaluate(pts, dataset=ring, n=800, progress=False).metrics} >= {"modes"}
    with pytest.raises(GenbenchError, match="'fid' cannot be computed.*points"):
        evaluate(pts, dataset=ring, metrics="fid", n=800)


@pytest.mark.slow
def test_parzen_on_images(mnist5k, cache_dir):
    gen = mnist5k.split("train").samples[:200]
    res = run(gen, cache_dir, metrics="parzen", n=200)
    r = res["parzen"]
    assert math.isfinite(r.value) and r.std > 0
    assert r.params["data"] == "pixels / 255, flattened" and r.params["n_test"] == 200
    assert res.protocol["extractor"] is None  # Parzen alone needs no features


def test_clamping_n_is_recorded_not_silent(mnist5k, cache_dir):
    few = mnist5k.split("test").samples[:120]
    res = run(few, cache_dir, metrics="is", n=500)
    assert res.protocol["n_generated"] == 120 and res.protocol["n_requested"] == 500
    assert any("holds 120 samples, fewer than n=500" in w for w in res.warnings)


def test_grey_saved_as_rgb_is_reduced_exactly(mnist5k, cache_dir):
    grey = mnist5k.split("test").samples[:100]
    rgb = np.repeat(grey, 3, axis=1)
    a = run(grey, cache_dir, metrics="is", n=100)
    b = run(rgb, cache_dir, metrics="is", n=100)
    assert a["is"].value == b["is"].value
    assert b.protocol["channels_reduced"]
    colour = rgb.copy()
    colour[:, 1] = 255 - colour[:, 1]
    with pytest.raises(GenbenchError, match="3×28×28 but the dataset's images are 1×28×28"):
        run(colour, cache_dir, metrics="is", n=100)
    with pytest.raises(GenbenchError, match="--resize"):
        run(np.zeros((10, 1, 32, 32), np.uint8), cache_dir, metrics="is", n=10)


def test_mnist_fallback_warning_is_in_the_result(tmp_path, monkeypatch, cache_dir, mnist5k):
    monkeypatch.setenv("GENBENCH_OFFLINE", "1")
    res = run(mnist5k.split("test").samples[:50], cache_dir, dataset="mnist", data_root=tmp_path,
              metrics="is", n=50)
    assert any("mnist-5k" in w for w in res.warnings)
    assert res.protocol["dataset_warnings"] == res.warnings[: len(res.protocol["dataset_warnings"])]
    assert res.protocol["fingerprint"]["sha256"] == mnist5k.fingerprint.sha256


# ---------------------------------------------------------------- arguments and errors


def test_parse_metrics():
    assert parse_metrics(None) is None
    assert parse_metrics("fid, KID,fid") == ["fid", "kid"]
    with pytest.raises(GenbenchError, match="unknown metric.*'fdi'.*valid metrics are fid, kid, is, prdc, parzen, modes"):
        parse_metrics("fid,fdi")
    with pytest.raises(GenbenchError, match="no metrics"):
        parse_metrics(" , ")


def test_argument_errors(mnist5k):
    x = mnist5k.split("test").samples[:10]
    with pytest.raises(GenbenchError, match="exactly one of dataset"):
        evaluate(x)
    with pytest.raises(GenbenchError, match="exactly one of dataset"):
        evaluate(x, dataset="mnist-5k", reference=x)
    with pytest.raises(GenbenchError, match="source gives 2-D points but the reference holds images"):
        evaluate(np.zeros((10, 2), np.float32), dataset="mnist-5k")
    with pytest.raises(GenbenchError, match="n .* positive integer"):
        evaluate(x, dataset="mnist-5k", n=0)
    with pytest.raises(GenbenchError, match="no split 'dev'"):
        evaluate(x, dataset="mnist-5k", split="dev")
    if not torch.cuda.is_available():
        with pytest.raises(GenbenchError, match="CUDA is not available"):
            evaluate(x, dataset="mnist-5k", device="cuda")


# ---------------------------------------------------------------- the result object


def test_result_round_trip_and_table(tmp_path):
    res = EvalResult(
        metrics=[MetricResult("fid", 12.5, None, None, {"n_real": 3}),
                 MetricResult("kid", 0.0123, 0.001, None, {"subset_size": 3}),
                 MetricResult("is", 9.87, 0.05, (9.7, 9.9), {})],
        protocol={"source": {"type": "npz", "path": "/x.npz"}, "reference": {"type": "dataset", "dataset": "mnist-5k",
                  "fingerprint": {"name": "mnist-5k", "sha256": "ab" * 32}}, "split": "test",
                  "n_generated": 3, "n_real": 3, "seed": 0, "extractor": {"name": "mnist-classifier", "weights_sha256": "cd" * 32},
                  "device": "cpu", "shape": np.array([1, 2])},
        provenance={"genbench_version": "0.1.0"},
        warnings=["something to know"],
        wall_time_s=1.5,
    )
    res.save_json(tmp_path / "r.json")
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["format"] == "genbench-eval" and d["protocol"]["shape"] == [1, 2]
    back = EvalResult.from_dict(d)
    assert back.to_dict() == d and back["kid"].std == 0.001
    assert EvalResult.load_json(tmp_path / "r.json").values() == {"fid": 12.5, "kid": 0.0123, "is": 9.87}
    table = res.format_table()
    for text in ("fid", "12.50", "± 0.0010", "[9.7000, 9.9000]", "mnist-5k [test]", "WARNING: something to know"):
        assert text in table, text
    with pytest.raises(KeyError, match="no metric 'prdc'"):
        res["prdc"]


# ---------------------------------------------------------------- reconstructions


def test_evaluate_reconstructions_against_skimage():
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, size=(4, 1, 16, 16), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-20, 21, size=a.shape), 0, 255).astype(np.uint8)
    psnr, ssim = evaluate_reconstructions(a, b)
    assert psnr.name == "psnr" and ssim.name == "ssim"
    expect_psnr = np.mean([peak_signal_noise_ratio(x[0], y[0], data_range=255) for x, y in zip(a, b)])
    expect_ssim = np.mean([structural_similarity(x[0], y[0], data_range=255) for x, y in zip(a, b)])
    assert psnr.value == pytest.approx(expect_psnr, rel=1e-9)
    assert ssim.value == pytest.approx(expect_ssim, rel=1e-3)
    assert psnr.params["data_range"] == 255
    with pytest.raises(GenbenchError, match="must be uint8"):
        evaluate_reconstructions(a.astype(np.float32), b)
    with pytest.raises(GenbenchError, match="differ in shape"):
        evaluate_reconstructions(a, b[:3])


@pytest.mark.slow
def test_stacked_mnist_counts_1000_way_modes(cache_dir):
    from genbench.data import load_dataset

    ds = load_dataset("stacked-mnist")
    test = ds.split("test")
    res = evaluate(test.samples[:300], dataset=ds, metrics="modes,fid", n=300, device="cpu", progress=False,
                   cache_dir=cache_dir)
    # oracle: the true labels r*100+g*10+b; a ~98 %-accurate digit classifier finds about as many
    distinct = len(np.unique(test.labels[:300]))
    assert abs(res["modes"].value - distinct) <= 0.05 * distinct
    assert res["modes"].params["n_classes"] == 1000
    assert res.protocol["extractor"]["name"] == "mnist-classifier"  # the digit-data default
    # the metric library's rank warning (300 samples, 384 dims) is part of the result, not lost
    assert any("rank deficient" in w for w in res.warnings)


@pytest.mark.slow
def test_checkpoint_trained_on_another_dataset_is_a_warning(tmp_path):
    import baselines
    from genbench.data import load_dataset

    ckpt = baselines.train("gan", load_dataset("ring8"), out_dir=tmp_path / "gan", steps=2, device="cpu", progress=False)
    other = evaluate(ckpt, dataset="grid25", metrics="modes", n=200, device="cpu", progress=False)
    assert "the checkpoint was trained on 'ring8' but is evaluated against 'grid25'" in other.warnings
    same = evaluate(ckpt, dataset="ring8", metrics="modes", n=200, device="cpu", progress=False)
    assert not any("trained on" in w for w in same.warnings)
    assert same.protocol["source"]["type"] == "genbench-checkpoint" and same.protocol["n_generated"] == 200


def test_eval_shows_each_warning_once(mnist5k, cache_dir, tmp_path, capsys, caplog):
    """Defect 15: evaluate() logged its warnings and `genbench eval` printed them under the table."""
    from genbench.cli import main

    np.savez(tmp_path / "s.npz", samples=mnist5k.split("test").samples[:120])
    assert main(["eval", str(tmp_path / "s.npz"), "--dataset", "mnist-5k", "--metrics", "is", "--n", "500",
                 "--extractor", "mnist-classifier", "--device", "cpu", "--no-progress", "--cache-dir", str(cache_dir)]) == 0
    out, err = capsys.readouterr()
    shown = out + err + caplog.text
    assert shown.count("holds 120 samples, fewer than n=500") == 1, shown
