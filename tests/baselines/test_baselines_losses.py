"""The papers' formulas against independent oracles: closed forms, hand computations, torch's own Adam."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from baseline_fixtures import tiny

import baselines
from baselines.losses import discriminator_loss, gaussian_kl, generator_loss
from baselines.minibatch_gan import MinibatchDiscrimination
from baselines.nets import Maxout
from baselines.unrolled_gan import adam_unrolled_step


def _grad_wrt_logit(kind: str, logit: float) -> float:
    l = torch.tensor([logit], dtype=torch.float64, requires_grad=True)
    generator_loss(l, kind).backward()
    return float(l.grad)


@pytest.mark.parametrize("logit", [-12.0, -8.0, -5.0])
def test_saturating_gradient_vanishes_when_d_rejects_fakes(logit):
    """Goodfellow et al. §3: at D(G(z)) ≈ 0, d/dl log(1 − σ(l)) = −σ(l) → 0, d/dl −log σ(l) = −(1 − σ(l)) → −1."""
    d = 1.0 / (1.0 + math.exp(-logit))  # D(G(z)), e.g. 6e-6 at l = −12
    sat, nonsat = _grad_wrt_logit("saturating", logit), _grad_wrt_logit("non-saturating", logit)
    assert sat == pytest.approx(-d, rel=1e-9) and abs(sat) < 7e-3
    assert nonsat == pytest.approx(-(1.0 - d), rel=1e-9) and abs(nonsat) > 0.99


def test_generator_losses_are_the_papers_objectives():
    l = torch.tensor([-2.0, 0.0, 3.0], dtype=torch.float64)
    d = torch.sigmoid(l)
    torch.testing.assert_close(generator_loss(l, "saturating"), torch.log(1 - d).mean())
    torch.testing.assert_close(generator_loss(l, "non-saturating"), -torch.log(d).mean())
    real, fake = torch.tensor([1.5, -0.5], dtype=torch.float64), torch.tensor([0.2, -3.0], dtype=torch.float64)
    expected = -(torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean())
    torch.testing.assert_close(discriminator_loss(real, fake), expected)
    with pytest.raises(ValueError, match="generator_loss must be one of"):
        generator_loss(l, "wasserstein")


def test_gaussian_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(5, 3, generator=g, dtype=torch.float64)
    logvar = torch.randn(5, 3, generator=g, dtype=torch.float64)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    torch.testing.assert_close(gaussian_kl(mu, logvar), torch.distributions.kl_divergence(q, p).sum(1))
    # Hand cases: KL(N(0,1)‖N(0,1)) = 0; KL(N(1,1)‖N(0,1)) = 1/2 per dimension.
    assert float(gaussian_kl(torch.zeros(1, 4), torch.zeros(1, 4))) == 0.0
    assert float(gaussian_kl(torch.ones(1, 2), torch.zeros(1, 2))) == pytest.approx(1.0)


def test_minibatch_discrimination_against_a_hand_computation():
    layer = MinibatchDiscrimination(in_features=2, n_kernels=2, kernel_dim=2)
    with torch.no_grad():
        layer.T.copy_(torch.tensor([[1.0, 0.0, 0.5, -1.0], [0.0, 2.0, 1.0, 0.0]]))
    f = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    out = layer(f).detach().numpy()
    # M_i = f_i T reshaped to 2 kernels × 2 dims, worked out by hand:
    # x1: kernel0 (1, 0), kernel1 (0.5, -1);  x2: (0, 2), (1, 0);  x3: (1, 2), (1.5, -1)
    M = {1: [(1, 0), (0.5, -1)], 2: [(0, 2), (1, 0)], 3: [(1, 2), (1.5, -1)]}
    l1 = lambda a, b: abs(a[0] - b[0]) + abs(a[1] - b[1])  # noqa: E731
    expected = np.zeros((3, 2))
    for i in (1, 2, 3):
        for b in (0, 1):
            expected[i - 1, b] = sum(math.exp(-l1(M[i][b], M[j][b])) for j in (1, 2, 3) if j != i)
    # e.g. x1, kernel 0: exp(−3) + exp(−2)
    assert expected[0, 0] == pytest.approx(math.exp(-3) + math.exp(-2))
    np.testing.assert_allclose(out[:, :2], f.numpy())
    np.testing.assert_allclose(out[:, 2:], expected, rtol=1e-6)


def test_maxout_takes_the_max_over_pieces():
    layer = Maxout(1, 2, pieces=3)
    with torch.no_grad():
        layer.linear.weight.copy_(torch.tensor([[1.0], [-1.0], [2.0], [0.0], [3.0], [-2.0]]))
        layer.linear.bias.zero_()
    out = layer(torch.tensor([[1.0], [-1.0]]))
    np.testing.assert_allclose(out.detach().numpy(), [[2.0, 3.0], [1.0, 2.0]])


def test_unrolled_adam_step_matches_torch_adam():
    """The differentiable update used for unrolling is exactly torch.optim.Adam's (oracle)."""
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(4, 3, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=1e-2, betas=(0.5, 0.999))
    grads = [torch.randn(4, 3, dtype=torch.float64) for _ in range(3)]
    p.grad = grads[0]
    opt.step()  # some optimizer state to start from
    st = opt.state[p]
    state = {"w": {"step": float(st["step"]), "m": st["exp_avg"].clone(), "v": st["exp_avg_sq"].clone()}}
    fast = {"w": p.detach().clone()}
    for g in grads[1:]:
        fast = adam_unrolled_step(fast, {"w": g}, state, opt.param_groups[0], 0)
        p.grad = g
        opt.step()
    torch.testing.assert_close(fast["w"], p.detach(), rtol=0, atol=1e-12)


