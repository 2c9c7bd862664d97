"""Fréchet distance between Gaussians fitted to features (FID), its bootstrap and FID∞.

The expensive part of FID is tr (Σ1Σ2)^½. pytorch-fid takes a general (non-symmetric) matrix
square root with ``scipy.linalg.sqrtm`` (a Schur decomposition, ~25 n³ flops), which fails on
singular products ("imaginary component") and passes an argument SciPy ≥ 1.18 removed. We only
need the trace, and for any factors CᵢᵀCᵢ = Σᵢ the eigenvalues of Σ1Σ2 are the squared singular
values of C1C2ᵀ, so tr (Σ1Σ2)^½ = ‖C1C2ᵀ‖_* (the nuclear norm). When both covariances are
positive definite (n > d) that is Σ √λᵢ(Lᵀ Σ2 L) with Σ1 = L Lᵀ: one Cholesky and a symmetric
eigenvalues-only problem. When either is singular, the factors are a Cholesky factor, the
eigen-decomposition of a singular covariance without its round-off eigenvalues, or, with fewer
samples than dimensions, the centred data itself, and we sum singular values: they keep a zero
eigenvalue's round-off at eps where square roots of eigenvalues turn it into √eps, so singular
cases (X against X, n < d) are exact. No complex arithmetic, no general sqrtm.
"""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np
import torch
from scipy.linalg import eigvalsh, lapack
from tqdm.auto import tqdm

from genbench.metrics import _inputs
from genbench.metrics.result import MetricResult

log = logging.getLogger(__name__)

# Relative size of a negative eigenvalue we still attribute to round-off (covariances stored in
# float32, e.g. old pytorch-fid .npz files, carry ~1e-7 relative noise). Beyond it the matrix
# really is not a covariance and we refuse it.
_PSD_TOLERANCE = 1e-6


def _covariance_input(sigma, name: str, dim: int, device) -> torch.Tensor:
    s = _inputs.to_tensor(sigma, name, device=device)
    if s.ndim != 2 or s.shape[0] != s.shape[1]:
        raise ValueError(f"{name}: expected a square covariance matrix, got shape {tuple(s.shape)}")
    if s.shape[0] != dim:
        raise ValueError(f"{name}: is {s.shape[0]}×{s.shape[1]} but the means have {dim} dimensions")
    _inputs.check_finite(s, name)
    scale = s.abs().max().item()
    if (s - s.mT).abs().max().item() > 1e-5 * max(scale, 1e-300):
        raise ValueError(f"{name}: is not symmetric, so it is not a covariance matrix")
    return (s + s.mT) / 2


def _mean_input(mu, name: str, device) -> torch.Tensor:
    m = _inputs.to_tensor(mu, name, device=device)
    if m.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D mean vector, got shape {tuple(m.shape)}")
    _inputs.check_finite(m, name)
    return m


def _healthy_cholesky(sigma: torch.Tensor) -> torch.Tensor | None:
    """L with L Lᵀ = Σ, or None when Σ is singular — including a Cholesky that "succeeds" with
    pivots at round-off level, a singular matrix in disguise."""
    eps = torch.finfo(torch.float64).eps
    chol, info = torch.linalg.cholesky_ex(sigma)
    pivots = torch.diagonal(chol)
    if int(info) == 0 and bool(pivots.min() ** 2 > sigma.shape[0] * eps * torch.diagonal(sigma).max()):
        return chol
    return None


def _factor(sigma: torch.Tensor, name: str, chol: torch.Tensor | None = None) -> torch.Tensor:
    """C with CᵀC = Σ for a symmetric PSD float64 Σ (D×D → r×D).

    With a healthy Cholesky factor, C = Lᵀ. Otherwise Σ is singular: Σ = V Λ Vᵀ and
    C = Λ₊^½ V₊ᵀ over the eigenvalues above round-off level, so an eigenvalue that is zero up to
    round-off is dropped, not turned into a √eps-sized row. Clearly negative eigenvalues mean
    Σ is not a covariance: ``ValueError`` naming it.
    """
    if chol is not None:
        return chol.mT
    eps = torch.finfo(torch.float64).eps
    evals, evecs = torch.linalg.eigh(sigma)
    top = evals.abs().max().clamp_min(1e-300)
    if evals.min() < -_PSD_TOLERANCE * top:
        raise ValueError(
            f"{name}: is not positive semi-definite (eigenvalue {evals.min().item():.3g}, "
            f"largest {top.item():.3g})"
        )
    keep = evals > sigma.shape[0] * eps * top
    return (evecs[:, keep] * evals[keep].sqrt()).mT


