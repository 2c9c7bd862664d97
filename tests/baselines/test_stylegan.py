"""StyleGAN's mechanisms are on: mapping, AdaIN, noise inputs, style mixing, truncation, R1, EMA, resume."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from baseline_fixtures import make_images

import baselines
from baselines import checkpoint
from baselines import stylegan as S
from baselines.spec import Batch
from genbench.errors import GenbenchError

TINY = dict(channels=8, z_dim=8, w_dim=8, mapping_layers=2, batch_size=8, log_every=1, checkpoint_every=100)


def _config(**extra) -> S.StyleGANConfig:
    return S.StyleGANConfig(**{**TINY, **extra})


def _nets(config):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return S.SPEC.build(config)


def test_the_generator_is_a_mapping_network_and_a_synthesis_network_from_a_learned_constant():
    config = _config(mapping_layers=3)
    g = _nets(config)["G"]
    assert len(g.mapping.layers) == 3 and all(layer.lr_mul == 0.01 for layer in g.mapping.layers)
    assert g.synthesis.const.shape == (1, 8, 4, 4) and g.synthesis.const.requires_grad
    assert g.synthesis.n_layers == 8  # two per resolution: 4, 8, 16, 32
    # the mapping's learning rate is 100× smaller: stored weight N(0, 1/0.01²), used × 0.01·√2/√fan_in
    layer = g.mapping.layers[0]
    assert torch.allclose(layer.effective_weight(), layer.weight * 0.01 * (2 / 8) ** 0.5)


def test_adain_sets_each_channels_mean_and_std_from_the_style():
    adain = S.AdaIN(4, 6)
    x, w = torch.randn(3, 4, 5, 5) * 3 + 2, torch.randn(3, 6)
    y = adain(x, w)
    style = adain.affine(w).view(3, 2, 4)
    assert torch.allclose(y.mean(dim=(2, 3)), style[:, 1], atol=1e-5)  # bias yb
    assert torch.allclose(y.std(dim=(2, 3), unbiased=False), (style[:, 0] + 1).abs(), atol=1e-4)  # scale 1 + ys


def test_noise_inputs_enter_every_layer_scaled_per_channel():
    config = _config()
    nets = _nets(config)
    g = nets["G"].synthesis
    ws = torch.randn(2, g.n_layers, 8)
    noise = S.SPEC.draw_noise(2, torch.Generator().manual_seed(0), config)
    assert [tuple(n.shape) for n in noise] == [(2, 1, r, r) for r in (4, 4, 8, 8, 16, 16, 32, 32)]
    with torch.no_grad():
        base = g(ws, noise)
        assert torch.equal(base, g(ws, [n * 5 for n in noise]))  # the learned scales start at zero
        g.layers[5].noise_weight.fill_(0.5)
        changed = [n.clone() for n in noise]
        changed[5] += 1.0
        assert not torch.equal(g(ws, noise), g(ws, changed))


def test_style_mixing_uses_w1_before_the_crossover_layer_and_w2_after():
    w1, w2 = torch.randn(3, 5), torch.randn(3, 5)
    mixed = S.mix_styles(w1, w2, 8, 3)
    assert all(torch.equal(mixed[:, i], w1) for i in range(3)) and all(torch.equal(mixed[:, i], w2) for i in range(3, 8))
    config = _config(style_mixing_prob=1.0)
    g = _nets(config)["G"]
    with torch.no_grad():
        ws = S.SPEC.styles_for_training(g, 4, torch.Generator().manual_seed(7), config)
        # replay the same draws: z1, the mixing coin, the crossover layer, z2
        gen = torch.Generator().manual_seed(7)
        z1 = torch.randn(4, 8, generator=gen)
        torch.rand((), generator=gen)
        cutoff = int(torch.randint(1, 8, (), generator=gen))
        z2 = torch.randn(4, 8, generator=gen)
        e1, e2 = g.mapping(z1), g.mapping(z2)
    assert 1 <= cutoff < 8
    assert torch.allclose(ws[:, :cutoff], e1.unsqueeze(1).expand(-1, cutoff, -1))
    assert torch.allclose(ws[:, cutoff:], e2.unsqueeze(1).expand(-1, 8 - cutoff, -1))


def test_style_mixing_happens_with_its_probability_at_uniform_crossovers():
    config = _config()  # the paper's 0.9
    g = _nets(config)["G"]
    cutoffs = []
    with torch.no_grad():
        for seed in range(400):
            ws = S.SPEC.styles_for_training(g, 2, torch.Generator().manual_seed(seed), config)
            same = [bool(torch.equal(ws[:, i], ws[:, 0])) for i in range(8)]
            cutoffs.append(same.index(False) if False in same else 8)
    mixed = [c for c in cutoffs if c < 8]
    assert 0.85 < len(mixed) / 400 < 0.95
    assert set(mixed) == set(range(1, 8))  # every crossover layer 1 … 7 occurs
    assert max(np.bincount(mixed)[1:]) < 2.2 * min(np.bincount(mixed)[1:])
    none = _config(style_mixing_prob=0.0)
    ws = S.SPEC.styles_for_training(_nets(none)["G"], 2, torch.Generator().manual_seed(0), none)
    assert all(torch.equal(ws[:, i], ws[:, 0]) for i in range(8))


def test_truncation_is_the_identity_at_psi_1_and_the_mean_w_as_psi_goes_to_0():
    config = _config()
    nets = _nets(config)
    with torch.no_grad():
        nets["G_ema"].w_avg.copy_(torch.randn(8))
        w = torch.randn(5, 8)
        assert torch.equal(S.truncate(w, nets["G_ema"].w_avg, 1.0), w)
        assert torch.allclose(S.truncate(w, nets["G_ema"].w_avg, 1e-7), nets["G_ema"].w_avg.expand(5, -1), atol=1e-5)
        assert torch.allclose(S.truncate(w, nets["G_ema"].w_avg, 0.5), (w + nets["G_ema"].w_avg) / 2, atol=1e-6)
        z = S.SPEC.latent(4, torch.Generator().manual_seed(1), config)
        plain = S.SPEC.generate(nets, None, z, config)
        assert torch.equal(S.SPEC.generate(nets, None, z, dataclasses.replace(config, truncation_psi=1.0)), plain)
        # ψ → 0 with the same noise: every sample is the image of w̄
        _, noise = S.SPEC.split_latent(z, config)
        centre = S.SPEC.synthesis(nets, nets["G_ema"].w_avg.expand(4, -1), noise, config)
        tiny = S.SPEC.generate(nets, None, z, dataclasses.replace(config, truncation_psi=1e-7))
        assert torch.allclose(tiny, centre, atol=1e-4) and not torch.allclose(plain, centre, atol=1e-4)
    with pytest.raises(ValueError, match="truncation_psi"):
        _config(truncation_psi=1.5)


def test_r1_penalty_matches_its_formula():
    config = _config()
    d = _nets(config)["D"]
    real, fake = torch.randn(8, 1, 32, 32), torch.randn(8, 1, 32, 32)
    parts = S.SPEC.d_loss(d, real, fake, config)
    x = real.clone().requires_grad_(True)
    out = d(x)
    (grad,) = torch.autograd.grad(out.sum(), x)
    r1 = 5.0 * grad.pow(2).flatten(1).sum(dim=1).mean()
    assert torch.allclose(parts["r1"], r1, rtol=1e-4)
    with torch.no_grad():
        logistic = torch.nn.functional.softplus(d(fake)).mean() + torch.nn.functional.softplus(-d(real)).mean()
    assert torch.allclose(parts["loss"], logistic + r1, rtol=1e-4)


def test_ema_follows_the_half_life_formula_and_w_avg_tracks_the_mapping():
    config = _config()
    nets = _nets(config)
    opts = S.SPEC.make_optimizers(nets, config)
    before = {k: v.clone() for k, v in nets["G_ema"].named_parameters()}
    S.SPEC.train_step(nets, opts, Batch(torch.rand(8, 1, 28, 28) * 2 - 1), torch.Generator().manual_seed(0), config)
    beta = 0.5 ** (8 / 10_000)
    g = dict(nets["G"].named_parameters())
    moved = [k for k, v in g.items() if not torch.equal(v, before[k])]
    assert moved
    for k, v in nets["G_ema"].named_parameters():
        assert torch.allclose(v, beta * before[k] + (1 - beta) * g[k], atol=1e-7)
        if k in moved:
            assert not torch.equal(v, g[k])
    assert torch.count_nonzero(nets["G"].w_avg) > 0 and torch.equal(nets["G"].w_avg, nets["G_ema"].w_avg)


def test_tiny_stylegan_trains_through_the_shared_loop_resumes_bit_exactly_and_truncates(tmp_path):
    ds = make_images()
    a = baselines.train("stylegan", ds, out_dir=tmp_path / "a", overrides=TINY, steps=4, progress=False)
    baselines.train("stylegan", ds, out_dir=tmp_path / "b", overrides=TINY, steps=2, progress=False)
    b = baselines.train("stylegan", ds, out_dir=tmp_path / "b", overrides=TINY, steps=4, progress=False)
    ta, tb = checkpoint.read(a)[1], checkpoint.read(b)[1]
    assert ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta)
    model = baselines.load(a)
    s = model.sample(6, seed=3)
    assert s.shape == (6, 1, 28, 28) and s.dtype == np.uint8
    assert np.array_equal(s, model.sample(6, seed=3, batch_size=4))  # noise is part of the latent code
    assert not np.array_equal(s, model.sample(6, seed=3, truncation=0.2))
    with pytest.raises(GenbenchError, match="truncation"):
        model.sample(2, truncation=1.5)


def test_style_mixing_bands_follow_the_papers_resolutions():
    """Coarse 4²–8², middle 16²–32², fine 64² up (Karras et al. 2019 §3.1); at 32×32 the top
    resolution is the fine band, so middle is 16² alone."""
    spec = S.StyleGANSpec()
    assert spec.style_bands(_config()) == {"coarse": [0, 1, 2, 3], "middle": [4, 5], "fine": [6, 7]}
    assert spec.style_bands(_config(data_shape=(1, 64, 64))) == {"coarse": [0, 1, 2, 3], "middle": [4, 5, 6, 7],
                                                                "fine": [8, 9]}
