"""Precision, recall, density, coverage against the authors' `prdc` package."""

import numpy as np
import pytest
import torch
from prdc import compute_prdc

from genbench.metrics import prdc


@pytest.mark.parametrize("shift, k", [(0.0, 5), (0.7, 3), (2.0, 10)])
def test_matches_the_prdc_package(shift, k, capsys):
    rng = np.random.default_rng(int(shift * 10) + k)
    real = rng.standard_normal((300, 16))
    fake = 1.2 * rng.standard_normal((250, 16)) + shift
    ref = compute_prdc(real, fake, nearest_k=k)
    capsys.readouterr()  # compute_prdc prints the sample counts
    got = {r.name: r.value for r in prdc(real, fake, k=k)}
    assert list(got) == ["precision", "recall", "density", "coverage"]
    assert got == pytest.approx({name: float(v) for name, v in ref.items()}, rel=1e-12)


def test_torch_float32_input():
    rng = np.random.default_rng(9)
    real, fake = rng.standard_normal((120, 8)).astype(np.float32), rng.standard_normal((90, 8)).astype(np.float32)
    ref = compute_prdc(real.astype(np.float64), fake.astype(np.float64), nearest_k=4)
    got = {r.name: r.value for r in prdc(torch.from_numpy(real), torch.from_numpy(fake), k=4)}
    assert got == pytest.approx({name: float(v) for name, v in ref.items()}, rel=1e-12)


def test_bad_input():
    rng = np.random.default_rng(10)
    real, fake = rng.standard_normal((5, 4)), rng.standard_normal((20, 4))
    with pytest.raises(ValueError, match="k: 5 neighbours need more than 5 samples, real_features has 5"):
        prdc(real, fake, k=5)
    with pytest.raises(ValueError, match="real_features and fake_features: feature dimensions differ"):
        prdc(real, fake[:, :2], k=2)
    with pytest.raises(ValueError, match="k: must be at least 1"):
        prdc(real, fake, k=0)


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_huge_and_tiny_features_give_the_prdc_package_answer_for_unscaled_data(scale, capsys):
    """Issue 8 defect 11: squared distances of 1e200 features overflowed (all four were 0); PRDC is
    scale invariant, so the answer is the prdc package's on the unscaled features."""
    rng = np.random.default_rng(5)
    real, fake = rng.standard_normal((120, 8)), rng.standard_normal((100, 8)) + 0.4
    ref = compute_prdc(real, fake, nearest_k=4)
    capsys.readouterr()
    got = {r.name: r.value for r in prdc(real * scale, fake * scale, k=4)}
    assert got == pytest.approx({name: float(v) for name, v in ref.items()}, rel=1e-12)