def _nuclear_norm(x: torch.Tensor, y: torch.Tensor) -> float:
    """Σ singular values of x yᵀ, i.e. tr (XᵀX YᵀY)^½ for factors x, y of two covariances.

    The eigenvalues of Σ1Σ2 are the squared singular values of C1 C2ᵀ; taking singular values
    instead of square roots of eigenvalues keeps a zero eigenvalue's round-off at eps, where a
    square root would blow it up to √eps (the source of "clearly negative" FIDs for X vs X).
    """
    if x.shape[0] == 0 or y.shape[0] == 0:
        return 0.0
    return float(torch.linalg.svdvals(x @ y.mT).sum())


def _cpu_congruence_eigenvalues(sigma: torch.Tensor, chol: torch.Tensor) -> torch.Tensor:
    """Eigenvalues of Lᵀ Σ L on the CPU via LAPACK ``dsygst`` (itype 2) and ``dsyev``.

    ``dsygst`` forms the congruence with n³ flops by exploiting symmetry, where two general
    matrix products take 4n³; with the eigenvalues-only ``dsyev`` this is ~1.5× faster than
    the torch path on 2048-d statistics, with the same values to round-off.
    """
    congruent, info = lapack.dsygst(sigma.numpy(), chol.numpy(), itype=2, lower=1)
    if info != 0:
        raise ValueError(f"LAPACK dsygst failed (info={info}) on the covariance matrices")
    values = eigvalsh(congruent, lower=True, driver="ev", check_finite=False, overwrite_a=True)
    return torch.from_numpy(values)


def trace_sqrt_product(sigma1: torch.Tensor, sigma2: torch.Tensor) -> float:
    """tr (Σ1Σ2)^½ for symmetric PSD float64 tensors.

    Both positive definite (the usual n > d case): Σ1 = L Lᵀ and Σ √λᵢ(Lᵀ Σ2 L), a symmetric
    eigenvalues-only problem (on the CPU formed by LAPACK's congruence); its eigenvalues are at
    least λmin(Σ1)·λmin(Σ2) > 0, so the square roots amplify round-off only as far as the
    covariances' conditioning does, and a general SVD of the d×d product is ~10× slower. Either singular: the nuclear norm of C1 C2ᵀ for
    factors CᵢᵀCᵢ = Σᵢ (:func:`_factor`, :func:`_nuclear_norm`), exact where square roots of
    round-off eigenvalues would not be. Raises ``ValueError`` naming a matrix that is clearly not PSD.
    """
    chol1, chol2 = _healthy_cholesky(sigma1), _healthy_cholesky(sigma2)
    if chol1 is None or chol2 is None:
        return _nuclear_norm(_factor(sigma1, "sigma1", chol1), _factor(sigma2, "sigma2", chol2))
    if sigma1.device.type == "cpu":
        evals = _cpu_congruence_eigenvalues(sigma2, chol1)
    else:
        product = chol1.mT @ sigma2 @ chol1
        evals = torch.linalg.eigvalsh((product + product.mT) / 2)
    return float(evals.clamp_min(0).sqrt().sum())


def _distance(mu1, sigma1, mu2, sigma2) -> float:
    """‖μ1−μ2‖² + tr Σ1 + tr Σ2 − 2 tr (Σ1Σ2)^½, clipped at 0.

    With factors, tr (Σ1Σ2)^½ = ‖C1C2ᵀ‖_* ≤ ‖C1‖_F‖C2‖_F ≤ (tr Σ1 + tr Σ2)/2, so a negative
    total can only be round-off: it is reported as 0, never raised.
    """
    diff = mu1 - mu2
    traces = float(torch.trace(sigma1) + torch.trace(sigma2))
    return max(float(diff @ diff) + traces - 2.0 * trace_sqrt_product(sigma1, sigma2), 0.0)


def _scaled_result(value: float, scale: float, names: str) -> float:
    """value·scale² (FID is quadratic in the data's scale), or a ``ValueError`` if that overflows."""
    result = value * scale * scale
    if not math.isfinite(result):
        raise ValueError(f"{names}: values overflow float64 (the FID is about {value:.3g}·{scale:.3g}²)")
    return result


