"""Parzen's σ grid must stay within the distance-block budget (toy2d peaked at 3.5 GB RSS)."""

import numpy as np
import torch
from scipy.special import logsumexp

from genbench.metrics import parzen


def test_sigma_grid_blocks_stay_within_the_budget(monkeypatch):
    rng = np.random.default_rng(0)
    samples, test = rng.normal(size=(100, 2)), rng.normal(size=(50, 2))
    sigmas = np.logspace(-1, 0, 10)
    biggest = []
    real_exp = torch.exp

    def exp(t, *a, **kw):
        biggest.append(t.numel())
        return real_exp(t, *a, **kw)

    monkeypatch.setattr(parzen, "_BLOCK_ELEMENTS", 1000)
    monkeypatch.setattr(torch, "exp", exp)
    got = parzen.parzen_log_likelihoods(torch.as_tensor(samples), torch.as_tensor(test), sigmas, progress=False)
    monkeypatch.undo()
    assert max(biggest) <= 1000  # one block for the whole grid, not one block per σ

    d2 = ((test[:, None, :] - samples[None, :, :]) ** 2).sum(-1)  # oracle: direct log-mean-exp
    for i, s in enumerate(sigmas):
        want = logsumexp(-d2 / (2 * s * s), axis=1) - np.log(len(samples)) - 2 * np.log(s * np.sqrt(2 * np.pi))
        np.testing.assert_allclose(got[i].numpy(), want, rtol=1e-10)
