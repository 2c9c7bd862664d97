"""ProGAN's mechanisms are on: fade-in, minibatch stddev, equalised lr, pixel norm, drift term, EMA, resume."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from baseline_fixtures import make_images

import baselines
from baselines import checkpoint
from baselines import progan as P
from baselines import scaled_layers as L
from baselines.spec import Batch

TINY = dict(channels=8, z_dim=8, fade_images=32, stabilise_images=32, batch_size=8, log_every=1, checkpoint_every=100)


def _config(**extra) -> P.ProGANConfig:
    return P.ProGANConfig(**{**TINY, **extra})


def _nets(config):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return P.SPEC.build(config)


def test_the_schedule_stabilises_4x4_then_fades_in_each_resolution_linearly():
    config = _config()  # 4 steps per phase (32 images / 8 per step); 32×32 → stages 0 … 3
    got = [P.schedule(s, config) for s in range(30)]
    assert got[:4] == [(0, 1.0)] * 4  # 4×4 stabilises first
    assert got[4:8] == [(1, 0.0), (1, 0.25), (1, 0.5), (1, 0.75)]  # α ramps linearly over the fade
    assert got[8:12] == [(1, 1.0)] * 4  # then the new resolution stabilises
    assert [a for s, a in got[12:16]] == [0.0, 0.25, 0.5, 0.75] and {s for s, a in got[12:16]} == {2}
    assert got[20:24] == [(3, 0.0), (3, 0.25), (3, 0.5), (3, 0.75)]
    assert got[24:] == [(3, 1.0)] * 6  # the last resolution trains on
    paper = P.ProGANConfig()  # 800k fade images at 16 per step: α grows by 16/800k per step
    start = 3 * 800_000 // 16  # after 4² stabilise, 8² fade, 8² stabilise: the 16² fade starts
    assert P.schedule(start, paper) == (2, 0.0)
    assert P.schedule(start + 100, paper)[1] == pytest.approx(100 * 16 / 800_000)


def test_fade_in_blends_the_new_resolution_with_the_upsampled_previous_one():
    config = _config()
    g = _nets(config)["G"]
    z = torch.randn(3, config.z_dim)
    with torch.no_grad():
        old = L.upsample(g(z, 1, 1.0))  # the 8×8 output, upsampled to 16×16
        new = g(z, 2, 1.0)
        for alpha in (0.0, 0.3, 1.0):
            assert torch.allclose(g(z, 2, alpha), (1 - alpha) * old + alpha * new, atol=1e-6)
        d = _nets(config)["D"]
        x = torch.randn(8, 1, 16, 16)
        # α = 0: D scores the 16×16 image exactly as the 8×8 D scores its downsampled version
        assert torch.allclose(d(x, 2, 0.0), d(L.downsample(x), 1, 1.0), atol=1e-5)
    real = torch.randn(8, 1, 32, 32)
    mid = P.reals_at(real, 2, 0.25, 32)
    x16 = F.avg_pool2d(real, 2)
    assert torch.allclose(mid, 0.75 * F.interpolate(F.avg_pool2d(x16, 2), scale_factor=2) + 0.25 * x16, atol=1e-6)


def test_minibatch_stddev_adds_one_map_equal_to_the_mean_std():
    x = torch.randn(8, 5, 4, 4, dtype=torch.float64)
    whole = L.minibatch_stddev(x, group_size=8)
    assert whole.shape == (8, 6, 4, 4) and torch.equal(whole[:, :5], x)
    expected = torch.sqrt(x.var(dim=0, unbiased=False) + 1e-8).mean()
    assert torch.allclose(whole[:, 5], expected.expand(8, 4, 4))
    grouped = L.minibatch_stddev(x, group_size=4)  # official grouping: sample i in group i mod 2
    for g in range(2):
        members = x[g::2]
        assert torch.allclose(grouped[g::2, 5], torch.sqrt(members.var(dim=0, unbiased=False) + 1e-8).mean().expand(4, 4, 4))
    d = P.Discriminator(_config())
    assert d.blocks[0].conv.weight.shape[1] == P.channels_at(4, _config()) + 1  # D's last block reads C + 1 maps


def test_equalised_learning_rate_scales_the_stored_n01_weights_at_run_time():
    torch.manual_seed(0)
    conv = L.EqualizedConv2d(64, 32, 3)
    assert abs(conv.weight.std().item() - 1.0) < 0.02 and abs(conv.weight.mean().item()) < 0.02  # stored N(0, 1)
    x = torch.randn(2, 64, 5, 5)
    assert torch.allclose(conv(x), F.conv2d(x, conv.weight * math.sqrt(2 / (64 * 9)), conv.bias, padding=1), atol=1e-5)
    dense = L.EqualizedLinear(100, 10)
    v = torch.randn(4, 100)
    assert torch.allclose(dense(v), v @ (dense.weight * math.sqrt(2 / 100)).T + dense.bias, atol=1e-5)
    with torch.no_grad():
        conv.weight.mul_(2.0)  # a change to the stored weight is scaled at run time, not at init
    assert torch.allclose(conv.effective_weight(), conv.weight * math.sqrt(2 / (64 * 9)))


def test_pixel_norm_gives_unit_rms_features_per_pixel():
    y = L.pixel_norm(torch.randn(3, 7, 4, 4) * 5)
    assert torch.allclose(y.pow(2).mean(dim=1), torch.ones(3, 4, 4), atol=1e-5)


def test_the_critic_loss_is_wgan_gp_plus_the_drift_term():
    config = _config()
    nets = _nets(config)
    real, fake = torch.randn(8, 1, 8, 8), torch.randn(8, 1, 8, 8)
    parts = P.SPEC.d_loss(nets["D"], real, fake, 1, 1.0, torch.Generator().manual_seed(3), config)
    no_drift = P.SPEC.d_loss(nets["D"], real, fake, 1, 1.0, torch.Generator().manual_seed(3),
                             dataclasses.replace(config, drift_epsilon=0.0))
    with torch.no_grad():
        real_out, fake_out = nets["D"](real, 1, 1.0), nets["D"](fake, 1, 1.0)
    drift = 0.001 * real_out.pow(2).mean()
    assert torch.allclose(parts["loss"] - no_drift["loss"], drift, atol=1e-6)
    assert torch.allclose(parts["drift"], drift)
    # the gradient penalty, recomputed from its formula on the same interpolates
    mix = torch.rand(8, 1, 1, 1, generator=torch.Generator().manual_seed(3))
    xm = (real + mix * (fake - real)).requires_grad_(True)
    (grad,) = torch.autograd.grad(nets["D"](xm, 1, 1.0).sum(), xm)
    gp = 10.0 * (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
    assert torch.allclose(parts["gp"], gp, rtol=1e-4)
    assert torch.allclose(parts["loss"], fake_out.mean() - real_out.mean() + gp + drift, rtol=1e-4, atol=1e-5)


def test_ema_generator_follows_its_formula_and_differs_from_g():
    config = _config()
    nets = _nets(config)
    opts = P.SPEC.make_optimizers(nets, config)
    before = {k: v.clone() for k, v in nets["G_ema"].state_dict().items()}
    P.SPEC.train_step(nets, opts, Batch(torch.rand(8, 1, 28, 28) * 2 - 1), torch.Generator().manual_seed(0), config)
    g, ema = nets["G"].state_dict(), nets["G_ema"].state_dict()
    changed = [k for k in g if not torch.equal(g[k], before[k])]
    assert changed  # G moved …
    for k in changed:
        assert not torch.equal(ema[k], g[k])  # … and the EMA lags behind it …
        assert torch.allclose(ema[k], 0.999 * before[k] + 0.001 * g[k], atol=1e-7)  # … by the formula
    assert nets["clock"].value() == 1


def test_adam_moments_reset_when_a_fade_starts():
    config = _config()
    nets = _nets(config)
    opts = P.SPEC.make_optimizers(nets, config)
    x = Batch(torch.rand(8, 1, 28, 28) * 2 - 1)
    for s in range(4):
        P.SPEC.train_step(nets, opts, x, torch.Generator().manual_seed(s), config)
    assert all(int(st["step"]) == 4 for st in opts["G"].state.values())
    P.SPEC.train_step(nets, opts, x, torch.Generator().manual_seed(4), config)  # step 4 starts the 8×8 fade
    assert all(int(st["step"]) == 1 for st in opts["G"].state.values())


def test_tiny_progan_trains_through_the_shared_loop_resumes_bit_exactly_and_samples(tmp_path):
    ds = make_images()
    o = {**TINY, "fade_images": 16, "stabilise_images": 16}  # 2 steps per phase: the 11th fades in 32×32
    a = baselines.train("progan", ds, out_dir=tmp_path / "a", overrides=o, steps=11, progress=False)
    baselines.train("progan", ds, out_dir=tmp_path / "b", overrides=o, steps=7, progress=False)  # stops mid-fade
    b = baselines.train("progan", ds, out_dir=tmp_path / "b", overrides=o, steps=11, progress=False)
    ta, tb = checkpoint.read(a)[1], checkpoint.read(b)[1]
    assert ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta)
    assert int(ta["clock.step"]) == 11
    log = [line for line in (a / checkpoint.LOG_FILE).read_text().splitlines()]
    assert '"stage": 3.0' in log[-1]
    model = baselines.load(a)
    s = model.sample(6, seed=2)
    assert s.shape == (6, 1, 28, 28) and s.dtype == np.uint8
    assert np.array_equal(s, model.sample(6, seed=2, batch_size=4))