def frechet_distance(mu1, sigma1, mu2, sigma2, *, device=None) -> MetricResult:
    """FID from Gaussian statistics: ‖μ1−μ2‖² + tr Σ1 + tr Σ2 − 2 tr (Σ1Σ2)^½.

    Computed in float64 on ``device`` (default: where ``mu1`` is, or CUDA when present for numpy
    input) via :func:`trace_sqrt_product`, which works for singular covariances. The statistics
    are first divided by a power of two (means by s, covariances by s²) so that huge or tiny
    values neither overflow nor underflow; a FID beyond float64 is a ``ValueError``.
    """
    if device is None and isinstance(mu1, torch.Tensor):
        device = mu1.device
    m1 = _mean_input(mu1, "mu1", device)
    m2 = _mean_input(mu2, "mu2", m1.device)
    if m1.shape != m2.shape:
        raise ValueError(f"mu1 and mu2: dimensions differ ({m1.shape[0]} vs {m2.shape[0]})")
    s1 = _covariance_input(sigma1, "sigma1", m1.shape[0], m1.device)
    s2 = _covariance_input(sigma2, "sigma2", m1.shape[0], m1.device)
    # √ of the covariance scale, taken without squaring anything: √max|Σ| ≤ 2^ceil(e/2)
    cov_top = max(float(s1.abs().max()), float(s2.abs().max()))
    cov_root = 0.0 if cov_top == 0.0 else math.ldexp(1.0, (math.frexp(cov_top)[1] + 1) // 2)
    scale = max(_inputs.power_of_two_scale(m1, m2), cov_root)
    value = _distance(m1 / scale, s1 / scale / scale, m2 / scale, s2 / scale / scale)
    return MetricResult("fid", _scaled_result(value, scale, "mu1, sigma1, mu2, sigma2"),
                        params={"dims": int(m1.shape[0])})


_STATS_CHUNK = 4096  # rows centred at a time: memory stays at one chunk, not a second N×D copy


def gaussian_statistics(features: torch.Tensor, rows: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and covariance (ddof 1, as pytorch-fid's ``np.cov``) of an N×D float64 tensor,
    or of ``features[rows]`` (a bootstrap draw) without materialising that copy."""
    n = features.shape[0] if rows is None else rows.shape[0]
    pick = (lambda s: features[s]) if rows is None else (lambda s: features[rows[s]])
    mu = sum(pick(slice(i, i + _STATS_CHUNK)).sum(dim=0) for i in range(0, n, _STATS_CHUNK)) / n
    cov = torch.zeros(features.shape[1], features.shape[1], dtype=features.dtype, device=features.device)
    for i in range(0, n, _STATS_CHUNK):
        centered = pick(slice(i, i + _STATS_CHUNK)) - mu
        cov.addmm_(centered.mT, centered)
    return mu, cov / (n - 1)


def _set_factor(x: torch.Tensor, rows) -> tuple:
    """(μ, C, Σ, tr Σ) of a feature set (or of bootstrap ``rows`` of it), covariance ddof 1.

    With no more samples than dimensions, C = X/√(n−1) (the centred data: CᵀC = Σ exactly) and
    Σ is never formed (10 images against 2048-d features: milliseconds). Otherwise C is None and
    Σ comes from :func:`gaussian_statistics`, which never copies the N×D data.
    """
    n = x.shape[0] if rows is None else rows.shape[0]
    if n <= x.shape[1]:
        data = x if rows is None else x[rows]
        mu = data.mean(dim=0)
        centred = (data - mu) / math.sqrt(n - 1)
        return mu, centred, None, float((centred * centred).sum())
    mu, sigma = gaussian_statistics(x, rows)
    return mu, None, sigma, float(torch.trace(sigma))


def _factor_distance(set_a: tuple, set_b: tuple) -> float:
    """FID between two :func:`_set_factor` results, clipped at 0 as :func:`_distance`."""
    (mu_a, c_a, sigma_a, tr_a), (mu_b, c_b, sigma_b, tr_b) = set_a, set_b
    if c_a is None and c_b is None:
        root = trace_sqrt_product(sigma_a, sigma_b)
    else:
        name = "covariance of the features"
        c_a = c_a if c_a is not None else _factor(sigma_a, name, _healthy_cholesky(sigma_a))
        c_b = c_b if c_b is not None else _factor(sigma_b, name, _healthy_cholesky(sigma_b))
        root = _nuclear_norm(c_a, c_b)
    diff = mu_a - mu_b
    return max(float(diff @ diff) + (tr_a + tr_b) - 2.0 * root, 0.0)  # summed as pytorch-fid does


def _feature_distance(a: torch.Tensor, b: torch.Tensor, rows_a=None, rows_b=None) -> float:
    """FID between two feature sets (optionally bootstrap rows of them)."""
    return _factor_distance(_set_factor(a, rows_a), _set_factor(b, rows_b))


def _warn_rank(n: int, dim: int, name: str) -> None:
    if n <= dim:
        warnings.warn(
            f"{name}: {n} samples for {dim} feature dimensions — the covariance is rank deficient "
            f"(rank ≤ {n - 1}); FID is still computed exactly for the singular matrix, but it is "
            "strongly biased at this sample size",
            stacklevel=3,
        )


def fid(features_a, features_b, *, bootstrap: int = 0, seed: int = 0, confidence: float = 0.95,
        device=None) -> MetricResult:
    """FID between two feature sets (N×D), optionally with a bootstrap spread.

    ``bootstrap > 0`` redraws both sets with replacement that many times (numpy generator seeded
    with ``seed``); ``std`` is the bootstrap standard deviation (ddof 1) and ``ci`` the
    ``confidence`` percentile interval. It measures the sampling noise of FID at this N, not
    its bias (see :func:`fid_infinity`).
    """
    a = _inputs.features(features_a, "features_a", device=device)
    b = _inputs.features(features_b, "features_b", device=a.device)
    _inputs.same_width(a, b, "features_a", "features_b")
    bootstrap = _inputs.positive_int(bootstrap, "bootstrap", minimum=0)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: must lie strictly between 0 and 1, got {confidence!r}")
    _warn_rank(a.shape[0], a.shape[1], "features_a")
    _warn_rank(b.shape[0], b.shape[1], "features_b")

    # Features divided by a power of two (exact); FID scales with its square.
    scale = _inputs.power_of_two_scale(a, b)
    a, b = a / scale, b / scale
    value = _scaled_result(_feature_distance(a, b), scale, "features_a and features_b")
    params = {"n_a": a.shape[0], "n_b": b.shape[0], "dims": a.shape[1], "bootstrap": bootstrap}
    if bootstrap == 0:
        return MetricResult("fid", value, params=params)

    rng = np.random.default_rng(seed)
    draws = []
    for _ in tqdm(range(bootstrap), desc="FID bootstrap", leave=False, disable=None):
        ia = torch.as_tensor(rng.integers(0, a.shape[0], a.shape[0]), device=a.device)
        ib = torch.as_tensor(rng.integers(0, b.shape[0], b.shape[0]), device=b.device)
        draws.append(_feature_distance(a, b, ia, ib))
    draws_arr = np.asarray(draws)  # in the scaled units: their spread's squares stay finite
    tail = (1 - confidence) / 2 * 100
    lo, hi = (_scaled_result(v, scale, "features_a and features_b") for v in np.percentile(draws_arr, [tail, 100 - tail]))
    std = float(draws_arr.std(ddof=1)) * scale * scale if bootstrap > 1 else float("nan")
    params.update(seed=seed, confidence=confidence)
    return MetricResult("fid", value, std=std, ci=(float(lo), float(hi)), params=params)


def default_fid_inf_sizes(n: int) -> list[int]:
    """Chong & Forsyth use 15 sizes from 5,000 to 50,000; we keep 15 sizes from min(5000, n/2) to n."""
    return sorted({int(s) for s in np.linspace(min(5000, n // 2), n, 15)})


def fid_infinity(features_a, features_b, *, sizes=None, seed: int = 0, device=None) -> MetricResult:
    """FID∞ (Chong & Forsyth 2020): the FID an infinite sample of ``features_a`` would get.

    FID is biased upwards roughly linearly in 1/N. For each N in ``sizes`` we draw N rows of
    ``features_a`` without replacement (seeded), compute FID against all of ``features_b``, fit
    FID = FID∞ + slope/N by least squares and report the intercept. ``params`` keeps the sizes,
    the FID at each size and the slope.
    """
    a = _inputs.features(features_a, "features_a", device=device)
    b = _inputs.features(features_b, "features_b", device=a.device)
    _inputs.same_width(a, b, "features_a", "features_b")
    n = a.shape[0]
    if sizes is None:
        sizes = default_fid_inf_sizes(n)
    sizes = [_inputs.positive_int(s, "sizes", minimum=2) for s in sizes]
    if max(sizes) > n:
        raise ValueError(f"sizes: {max(sizes)} is larger than features_a ({n} samples)")
    if len(set(sizes)) < 2:
        raise ValueError(f"sizes: need at least two different sample sizes to fit a line, got {sizes}")
    _warn_rank(min(sizes), a.shape[1], "features_a (smallest FID∞ size)")
    _warn_rank(b.shape[0], b.shape[1], "features_b")

    scale = _inputs.power_of_two_scale(a, b)
    a, b = a / scale, b / scale
    set_b = _set_factor(b, None)
    rng = np.random.default_rng(seed)
    fids = []
    for size in tqdm(sizes, desc="FID∞", leave=False, disable=None):
        idx = torch.as_tensor(rng.permutation(n)[:size], device=a.device)
        fids.append(_scaled_result(_factor_distance(_set_factor(a, idx), set_b), scale, "features_a and features_b"))
    slope, intercept = np.polyfit(1.0 / np.asarray(sizes, dtype=np.float64), np.asarray(fids), 1)
    log.debug("FID∞ fit: intercept %.4f slope %.1f over sizes %s", intercept, slope, sizes)
    return MetricResult(
        "fid_inf", float(intercept),
        params={"sizes": sizes, "fids": fids, "slope": float(slope), "seed": seed,
                "n_a": n, "n_b": b.shape[0], "dims": a.shape[1]},
    )
