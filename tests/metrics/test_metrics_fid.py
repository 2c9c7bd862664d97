"""FID against pytorch-fid, closed forms, and the cases where pytorch-fid breaks."""

import mpmath
import numpy as np
import pytest
import torch
from pytorch_fid.fid_score import calculate_frechet_distance

from genbench.metrics import fid, fid_infinity, frechet_distance

# pytorch-fid passes sqrtm(disp=False), deprecated in SciPy 1.17 and removed in 1.18.
pytestmark = pytest.mark.filterwarnings("ignore:The `disp` argument:DeprecationWarning")


def _stats(x):
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _well_conditioned_pair(dim, n=None, seed=0):
    rng = np.random.default_rng(seed)
    n = n or 4 * dim
    mix = np.eye(dim) + 0.1 * rng.standard_normal((dim, dim)) / np.sqrt(dim)
    a = rng.standard_normal((n, dim)) @ mix
    b = 1.1 * rng.standard_normal((n, dim)) @ mix.T + 0.05
    return a, b


def test_matches_pytorch_fid_on_well_conditioned_256d_statistics():
    a, b = _well_conditioned_pair(256)
    (m1, s1), (m2, s2) = _stats(a), _stats(b)
    ours = frechet_distance(m1, s1, m2, s2).value
    ref = calculate_frechet_distance(m1, s1, m2, s2)
    assert ours == pytest.approx(ref, rel=1e-6)
    # and from features, with ddof-1 covariances as np.cov
    assert fid(a, b).value == pytest.approx(ref, rel=1e-6)


def test_torch_and_float32_inputs_give_the_float64_answer():
    a, b = _well_conditioned_pair(32, seed=1)
    (m1, s1), (m2, s2) = _stats(a), _stats(b)
    ref = calculate_frechet_distance(m1, s1, m2, s2)
    assert fid(torch.from_numpy(a), torch.from_numpy(b)).value == pytest.approx(ref, rel=1e-9)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    ref32 = calculate_frechet_distance(*_stats(a32.astype(np.float64)), *_stats(b32.astype(np.float64)))
    assert fid(a32, b32).value == pytest.approx(ref32, rel=1e-9)


def test_commuting_diagonal_covariances_closed_form():
    rng = np.random.default_rng(2)
    d1, d2 = rng.uniform(0.1, 3, 50), rng.uniform(0.1, 3, 50)
    m1, m2 = rng.standard_normal(50), rng.standard_normal(50)
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(d1) - np.sqrt(d2)) ** 2)
    assert frechet_distance(m1, np.diag(d1), m2, np.diag(d2)).value == pytest.approx(expected, rel=1e-12)


def test_singular_covariances_fewer_samples_than_dims_closed_form():
    """n < d: both covariances are singular; tr (Σ1Σ2)^½ = nuclear norm of A1ᵀA2 for Σ = A Aᵀ."""
    rng = np.random.default_rng(3)
    dim, n1, n2 = 64, 20, 30
    a = rng.standard_normal((n1, dim))
    b = rng.standard_normal((n2, dim)) + 0.3
    A1 = (a - a.mean(0)).T / np.sqrt(n1 - 1)
    A2 = (b - b.mean(0)).T / np.sqrt(n2 - 1)
    nuclear = np.linalg.svd(A1.T @ A2, compute_uv=False).sum()
    diff = a.mean(0) - b.mean(0)
    expected = diff @ diff + np.sum(A1**2) + np.sum(A2**2) - 2 * nuclear
    with pytest.warns(UserWarning, match="rank deficient"):
        got = fid(a, b).value
    assert got == pytest.approx(expected, rel=1e-9)
    # the same from statistics, where pytorch-fid's sqrtm has to add eps to the diagonal
    (m1, s1), (m2, s2) = _stats(a), _stats(b)
    assert frechet_distance(m1, s1, m2, s2).value == pytest.approx(expected, rel=1e-9)


