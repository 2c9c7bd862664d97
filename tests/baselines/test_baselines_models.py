"""Every baseline trains a few steps on tiny data, logs finite losses, and samples in contract form."""

from __future__ import annotations

import json

import numpy as np
import pytest
from baseline_fixtures import make_images, tiny

import baselines
from baselines import checkpoint
from genbench.errors import GenbenchError

MODEL_NAMES = ["gan", "dcgan", "cgan", "ae", "vae", "aae", "unrolled-gan", "minibatch-gan"]


def test_registry_lists_the_eight_models_with_papers():
    assert set(MODEL_NAMES) <= set(baselines.MODELS)
    for name in MODEL_NAMES:
        info = baselines.MODELS[name]
        assert info.name == name and info.paper and set(info.kinds) == {"image", "points"}
        assert info.can_translate == (name in ("ae", "vae", "aae"))
        assert info.conditioning == ("class" if name == "cgan" else "none")
    with pytest.raises(GenbenchError, match="unknown model 'nope'.*available: 3dgan, aae"):
        baselines.get_spec("nope")


def _log(path):
    return [json.loads(line) for line in (path / checkpoint.LOG_FILE).read_text().splitlines()]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_trains_on_points_and_samples_float32(name, points_ds, tmp_path):
    out = baselines.train(name, points_ds, out_dir=tmp_path, overrides=tiny(name, "points"), steps=3, progress=False)
    entries = _log(out)
    assert [e["step"] for e in entries] == [1, 2, 3]
    for e in entries:
        losses = {k: v for k, v in e.items() if k not in ("step", "wall_time_s")}
        assert losses and all(np.isfinite(v) for v in losses.values()), e
    model = baselines.load(out, device="cpu")
    assert model.step == 3 and model.finished and model.name == name
    s = model.sample(20, seed=3)
    assert s.shape == (20, 2) and s.dtype == np.float32 and np.all(np.isfinite(s))
    # Samples come back in data units (the ring has radius 1), not in the standardised space.
    assert np.abs(s).max() < 50
    # batch-size independent up to float rounding (MKL's GEMM sums by row count on some CPUs)
    np.testing.assert_allclose(s, model.sample(20, seed=3, batch_size=7), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(s, model.sample(20, seed=3))  # a fixed batch size: bit-exact
    assert not np.array_equal(s, model.sample(20, seed=4))
    if model.can_translate:
        r = model.translate(points_ds.split("test").samples)
        assert r.shape == (32, 2) and r.dtype == np.float32
    else:
        with pytest.raises(GenbenchError, match="cannot translate"):
            model.translate(points_ds.split("test").samples)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_trains_on_images_and_samples_uint8(name, images_ds, tmp_path):
    out = baselines.train(name, images_ds, out_dir=tmp_path, overrides=tiny(name, "image"), steps=2, progress=False)
    assert all(np.isfinite(v) for e in _log(out) for k, v in e.items() if k != "step")
    model = baselines.load(out, device="cpu")
    s = model.sample(6, seed=0)
    assert s.shape == (6, 1, 28, 28) and s.dtype == np.uint8
    if model.can_translate:
        r = model.translate(images_ds.split("test").samples)
        assert r.shape == (8, 1, 28, 28) and r.dtype == np.uint8
        with pytest.raises(GenbenchError, match="expects N×1×28×28"):
            model.translate(np.zeros((2, 3, 28, 28), np.uint8))


@pytest.mark.parametrize("name", ["dcgan", "vae"])
def test_three_channel_images(name, tmp_path):
    ds = make_images(channels=3, name="stacked-tiny")
    out = baselines.train(name, ds, out_dir=tmp_path, overrides=tiny(name, "image"), steps=1, progress=False)
    s = baselines.load(out).sample(4, seed=0)
    assert s.shape == (4, 3, 28, 28) and s.dtype == np.uint8


def test_image_samples_are_png_quantised(images_ds, tmp_path):
    """uint8 output must be round(clip(x, 0, 1) * 255) of the model's output, as PNG saving does."""
    import torch

    out = baselines.train("vae", images_ds, out_dir=tmp_path, overrides=tiny("vae", "image"), steps=1, progress=False)
    model = baselines.load(out)
    z = model.spec.latent(5, torch.Generator().manual_seed(0), model.config)
    with torch.no_grad():
        x = model.spec.generate(model.nets, None, z, model.config).double().numpy()
    expected = np.floor(np.clip(x, 0, 1) * 255 + 0.5)  # sigmoid output: never exactly at .5 ties
    assert np.abs(model.codec.decode(torch.as_tensor(x, dtype=torch.float32)).astype(float) - expected).max() <= 1
    assert (model.codec.decode(torch.tensor([[-0.3, 0.0, 1.0, 1.7]])) == np.array([[0, 0, 255, 255]])).all()


def test_cgan_samples_every_class_evenly(points_ds, tmp_path):
    out = baselines.train("cgan", points_ds, out_dir=tmp_path, overrides=tiny("cgan", "points"), steps=2, progress=False)
    model = baselines.load(out)
    labels = model.sample_labels(40)
    np.testing.assert_array_equal(np.bincount(labels, minlength=8), np.full(8, 5))
    assert baselines.load(out).sample(40, seed=0).shape == (40, 2)


def test_cgan_refuses_data_without_labels(tmp_path):
    from genbench.data.dataset import Dataset, Split, compute_fingerprint

    splits = {"train": Split(np.zeros((16, 2), np.float32))}
    ds = Dataset("nolabels", "points", splits, compute_fingerprint("nolabels", splits))
    with pytest.raises(GenbenchError, match="needs class labels"):
        baselines.default_config("cgan", ds)


def test_same_seed_same_checkpoint_other_seed_differs(points_ds, tmp_path):
    def weights(seed, sub):
        out = baselines.train("gan", points_ds, out_dir=tmp_path / sub, overrides=tiny("gan", "points"), steps=3,
                              seed=seed, progress=False)
        return checkpoint.read(out)[1]

    a, b, c = weights(7, "a"), weights(7, "b"), weights(8, "c")
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)
    assert not all(np.array_equal(a[k].numpy(), c[k].numpy()) for k in a if k.startswith("G."))