def test_unrolling_changes_the_generator_gradient(points_ds):
    """With K > 0 the generator's gradient includes the path through D's updates (Metz 2017, eq. 12)."""
    from baselines.spec import Batch
    from baselines.training import build_networks, step_generator

    spec = baselines.get_spec("unrolled-gan")
    grads = {}
    for k in (0, 3):
        cfg = baselines.default_config("unrolled-gan", points_ds)
        cfg = type(cfg)(**{**cfg.__dict__, **tiny("unrolled-gan", "points"), "unroll_steps": k})
        nets = build_networks(spec, cfg, seed=0)
        opts = spec.make_optimizers(nets, cfg)
        x = torch.as_tensor(points_ds.split("train").samples[:8])
        spec.discriminator_step(nets, opts, x, None, step_generator(0, 0, torch.device("cpu")), cfg)
        opts["G"].step = lambda: None  # keep the gradient, skip the update
        spec.generator_step(nets, opts, Batch(x, None), step_generator(0, 1, torch.device("cpu")), cfg)
        grads[k] = torch.cat([p.grad.flatten() for p in nets["G"].parameters()])
    assert torch.isfinite(grads[3]).all()
    assert not torch.allclose(grads[0], grads[3])


@pytest.mark.slow
def test_vae_elbo_and_iwae_bound_a_quadrature_log_likelihood(points_ds, tmp_path):
    """For a 2-D latent, log p(x) = log ∫ p(x|z) p(z) dz by quadrature is an independent oracle:
    ELBO ≤ IWAE_k ≤ log p(x) (approximately, for the estimates) and IWAE_5000 is close to it."""
    from baselines.vae import elbo, iwae_log_likelihood

    o = {**tiny("vae", "points"), "z_dim": 2, "batch_size": 32}
    out = baselines.train("vae", points_ds, out_dir=tmp_path, overrides=o, steps=60, progress=False)
    model = baselines.load(out)
    x = points_ds.split("test").samples[:3]
    grid = torch.linspace(-7, 7, 561, dtype=torch.float64)
    zz = torch.cartesian_prod(grid, grid)
    dz = float(grid[1] - grid[0]) ** 2
    with torch.no_grad():
        out_z = model.nets["Dec"](zz.float()).double()
    mean, logvar = out_z[:, :2], out_z[:, 2:]
    log_prior = -0.5 * (2 * math.log(2 * math.pi) + (zz ** 2).sum(1))
    std = np.asarray(model.codec.std)
    exact = []
    for xi in model.encode_images(x).double():
        log_px_z = (-0.5 * (math.log(2 * math.pi) + logvar + (xi - mean) ** 2 / logvar.exp())).sum(1)
        exact.append(float(torch.logsumexp(log_px_z + log_prior, 0) + math.log(dz)) - np.log(std).sum())
    exact = np.array(exact)
    e = elbo(model, x)
    iw = iwae_log_likelihood(model, x, k=5000)
    assert np.all(e <= exact + 1e-3)
    np.testing.assert_allclose(iw, exact, atol=0.05)