def test_badly_scaled_singular_case_where_pytorch_fid_reports_an_imaginary_component():
    """Feature scales from 1e-4 to 1e3 and 10 samples in 128 dimensions: pytorch-fid 0.3.0 raises
    "Imaginary component 0.014" here; the exact value is the closed form below."""
    rng = np.random.default_rng(0)
    scales = np.logspace(-4, 3, 128)
    a = rng.standard_normal((10, 128)) * scales
    b = (rng.standard_normal((10, 128)) + 0.3) * scales
    A1 = (a - a.mean(0)).T / 3.0
    A2 = (b - b.mean(0)).T / 3.0
    diff = a.mean(0) - b.mean(0)
    expected = diff @ diff + np.sum(A1**2) + np.sum(A2**2) - 2 * np.linalg.svd(A1.T @ A2, compute_uv=False).sum()
    with pytest.warns(UserWarning, match="rank deficient"):
        assert fid(a, b).value == pytest.approx(expected, rel=1e-12)


def test_rank_one_covariances_where_sqrtm_struggles():
    """Σ1 = u uᵀ, Σ2 = v vᵀ: Σ1Σ2 is rank one and nilpotent-adjacent; tr (Σ1Σ2)^½ = |u·v|."""
    rng = np.random.default_rng(4)
    u, v = rng.standard_normal(40), rng.standard_normal(40)
    mu = np.zeros(40)
    expected = u @ u + v @ v - 2 * abs(u @ v)
    assert frechet_distance(mu, np.outer(u, u), mu, np.outer(v, v)).value == pytest.approx(expected, rel=1e-9)
    # orthogonal directions: the product is exactly zero
    w = v - (v @ u) / (u @ u) * u
    assert frechet_distance(mu, np.outer(u, u), mu, np.outer(w, w)).value == pytest.approx(u @ u + w @ w, rel=1e-9)


def test_identical_sets_give_zero_never_negative():
    a, _ = _well_conditioned_pair(48, seed=5)
    value = fid(a, a).value
    assert 0.0 <= value < 1e-9 * np.trace(np.cov(a, rowvar=False))
    m, s = _stats(a)
    assert frechet_distance(m, s, m, s).value >= 0.0


def test_bootstrap_matches_an_independent_resampling_with_pytorch_fid():
    a, b = _well_conditioned_pair(8, n=200, seed=6)
    res = fid(a, b, bootstrap=20, seed=11, confidence=0.9)
    rng = np.random.default_rng(11)
    draws = []
    for _ in range(20):
        ia, ib = rng.integers(0, len(a), len(a)), rng.integers(0, len(b), len(b))
        draws.append(calculate_frechet_distance(*_stats(a[ia]), *_stats(b[ib])))
    assert res.std == pytest.approx(np.std(draws, ddof=1), rel=1e-6)
    assert res.ci == pytest.approx(tuple(np.percentile(draws, [5, 95])), rel=1e-6)
    assert res.value == pytest.approx(calculate_frechet_distance(*_stats(a), *_stats(b)), rel=1e-9)
    assert fid(a, b, bootstrap=20, seed=11, confidence=0.9) == res  # seeded


def test_fid_infinity_is_the_intercept_of_the_1_over_n_fit():
    a, b = _well_conditioned_pair(8, n=600, seed=7)
    sizes = [100, 200, 400, 600]
    res = fid_infinity(a, b, sizes=sizes, seed=3)
    rng = np.random.default_rng(3)
    fids = [calculate_frechet_distance(*_stats(a[rng.permutation(len(a))[:s]]), *_stats(b)) for s in sizes]
    slope, intercept = np.polyfit(1 / np.array(sizes), fids, 1)
    assert res.name == "fid_inf"
    assert res.value == pytest.approx(intercept, rel=1e-6, abs=1e-9)
    assert res.params["slope"] == pytest.approx(slope, rel=1e-6)
    assert res.params["fids"] == pytest.approx(fids, rel=1e-6)