def test_default_configs_are_paper_and_quick_sized(points_ds, images_ds):
    full = baselines.default_config("dcgan", images_ds, "full")
    assert (full.lr_g, full.lr_d, full.beta1, full.batch_size, full.z_dist) == (2e-4, 2e-4, 0.5, 128, "uniform")
    assert baselines.default_config("unrolled-gan", points_ds, "full").unroll_steps == 5
    assert baselines.default_config("gan", points_ds).generator_loss == "non-saturating"
    assert baselines.default_config("gan", points_ds).d_steps == 1
    quick = baselines.default_config("dcgan", images_ds, "quick")
    assert quick.g_width < full.g_width and quick.steps < full.steps
    with pytest.raises(GenbenchError, match="unknown profile"):
        baselines.default_config("gan", points_ds, "huge")


def test_unknown_override_lists_valid_keys(points_ds, tmp_path):
    with pytest.raises(GenbenchError, match="unknown config key.*lr_gen.*valid keys: .*lr_g"):
        baselines.train("gan", points_ds, out_dir=tmp_path, overrides={"lr_gen": 1.0}, steps=1, progress=False)
    with pytest.raises(GenbenchError, match="generator_loss must be one of"):
        baselines.train("gan", points_ds, out_dir=tmp_path, overrides={"generator_loss": "hinge"}, steps=1,
                        progress=False)
    with pytest.raises(GenbenchError, match="batch_size' must be an integer"):
        baselines.train("gan", points_ds, out_dir=tmp_path, overrides={"batch_size": "big"}, steps=1, progress=False)


def test_cuda_requested_without_cuda_is_an_error(points_ds, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(GenbenchError, match="CUDA is not available"):
        baselines.train("gan", points_ds, out_dir=tmp_path, device="cuda", steps=1, progress=False)
    with pytest.raises(GenbenchError, match="amp=true needs a CUDA device"):
        baselines.train("gan", points_ds, out_dir=tmp_path, overrides={"amp": True}, device="cpu", steps=1,
                        progress=False)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_profile_builds(name, points_ds, images_ds):
    """'quick' and 'full' configs produce networks for both data kinds; 'full' is the larger one."""
    from baselines.training import build_networks

    spec = baselines.get_spec(name)
    for ds in (points_ds, images_ds):
        sizes = {}
        for profile in ("quick", "full"):
            cfg = baselines.default_config(name, ds, profile)
            nets = build_networks(spec, cfg, seed=0)
            sizes[profile] = sum(p.numel() for p in nets.parameters())
            assert spec.make_optimizers(nets, cfg)
        assert sizes["full"] >= sizes["quick"] > 0
