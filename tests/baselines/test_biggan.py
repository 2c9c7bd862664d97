"""BigGAN's mechanisms are on: orthogonal regulariser, spectral norm, skip-z, projection D,
2 D steps per G step, EMA, truncation; tiny training through the shared loop resumes bit-exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from baseline_fixtures import make_images

import baselines
from baselines import checkpoint
from baselines.biggan import (SPEC, BigGANConfig, ProjectionDiscriminator, Generator, orthogonal_penalty,
                              orthogonal_regulariser, truncated_normal, truncation_threshold)
from baselines.spec import Batch
from genbench.errors import GenbenchError

TINY = dict(batch_size=8, g_width=4, d_width=4, z_dim=12, shared_dim=8, log_every=1, checkpoint_every=100)


def tiny_config(**kw) -> BigGANConfig:
    return BigGANConfig(data_shape=(1, 28, 28), n_classes=10, **{k: v for k, v in {**TINY, **kw}.items()
                                                                   if k not in ("log_every", "checkpoint_every")})


def test_orthogonal_penalty_is_the_off_diagonal_gram_norm_by_hand():
    w = torch.tensor([[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]])  # 3 outputs × 2 inputs
    # W Wᵀ = [[5, 11, 2], [11, 25, 4], [2, 4, 1]]; off-diagonal squares: 2·(121 + 4 + 16) = 282
    assert float(orthogonal_penalty(w)) == 282.0
    conv = torch.arange(8.0).view(2, 1, 2, 2)  # flattened per output: rows [0..3], [4..7]: dot 0·4+1·5+2·6+3·7 = 38
    assert float(orthogonal_penalty(conv)) == 2 * 38.0**2
    assert float(orthogonal_penalty(torch.eye(4))) == 0.0  # orthogonal rows: no penalty


def test_orthogonal_regulariser_sums_g_weights_except_the_shared_embedding_times_beta():
    torch.manual_seed(0)
    g = Generator(tiny_config())
    expected = 0.0
    for name, p in g.named_parameters():
        if p.dim() >= 2 and not name.startswith("shared."):
            w = p.detach().double().reshape(p.shape[0], -1)
            gram = w @ w.T
            expected += float((gram - torch.diag(torch.diag(gram))).pow(2).sum())
    assert float(orthogonal_regulariser(g, 1e-4).detach()) == pytest.approx(1e-4 * expected, rel=1e-5)
    with torch.no_grad():
        g.shared.weight.mul_(100.0)  # not regularised
    assert float(orthogonal_regulariser(g, 1e-4).detach()) == pytest.approx(1e-4 * expected, rel=1e-5)
    # the init is orthogonal: a square or wide weight starts with no penalty at all
    assert float(orthogonal_penalty(g.blocks[0].conv2.parametrizations.weight.original.detach())) < 1e-8


def _sn_modules(module):
    return [m for m in module.modules() if hasattr(m, "parametrizations") and "weight" in m.parametrizations]


def test_every_g_and_d_weight_is_spectrally_normalised():
    torch.manual_seed(0)
    config = tiny_config()
    g, d = Generator(config), ProjectionDiscriminator(config)
    y = torch.arange(8) % 10
    for _ in range(30):  # power iterations run in training-mode forward passes
        d(g(torch.randn(8, 12), y), y)
    convs = [m for m in list(g.modules()) + list(d.modules()) if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert convs and all(m in _sn_modules(g) + _sn_modules(d) for m in convs)
    assert d.embed in _sn_modules(d)
    for m in _sn_modules(g) + _sn_modules(d):
        w = m.weight.detach()
        sigma = torch.linalg.matrix_norm(w.reshape(w.shape[0], -1), ord=2)
        original = m.parametrizations.weight.original.detach()
        assert float(sigma) == pytest.approx(1.0, abs=2e-3)
        # the effective weight is the raw one divided by its own largest singular value
        raw_sigma = torch.linalg.matrix_norm(original.reshape(original.shape[0], -1), ord=2)
        torch.testing.assert_close(w, original / raw_sigma, atol=2e-3 * float(original.abs().max()), rtol=0)


def test_each_block_gets_the_shared_embedding_and_its_own_z_chunk():
    torch.manual_seed(0)
    g = Generator(tiny_config()).eval()
    z, y = torch.randn(5, 12), torch.tensor([0, 3, 3, 7, 9])
    seen = {}
    g.linear.register_forward_hook(lambda m, args, out: seen.__setitem__("linear", args[0]))
    for i, block in enumerate(g.blocks):
        block.register_forward_hook(lambda m, args, out, i=i: seen.__setitem__(i, args[1]))
    g(z, y)
    shared = g.shared(y)
    torch.testing.assert_close(seen["linear"], z[:, 0:4], rtol=0, atol=0)
    torch.testing.assert_close(seen[0], torch.cat([shared, z[:, 4:8]], 1), rtol=0, atol=0)
    torch.testing.assert_close(seen[1], torch.cat([shared, z[:, 8:12]], 1), rtol=0, atol=0)
    # and each chunk acts: changing only the last chunk changes the image
    z2 = z.clone()
    z2[:, 8:] += 1.0
    assert not torch.allclose(g(z, y), g(z2, y))


def test_projection_discriminator_output_is_psi_plus_the_class_inner_product():
    torch.manual_seed(0)
    d = ProjectionDiscriminator(tiny_config()).eval()  # eval: no power iteration between calls
    x, y = torch.randn(6, 1, 28, 28), torch.tensor([0, 1, 2, 3, 4, 5])
    phi = d.features(x)
    expected = d.psi(phi).view(-1) + (d.embed(y) * phi).sum(1)
    torch.testing.assert_close(d(x, y), expected)
    # only ⟨embed(y), φ(x)⟩ depends on y
    y2 = (y + 1) % 10
    torch.testing.assert_close(d(x, y2) - d(x, y), ((d.embed(y2) - d.embed(y)) * phi).sum(1))


def test_two_d_steps_with_their_own_real_minibatches_per_g_step():
    config = tiny_config()
    nets = SPEC.build(config)
    opts = SPEC.make_optimizers(nets, config)
    calls = {"D": 0, "G": 0}
    for name in calls:
        real = opts[name].step
        opts[name].step = lambda *a, _real=real, _n=name, **k: (calls.__setitem__(_n, calls[_n] + 1), _real(*a, **k))[1]
    seen = []
    nets["D"].register_forward_hook(lambda m, args, out: seen.append(args[0]))
    assert SPEC.examples_per_step(config) == 16 == 2 * config.batch_size
    x = torch.randn(16, 1, 28, 28)
    gen = torch.Generator().manual_seed(0)
    losses = SPEC.train_step(nets, opts, Batch(x, torch.arange(16) % 10), gen, config)
    assert calls == {"D": 2, "G": 1} and set(losses) == {"loss_d", "loss_g", "ortho"}
    assert len(seen) == 5  # (real, fake) per D step, then fake for G
    assert torch.equal(seen[0], x[:8]) and torch.equal(seen[2], x[8:])


def test_ema_copies_g_before_ema_start_then_averages():
    config = tiny_config(ema_start=1, ema_decay=0.5)
    nets = SPEC.build(config)
    opts = SPEC.make_optimizers(nets, config)
    x, y = torch.randn(16, 1, 28, 28), torch.arange(16) % 10
    SPEC.train_step(nets, opts, Batch(x, y), torch.Generator().manual_seed(0), config)
    g_params = lambda: [p.detach().clone() for p in nets["G"].parameters()]  # noqa: E731
    first = g_params()
    assert all(torch.equal(a, b) for a, b in zip(nets["G_ema"].net.parameters(), first))  # a copy
    SPEC.train_step(nets, opts, Batch(x, y), torch.Generator().manual_seed(1), config)
    second = g_params()
    for e, a, b in zip(nets["G_ema"].net.parameters(), first, second):
        torch.testing.assert_close(e.detach(), 0.5 * a + 0.5 * b)
    assert int(nets["G_ema"].updates) == 2


def test_truncation_psi_one_is_the_plain_normal_and_small_psi_bounds_z():
    config = tiny_config()
    plain = torch.randn(2000, 12, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(SPEC.latent(2000, torch.Generator().manual_seed(5), config), plain, rtol=0, atol=0)
    assert truncation_threshold(1.0) == math.inf
    for psi in (0.5, 0.1):
        tau = truncation_threshold(psi)
        z = truncated_normal((20000,), psi, torch.Generator().manual_seed(1)).double()
        assert float(z.abs().max()) <= tau + 1e-6
        # same law as N(0,1) conditioned on |z| <= tau: compare with rejection-sampled draws (the oracle)
        ref = torch.randn(400000, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
        ref = ref[ref.abs() <= tau][:20000]
        assert float(z.var()) == pytest.approx(float(ref.var()), rel=0.05)
        assert float(z.mean()) == pytest.approx(0.0, abs=0.02 * tau)
    assert truncation_threshold(0.5) == pytest.approx(0.6744897501960817)  # the normal's quartile
    # reproducible from the generator
    torch.testing.assert_close(truncated_normal((7,), 0.3, torch.Generator().manual_seed(9)),
                               truncated_normal((7,), 0.3, torch.Generator().manual_seed(9)), rtol=0, atol=0)


@pytest.fixture(scope="module")
def digits():
    return make_images(48)


def test_tiny_training_samples_truncates_and_resumes_bit_exactly(digits, tmp_path):
    a = baselines.train("biggan", digits, out_dir=tmp_path / "a", overrides=TINY, steps=3, progress=False)
    baselines.train("biggan", digits, out_dir=tmp_path / "b", overrides=TINY, steps=1, progress=False)
    b = baselines.train("biggan", digits, out_dir=tmp_path / "b", overrides=TINY, steps=3, progress=False)
    ta, tb = checkpoint.read(a)[1], checkpoint.read(b)[1]
    assert ta.keys() == tb.keys() and "G_ema.updates" in ta
    assert [k for k in ta if not torch.equal(ta[k], tb[k])] == []
    model = baselines.load(a, device="cpu")
    s = model.sample(12, seed=1)
    assert s.shape == (12, 1, 28, 28) and s.dtype == np.uint8
    np.testing.assert_array_equal(s, model.sample(12, seed=1, batch_size=5))
    assert np.array_equal(model.sample(12, seed=1, truncation=1.0), s)
    assert not np.array_equal(model.sample(12, seed=1, truncation=0.2), s)
    for bad in (0, 0.0, -0.5, 1.5, float("nan")):
        with pytest.raises(GenbenchError, match=r"truncation ψ must be in \(0, 1\]"):
            model.sample(4, truncation=bad)


def test_truncation_out_of_range_in_the_config_is_a_one_line_error(digits, tmp_path):
    with pytest.raises(GenbenchError, match="truncation_psi must be in"):
        baselines.train("biggan", digits, out_dir=tmp_path, overrides={**TINY, "truncation_psi": 0}, steps=1,
                        progress=False)
    with pytest.raises(GenbenchError, match="truncation ψ must be in"):
        truncated_normal((3,), 1.2, torch.Generator())