def test_fid_infinity_removes_most_of_the_small_sample_bias():
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((2000, 16)), rng.standard_normal((4000, 16))  # same distribution: FID∞ ≈ 0
    res = fid_infinity(a, b, seed=0)
    assert abs(res.value) < 0.25 * res.params["fids"][0]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_tensors_are_computed_on_cuda_with_the_same_value():
    a, b = _well_conditioned_pair(64, seed=9)
    ref = calculate_frechet_distance(*_stats(a), *_stats(b))
    assert fid(torch.from_numpy(a).cuda(), torch.from_numpy(b).cuda()).value == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda a, b: fid(a, b[:, :5]), "features_a and features_b: feature dimensions differ"),
        (lambda a, b: fid(a[:1], b), "features_a: needs at least 2 samples"),
        (lambda a, b: fid(np.where(a > 2, np.nan, a), b), "features_a: contains .* NaN"),
        (lambda a, b: fid(a, np.inf * b), "features_b: contains .* NaN or infinite"),
        (lambda a, b: fid(a[0], b), "features_a: expected a 2-D array"),
        (lambda a, b: fid(a.astype(str), b), "features_a: expected a real numeric array"),
        (lambda a, b: fid(a, b, bootstrap=-1), "bootstrap: must be at least 0"),
        (lambda a, b: fid(a, b, confidence=1.5), "confidence"),
        (lambda a, b: fid_infinity(a, b, sizes=[10, 10_000]), "sizes: 10000 is larger than features_a"),
        (lambda a, b: fid_infinity(a, b, sizes=[50, 50]), "sizes: need at least two different"),
    ],
)
def test_bad_feature_input_names_the_argument(call, match):
    a, b = _well_conditioned_pair(8, n=100, seed=10)
    with pytest.raises(ValueError, match=match):
        call(a, b)


