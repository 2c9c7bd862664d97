"""Perceptual path length against closed forms on linear generators, and its refusals."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats

from genbench.errors import GenbenchError
from genbench.metrics.ppl import LatentPaths, perceptual_path_length, slerp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from baseline_fixtures import make_images  # noqa: E402

import baselines  # noqa: E402


def _gaussian(dim: int):
    def draw(n, gen):
        return torch.randn(n, dim, generator=gen, dtype=torch.float64), None
    return draw


def test_slerp_stays_on_the_unit_circle_at_the_angle_fraction():
    a, b = torch.tensor([[2.0, 0.0]], dtype=torch.float64), torch.tensor([[0.0, 3.0]], dtype=torch.float64)
    out = slerp(a, b, torch.tensor([[1 / 3]], dtype=torch.float64))
    assert torch.allclose(out, torch.tensor([[math.cos(math.pi / 6), math.sin(math.pi / 6)]], dtype=torch.float64))


@pytest.mark.parametrize("sampling", ["full", "end"])
def test_z_space_path_length_of_a_linear_generator_matches_the_closed_form(sampling):
    # G(z) = c·z on a 2-D latent: slerp moves at angular speed θ = ∠(z0, z1) on the unit circle, so
    # d / ε² = c²θ² with θ ~ U(0, π) for isotropic Gaussians; trimming θ² at its 1st / 99th
    # percentiles keeps θ ∈ [0.01π, 0.99π]: E = c²π² (0.99³ − 0.01³) / (3 · 0.98).
    c = 3.0
    paths = LatentPaths(_gaussian(2), lambda z, rest: c * z.view(-1, 1, 1, 2))
    got = perceptual_path_length(paths, 20_000, space="z", sampling=sampling, distance="pixel-l2", dtype=torch.float64)
    expected = c ** 2 * math.pi ** 2 * (0.99 ** 3 - 0.01 ** 3) / (3 * 0.98)
    assert got.value == pytest.approx(expected, rel=0.03)
    assert got.name == f"ppl_z_{sampling}" and got.params["distance"].startswith("pixel-l2")
    assert got.params["n_kept"] == pytest.approx(0.98 * 20_000, abs=5)


def test_w_space_path_length_of_a_linear_mapping_and_synthesis_matches_the_closed_form():
    # w = b·z (1-D), G(w) = a·w (a ∈ R⁶): lerp gives d / ε² = ‖a‖² b² (z1 − z0)² = 2‖a‖²b² X, X ~ χ²₁.
    # The trimmed mean of χ²₁ over its [1 %, 99 %] quantiles is (F₃(q99) − F₃(q01)) / 0.98
    # (x f₁(x) = f₃(x) for chi-square densities).
    a = torch.tensor([1.0, -2.0, 0.5, 0.0, 1.5, 1.0], dtype=torch.float64)
    b = 0.7
    paths = LatentPaths(_gaussian(1), lambda z, rest: None, to_w=lambda z: b * z,
                        from_w=lambda w, rest: (w * a).view(-1, 1, 2, 3))
    got = perceptual_path_length(paths, 20_000, space="w", sampling="full", distance="pixel-l2", dtype=torch.float64)
    q01, q99 = stats.chi2.ppf([0.01, 0.99], 1)
    trimmed = (stats.chi2.cdf(q99, 3) - stats.chi2.cdf(q01, 3)) / 0.98
    assert got.value == pytest.approx(2 * float(a.pow(2).sum()) * b ** 2 * trimmed, rel=0.03)


def test_the_shared_rest_of_the_code_is_held_fixed_along_a_path():
    # images depend on z and on a per-pair noise code; only z moves, so the noise adds nothing
    paths = LatentPaths(lambda n, gen: (torch.randn(n, 2, generator=gen, dtype=torch.float64),
                                        torch.randn(n, 3, generator=gen, dtype=torch.float64)),
                        lambda z, rest: torch.cat([2 * z, 100 * rest], dim=1).view(-1, 1, 1, 5))
    got = perceptual_path_length(paths, 4000, distance="pixel-l2", dtype=torch.float64)
    expected = 4 * math.pi ** 2 * (0.99 ** 3 - 0.01 ** 3) / (3 * 0.98)
    assert got.value == pytest.approx(expected, rel=0.05)


def test_bad_requests_get_one_line_errors(monkeypatch):
    paths = LatentPaths(_gaussian(2), lambda z, rest: z.view(-1, 1, 1, 2))
    with pytest.raises(GenbenchError, match="no intermediate latent space W"):
        perceptual_path_length(paths, 10, space="w", distance="pixel-l2")
    with pytest.raises(GenbenchError, match="space must be one of"):
        perceptual_path_length(paths, 10, space="x")
    with pytest.raises(GenbenchError, match="sampling must be one of"):
        perceptual_path_length(paths, 10, sampling="middle")
    with pytest.raises(GenbenchError, match="epsilon"):
        perceptual_path_length(paths, 10, epsilon=0.0)
    with pytest.raises(GenbenchError, match="unknown path-length distance"):
        perceptual_path_length(paths, 10, distance="ssim")
    monkeypatch.delenv("GENBENCH_LPIPS_WEIGHTS", raising=False)
    with pytest.raises(GenbenchError, match="LPIPS weights not found.*never downloads"):
        perceptual_path_length(paths, 10, distance="lpips")


def test_a_trained_stylegan_has_z_and_w_path_lengths_recorded_with_their_distance(tmp_path, monkeypatch):
    monkeypatch.delenv("GENBENCH_LPIPS_WEIGHTS", raising=False)
    o = dict(channels=8, z_dim=8, w_dim=8, mapping_layers=2, batch_size=8, log_every=1)
    model = baselines.load(baselines.train("stylegan", make_images(), out_dir=tmp_path / "s", overrides=o, steps=1,
                                           progress=False))
    with torch.no_grad():
        model.nets["G_ema"].synthesis.layers[3].noise_weight.fill_(1.0)  # noise matters, yet is shared per pair
    pz = perceptual_path_length(model, 40, space="z", batch_size=16)
    pw = perceptual_path_length(model, 40, space="w", sampling="end", batch_size=16)
    for r in (pz, pw):  # without LPIPS weights, 'auto' falls back to the classifier, and says so
        assert r.params["distance"].startswith("mnist-classifier features") and r.params["extractor"]["name"]
        assert np.isfinite(r.value) and r.value > 0
    assert pz.name == "ppl_z_full" and pw.name == "ppl_w_end"
    assert perceptual_path_length(model, 40, space="z", batch_size=16).value == pz.value  # seeded
