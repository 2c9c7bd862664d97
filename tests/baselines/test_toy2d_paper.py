"""suites/toy2d-paper.yaml: the PacGAN/VEEGAN mode-collapse tables' settings, and their mode rule."""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

import baselines
from genbench.metrics.modes import mode_coverage_2d
from genbench.overrides import apply_overrides
from genbench.suite import _dataset_for_config, load_suite

SUITE = Path(__file__).resolve().parents[2] / "suites" / "toy2d-paper.yaml"

# Typed from fjxmlzn/PacGAN synthetic_data_experiments/2DRing_GAN&PacGAN/config.py and
# pacgan_task.py (the grid's config is identical apart from the mixture).
PACGAN = dict(z_dim=2, batch_size=100, lr_g=1e-4, lr_d=1e-4, beta1=0.8, g_hidden=(400, 400, 400, 400),
              g_batchnorm=True, d_hidden=(200, 200, 200), d_activation="maxout", maxout_pieces=5,
              init_std=0.02, generator_loss="non-saturating", z_dist="gaussian")


def _configs(profile):
    suite = load_suite(SUITE, profile)
    out = {}
    for d in suite.datasets:
        for m in suite.models:
            default = baselines.default_config(m.model, _dataset_for_config(d), profile)
            out[d, m.label] = (m, apply_overrides(default, m.overrides))
    return suite, out


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_every_model_of_the_paper_suite_builds_with_the_papers_settings(profile):
    suite, configs = _configs(profile)
    assert suite.datasets == ("ring8", "grid25") and len(suite.seeds) >= 5 and suite.evaluation.n == 2500
    assert {label for _, label in configs} == {"gan", "pacgan2", "unrolled-gan", "minibatch-gan"}
    for (d, label), (m, cfg) in configs.items():
        spec = baselines.get_spec(m.model)
        spec.build(cfg)  # the networks exist at these sizes
        if label in ("gan", "pacgan2", "minibatch-gan"):
            assert {k: asdict(cfg)[k] for k in PACGAN} == PACGAN, (d, label)
            assert cfg.pack == (2 if label == "pacgan2" else 1)
        if label == "minibatch-gan":
            assert (cfg.n_kernels, cfg.kernel_dim) == (100, 5)
        if label == "unrolled-gan":  # Metz et al. 2017, appendix A
            assert (cfg.z_dim, cfg.batch_size, cfg.unroll_steps, cfg.g_hidden, cfg.d_hidden) == (256, 512, 5, (128, 128), (128,))
            assert (cfg.lr_g, cfg.lr_d, cfg.beta1, cfg.generator_loss) == (1e-4, 1e-4, 0.5, "saturating")
    if profile == "full":  # 400 epochs of 100,000 samples at batch 100
        assert suite.steps == 400_000 and suite.model("unrolled-gan").steps == 25_000


def _pacgan_metric_logger(points, means, std, thre=3.0):
    """PacGAN's MetricLogger rule, rewritten as a plain loop: nearest mode by the σ-scaled
    distance, high quality when that distance is below ``thre``, a mode counts with ≥ 1 such point."""
    detail = [0] * len(means)
    for p in points:
        dists = [math.sqrt(((p[0] - m[0]) ** 2 + (p[1] - m[1]) ** 2) / std**2) for m in means]
        j = min(range(len(means)), key=dists.__getitem__)
        if dists[j] < thre:
            detail[j] += 1
    return sum(1 for c in detail if c > 0), sum(detail) / len(points)


@pytest.mark.parametrize("kind", ["ring", "grid"])
def test_mode_rule_is_the_one_pacgan_and_veegan_count(kind):
    rng = np.random.default_rng(3)
    if kind == "ring":
        means = np.array([[math.cos(2 * math.pi * i / 8), math.sin(2 * math.pi * i / 8)] for i in range(8)])
        std = 0.01
    else:
        means = np.array([[i, j] for i in range(-4, 5, 2) for j in range(-4, 5, 2)], dtype=float)
        std = 0.05
    # a collapsed-ish generator: half the modes, some points near them, some diffuse
    centres = means[rng.choice(len(means), size=600)[: 600] % (len(means) // 2)]
    pts = np.concatenate([centres + rng.normal(0, 2.5 * std, centres.shape), rng.uniform(-5, 5, (400, 2))])
    got = {r.name: r.value for r in mode_coverage_2d(pts, means, std)}
    modes, hq = _pacgan_metric_logger(pts, means, std)
    assert got["modes"] == modes and got["high_quality"] == pytest.approx(hq, abs=1e-12)
    assert 0 < modes < len(means) and 0.2 < hq < 0.7  # the case exercises both outcomes


def _table_script():
    import importlib.util

    path = SUITE.parents[1] / "scripts" / "mode_collapse_table.py"
    spec = importlib.util.spec_from_file_location("mode_collapse_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_table_script_reads_every_curve_step_and_counts_each_seed_once():
    table = _table_script()

    def result(seed, modes, hq):  # modes/hq: values at steps 1500 and 3000 (the final step)
        return {"job": {"dataset": "ring8", "label": "gan", "model": "gan", "seed": seed}, "steps": 3000,
                "metrics": [{"name": "modes", "value": modes[1]}, {"name": "high_quality", "value": hq[1]}],
                "metric_curve": {"step": [1500, 3000], "metrics": {"modes": {"value": modes}, "high_quality": {"value": hq}}}}

    results = [result(0, [6.0, 8.0], [0.2, 0.5]), result(1, [8.0, 7.0], [0.4, 0.7])]
    curve = table._curve_results(results)
    assert sorted(curve) == [1500, 3000] and all(len(v) == 2 for v in curve.values())
    (early,) = table.rows([], curve[1500])
    assert early["n"] == 2 and early["modes"] == pytest.approx((7.0, math.sqrt(2)))
    assert early["hq"] == pytest.approx((30.0, 100 * math.sqrt(0.02)))  # std of 0.2, 0.4 (ddof 1)
    (final,) = table.rows([], results)
    assert final["modes"] == pytest.approx((7.5, math.sqrt(0.5))) and final["hq"][0] == pytest.approx(60.0)
