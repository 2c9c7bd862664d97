"""PacGAN packing (``pack``) and PacGAN's N(0, 0.02²) MLP init (``init_std``) as options of ``gan``.

pack = 1 and init_std = 0 are the defaults and leave every model bit-identical (that is also what
test_model_contract checks against its recorded reference); these tests cover the new behaviour.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from baseline_fixtures import tiny

import baselines
from genbench.errors import GenbenchError
from genbench.overrides import apply_overrides

PACKING = ["gan", "unrolled-gan", "minibatch-gan"]


def _config(name, ds, **extra):
    return apply_overrides(baselines.default_config(name, ds), {**tiny(name, ds.kind), **extra})


def test_packed_concatenates_consecutive_samples_along_features():
    spec = baselines.get_spec("gan")
    cfg = type("C", (), {"pack": 3})()
    x = torch.arange(12.0).view(6, 2)  # sample i = (2i, 2i + 1)
    got = spec.packed(x, cfg)
    # hand-built: group 0 = samples 0, 1, 2; group 1 = samples 3, 4, 5
    want = torch.tensor([[0.0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
    assert torch.equal(got, want)
    img = torch.randn(4, 1, 8, 8)
    packed = spec.packed(img, type("C", (), {"pack": 2})())
    assert packed.shape == (2, 2, 8, 8)
    assert torch.equal(packed[1, 0], img[2, 0]) and torch.equal(packed[1, 1], img[3, 0])
    with pytest.raises(ValueError, match="pack=4 does not divide the minibatch of 6"):
        spec.packed(x, type("C", (), {"pack": 4})())


def test_pack_one_is_the_identity():
    spec = baselines.get_spec("gan")
    x = torch.randn(5, 2)
    assert spec.packed(x, type("C", (), {"pack": 1})()) is x


@pytest.mark.parametrize("name", PACKING)
def test_packed_discriminator_sees_pack_samples(name, points_ds):
    spec = baselines.get_spec(name)
    cfg = _config(name, points_ds, pack=2)
    nets = spec.build(cfg)
    first = next(m for m in nets["D"].modules() if isinstance(m, torch.nn.Linear))
    assert first.in_features == 4  # two 2-D points
    assert spec.examples_per_step(cfg) == cfg.batch_size * 2 * cfg.d_steps
    x = torch.randn(2 * cfg.batch_size, 2)
    assert spec.discriminate(nets, x, None, cfg).shape == (cfg.batch_size,)


@pytest.mark.parametrize("name", PACKING)
def test_packed_models_train_and_sample(name, points_ds, tmp_path):
    out = baselines.train(name, points_ds, out_dir=tmp_path, overrides={**tiny(name, "points"), "pack": 2},
                          steps=2, progress=False)
    model = baselines.load(out, device="cpu")
    s = model.sample(10, seed=0)  # packing changes D only: G still draws one sample per z
    assert s.shape == (10, 2) and np.all(np.isfinite(s))


def test_packed_image_discriminator_stacks_channels(images_ds):
    spec = baselines.get_spec("gan")
    cfg = _config("gan", images_ds, pack=2)
    nets = spec.build(cfg)
    x = torch.randn(2 * cfg.batch_size, *cfg.data_shape)
    assert spec.discriminate(nets, x, None, cfg).shape == (cfg.batch_size,)


@pytest.mark.parametrize("name", ["cgan", "dcgan"])
def test_models_that_build_their_own_nets_refuse_pack_and_init_std(name, points_ds, tmp_path):
    for extra in ({"pack": 2}, {"init_std": 0.02}):
        with pytest.raises(GenbenchError, match=f"model '{name}' does not support pack or init_std"):
            baselines.train(name, points_ds, out_dir=tmp_path / str(len(extra)), overrides={**tiny(name, "points"), **extra},
                            steps=1, progress=False)


def test_invalid_pack_and_init_std_are_errors(points_ds):
    with pytest.raises((GenbenchError, ValueError), match="pack must be >= 1"):
        _config("gan", points_ds, pack=0)
    with pytest.raises((GenbenchError, ValueError), match="init_std must be >= 0"):
        _config("gan", points_ds, init_std=-1.0)


@pytest.mark.parametrize("name", PACKING)
def test_init_std_draws_linear_weights_from_a_normal(name, points_ds):
    spec = baselines.get_spec(name)
    cfg = _config(name, points_ds, g_hidden=(400, 400), d_hidden=(200,), init_std=0.02)
    torch.manual_seed(0)
    nets = spec.build(cfg)
    ws = [m.weight for k in ("G", "D") for m in nets[k].modules() if isinstance(m, torch.nn.Linear)]
    biases = [m.bias for k in ("G", "D") for m in nets[k].modules() if isinstance(m, torch.nn.Linear)]
    big = torch.cat([w.detach().flatten() for w in ws])
    assert big.numel() > 100_000
    assert abs(float(big.std()) - 0.02) < 0.001 and abs(float(big.mean())) < 0.001
    assert all(float(b.detach().abs().max()) == 0.0 for b in biases)


def test_default_init_is_unchanged_by_the_new_field(points_ds):
    """init_std = 0 leaves PyTorch's default init: same seed → the same tensors as before the field."""
    spec = baselines.get_spec("gan")
    cfg = _config("gan", points_ds)
    assert cfg.pack == 1 and cfg.init_std == 0.0
    torch.manual_seed(0)
    a = spec.build(cfg)
    torch.manual_seed(0)
    b = spec.build(apply_overrides(cfg, {"init_std": 0.0, "pack": 1}))
    for (ka, ta), (kb, tb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(ta, tb)
    # PyTorch's default Linear init is U(-1/sqrt(fan_in), 1/sqrt(fan_in)): not N(0, 0.02²)
    w = next(m for m in a["G"].modules() if isinstance(m, torch.nn.Linear)).weight
    assert float(w.detach().abs().max()) <= 1 / np.sqrt(w.shape[1]) + 1e-7
