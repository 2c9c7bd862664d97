"""Parzen-window (Gaussian KDE) log-likelihood of test data under model samples (Goodfellow et al. 2014).

A poor metric in high dimensions (Theis et al. 2016) but the one the GAN paper's tables use, so it
is reproduced exactly: per test point x, log (1/M) Σⱼ N(x; μⱼ, σ²I), in nats.

Squared distances come from ‖x‖² + ‖μ‖² − 2 x·μ (a float64 matrix product) in blocks of test
rows × sample columns, and the log-mean-exp runs across sample blocks with a running row maximum,
so memory is bounded by one block — never an N×M×D tensor — and large d cannot underflow.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from tqdm.auto import tqdm

from genbench.metrics import _inputs
from genbench.metrics.result import MetricResult

# Elements of one float64 distance block (32 MiB).
_BLOCK_ELEMENTS = 1 << 22


def default_sigmas() -> np.ndarray:
    """The grid the GAN paper's code searches: 10 values log-spaced from 0.1 to 1."""
    return np.logspace(-1, 0, 10)


def _pairs(samples, test, samples_name: str, test_name: str, device):
    s = _inputs.flat_samples(samples, samples_name, device=device, min_samples=1)
    t = _inputs.flat_samples(test, test_name, device=s.device, min_samples=1)
    if s.shape[1] != t.shape[1]:
        raise ValueError(
            f"{samples_name} and {test_name}: dimensions differ ({s.shape[1]} vs {t.shape[1]} values per sample)"
        )
    return s, t


def parzen_log_likelihoods(samples: torch.Tensor, test: torch.Tensor, sigmas, *, batch_size: int | None = None,
                           progress: bool = True) -> torch.Tensor:
    """Per-test-point log-likelihood for every σ in ``sigmas``: tensor (len(sigmas), n_test), float64.

    Distances do not depend on σ, so one pass over the data serves the whole grid. Data and σ are
    divided by a common power of two s (exact, so the kernel values are bit for bit those of the
    unscaled data), so squared distances of huge or tiny values stay inside float64; a
    log-likelihood that is still beyond float64 is a ``ValueError``, never NaN.
    """
    scale = _inputs.power_of_two_scale(samples, test)
    samples, test = samples / scale, test / scale
    sigmas = torch.as_tensor(np.asarray(sigmas, dtype=np.float64), device=samples.device).reshape(-1, 1, 1)
    sig = sigmas / scale
    n_samples, dim = samples.shape
    if batch_size is None:
        batch_size = max(1, min(test.shape[0], _BLOCK_ELEMENTS // n_samples))
    sample_chunk = max(1, _BLOCK_ELEMENTS // (batch_size * sig.shape[0]))  # z holds one block per sigma
    sq_samples = (samples * samples).sum(dim=1)
    out = torch.empty(sig.shape[0], test.shape[0], dtype=torch.float64, device=samples.device)
    starts = range(0, test.shape[0], batch_size)
    for start in tqdm(starts, desc="Parzen", leave=False, disable=None if progress else True):
        x = test[start:start + batch_size]
        sq_x = (x * x).sum(dim=1, keepdim=True)
        run_max = torch.full((sig.shape[0], x.shape[0]), -math.inf, dtype=torch.float64, device=x.device)
        run_sum = torch.zeros_like(run_max)
        for s0 in range(0, n_samples, sample_chunk):
            mu = samples[s0:s0 + sample_chunk]
            dist2 = (sq_x + sq_samples[s0:s0 + sample_chunk] - 2.0 * (x @ mu.mT)).clamp_min_(0)
            z = dist2.unsqueeze(0) / (-2.0 * sig * sig)  # (n_sigmas, batch, chunk)
            new_max = torch.maximum(run_max, z.amax(dim=2))
            run_sum = run_sum * torch.exp(run_max - new_max) + torch.exp(z - new_max.unsqueeze(2)).sum(dim=2)
            run_max = new_max
        out[:, start:start + x.shape[0]] = run_max + torch.log(run_sum)
    # normalised with the unscaled σ: the D·log s of the change of variables cancels exactly
    log_norm = math.log(n_samples) + dim * torch.log(sigmas.reshape(-1, 1) * math.sqrt(2 * math.pi))
    out = out - log_norm
    if not bool(torch.isfinite(out).all()):
        raise ValueError(
            "samples and test: the log-likelihood overflows float64 (squared distances / σ² of "
            f"{float(samples.abs().max() * scale):.3g}-sized values); choose a larger sigma or rescale"
        )
    return out


def parzen_log_likelihood(samples, test, sigma, *, batch_size: int | None = None, device=None) -> MetricResult:
    """Mean Parzen log-likelihood (nats) of ``test`` under a Gaussian KDE of ``samples`` with
    bandwidth ``sigma``; ``std`` is the standard error, ll.std() / √n_test (ddof 0, as the
    GAN paper's ``parzen_ll.py``). Inputs N×D or N×C×H×W (flattened), on the scale the caller
    chose (the paper used pixels in [0, 1]). ``batch_size`` = test rows per block (default: a
    32 MiB distance block)."""
    sigma = _inputs.positive_number(sigma, "sigma")
    s, t = _pairs(samples, test, "samples", "test", device)
    if batch_size is not None:
        batch_size = _inputs.positive_int(batch_size, "batch_size")
    lls = parzen_log_likelihoods(s, t, [sigma], batch_size=batch_size)[0]
    n = t.shape[0]
    return MetricResult(
        "parzen", float(lls.mean()), std=float(lls.std(correction=0)) / math.sqrt(n) if n > 1 else float("nan"),
        params={"sigma": sigma, "n_samples": s.shape[0], "n_test": n, "dims": s.shape[1]},
    )


def select_parzen_sigma(samples, validation, sigmas=None, *, device=None) -> tuple[float, dict[float, float]]:
    """σ with the best mean validation log-likelihood over ``sigmas`` (default
    :func:`default_sigmas`), and the mean log-likelihood at every σ. Ties go to the smaller σ."""
    grid = default_sigmas() if sigmas is None else np.asarray(sigmas, dtype=np.float64).reshape(-1)
    if grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid <= 0):
        raise ValueError(f"sigmas: need one or more positive finite values, got {sigmas!r}")
    s, v = _pairs(samples, validation, "samples", "validation", device)
    means = parzen_log_likelihoods(s, v, grid).mean(dim=1).cpu().numpy()
    scores = {float(g): float(m) for g, m in zip(grid, means)}
    best = float(grid[int(np.argmax(means))])
    return best, scores