def test_bad_statistics_name_the_argument():
    m, s = np.zeros(4), np.eye(4)
    with pytest.raises(ValueError, match="mu1 and mu2: dimensions differ"):
        frechet_distance(m, s, np.zeros(5), np.eye(5))
    with pytest.raises(ValueError, match="sigma2: is 3×3"):
        frechet_distance(m, s, m, np.eye(3))
    with pytest.raises(ValueError, match="sigma1: is not symmetric"):
        frechet_distance(m, s + np.triu(np.ones((4, 4)), 1), m, s)
    with pytest.raises(ValueError, match="sigma2: is not positive semi-definite"):
        frechet_distance(m, s, m, np.diag([1.0, 1.0, 1.0, -1.0]))
    with pytest.raises(ValueError, match="sigma1: is not positive semi-definite"):
        frechet_distance(m, np.diag([1.0, 0.0, 0.0, -1.0]), m, np.diag([1.0, 0.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="sigma1: contains 1 NaN"):
        frechet_distance(m, np.diag([1.0, np.nan, 1, 1]), m, s)


@pytest.mark.filterwarnings("ignore:features_a.*rank deficient")
@pytest.mark.parametrize("small_first", [True, False])
def test_one_set_smaller_than_the_dimension_matches_pytorch_fid(small_first):
    # One covariance singular, the other full rank: fid() takes the n×n low-rank path;
    # pytorch-fid's sqrtm is accurate here because the product has a well-defined root.
    rng = np.random.default_rng(3)
    small = rng.standard_normal((24, 64))
    large = 1.2 * rng.standard_normal((400, 64)) + 0.1
    a, b = (small, large) if small_first else (large, small)
    expected = calculate_frechet_distance(*_stats(a), *_stats(b))
    with pytest.warns(UserWarning, match="rank deficient"):
        got = fid(a, b).value
    assert got == pytest.approx(expected, rel=1e-6)


def _mp_fid(a, b):
    """FID of two small feature sets in 50-digit arithmetic (mpmath), the old way round:
    ‖Δμ‖² + tr Σa + tr Σb − 2 Σ √λ over the eigenvalues λ of the n_a×n_a matrix XaΣbXaᵀ/(n_a−1).
    Returns (FID, tr Σa + tr Σb)."""
    mpmath.mp.dps = 50

    def centred(x):
        m = mpmath.matrix(x.tolist())
        n, d = x.shape
        mu = [mpmath.fsum(m[i, j] for i in range(n)) / n for j in range(d)]
        for i in range(n):
            for j in range(d):
                m[i, j] -= mu[j]
        return mu, m, mpmath.fsum(m[i, j] ** 2 for i in range(n) for j in range(d)) / (n - 1)

    (mu_a, xa, tr_a), (mu_b, xb, tr_b) = centred(a), centred(b)
    k = xa * (xb.T * xb) * xa.T / ((a.shape[0] - 1) * (b.shape[0] - 1))
    evals = mpmath.eigsy((k + k.T) / 2, eigvals_only=True)
    root = mpmath.fsum(mpmath.sqrt(max(e, 0)) for e in evals)
    diff = mpmath.fsum((p - q) ** 2 for p, q in zip(mu_a, mu_b))
    return float(diff + tr_a + tr_b - 2 * root), float(tr_a + tr_b)


@pytest.mark.filterwarnings("ignore:features_.*rank deficient")
def test_fewer_samples_than_dims_identical_sets_give_zero_and_never_raise():
    """Defect 8: X against a copy of X with n ≤ 20 samples in d ≥ 50 dimensions raised "clearly
    negative" (a zero eigenvalue's round-off went through a square root: √eps, not eps)."""
    for seed in range(80):
        rng = np.random.default_rng(seed)
        n, d = int(rng.integers(2, 21)), int(rng.integers(50, 101))
        x = rng.standard_normal((n, d)) * rng.uniform(0.1, 10)
        scale = 2 * np.trace(np.atleast_2d(np.cov(x, rowvar=False)))
        assert 0.0 <= fid(x, x.copy(), device="cpu").value <= 1e-13 * scale, seed
        m, s = _stats(x)
        assert 0.0 <= frechet_distance(m, s, m, s.copy(), device="cpu").value <= 1e-13 * scale, seed


@pytest.mark.filterwarnings("ignore:features_.*rank deficient")
def test_low_rank_paths_agree_with_50_digit_arithmetic():
    """Defect 8: the n ≤ d feature path and the singular-covariance path were off by up to 7e-9
    relative; both now agree with an mpmath reference to round-off."""
    for seed in range(6):
        rng = np.random.default_rng(100 + seed)
        n, m = int(rng.integers(2, 13)), int(rng.integers(2, 13))
        d = int(rng.integers(n + m, 61))
        a = rng.standard_normal((n, d))
        b = 1.5 * rng.standard_normal((m, d)) + 0.2
        expected, scale = _mp_fid(a, b)
        assert abs(fid(a, b, device="cpu").value - expected) <= 1e-13 * scale, seed
        got = frechet_distance(*_stats(a), *_stats(b), device="cpu").value
        assert abs(got - expected) <= 1e-13 * scale, seed
    # one set below the dimension, the other above it (full-rank covariance)
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((6, 10)), rng.standard_normal((30, 10)) + 0.1
    expected, scale = _mp_fid(a, b)
    for x, y in ((a, b), (b, a)):
        assert abs(fid(x, y, device="cpu").value - expected) <= 1e-13 * scale
        assert abs(frechet_distance(*_stats(x), *_stats(y), device="cpu").value - expected) <= 1e-13 * scale


@pytest.mark.parametrize("factor", [2.0**500, 1e150, 1e-150, 1e-170])
def test_huge_and_tiny_features_scale_exactly(factor):
    """Defect 11: squares of 1e150 overflow and of 1e-150 underflow; FID(sX, sY) = s²·FID(X, Y)."""
    a, b = _well_conditioned_pair(8, n=100, seed=11)
    expected = fid(a, b).value * factor**2
    assert fid(a * factor, b * factor).value == pytest.approx(expected, rel=1e-12)
    assert fid(a * factor, b * factor, bootstrap=3).std == pytest.approx(
        fid(a, b, bootstrap=3).std * factor**2, rel=1e-9)
    (m1, s1), (m2, s2) = _stats(a), _stats(b)
    got = frechet_distance(m1 * factor, s1 * factor**2, m2 * factor, s2 * factor**2).value
    assert got == pytest.approx(expected, rel=1e-12)
    res = fid_infinity(a * factor, b * factor, sizes=[50, 100])
    assert res.value == pytest.approx(fid_infinity(a, b, sizes=[50, 100]).value * factor**2, rel=1e-9)


def test_a_fid_beyond_float64_is_an_error_naming_the_arguments_not_nan():
    a, b = _well_conditioned_pair(8, n=100, seed=12)
    with pytest.raises(ValueError, match="features_a and features_b: values overflow float64"):
        fid(a * 1e200, b * 1e200)
    with pytest.raises(ValueError, match="mu1, sigma1, mu2, sigma2: values overflow float64"):
        frechet_distance(np.full(3, 1e200), np.eye(3), np.full(3, -1e200), np.eye(3))
    # mixed magnitudes within one set: finite, and equal to the closed form for diagonal covariances
    d1, d2 = np.array([1e300, 1e-300, 1.0]), np.array([4e300, 1e-300, 4.0])
    expected = np.sum((np.sqrt(d1) - np.sqrt(d2)) ** 2)
    assert frechet_distance(np.zeros(3), np.diag(d1), np.zeros(3), np.diag(d2)).value == pytest.approx(expected)
