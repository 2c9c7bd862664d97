"""The suites shipped in suites/ validate against the real registries, in both profiles."""

from pathlib import Path

import pytest

import baselines
from genbench.data import DATASETS
from genbench.suite import load_suite

SUITES = sorted((Path(__file__).resolve().parents[1] / "suites").glob("*.yaml"))


def test_the_three_documented_suites_ship():
    assert {p.stem for p in SUITES} >= {"mnist", "toy2d", "stacked-mnist"}


@pytest.mark.parametrize("profile", ["quick", "full"])
@pytest.mark.parametrize("path", SUITES, ids=lambda p: p.stem)
def test_shipped_suite_is_valid(path, profile):
    suite = load_suite(path, profile)
    assert suite.name == path.stem
    for ds in suite.datasets:
        kind = DATASETS[ds].kind
        for m in suite.models:
            assert kind in baselines.MODELS[m.model].kinds, f"{path.name}: {m.label} cannot train on {ds}"
    if profile == "quick":
        assert suite.seeds and suite.steps  # quick must bound training explicitly (CPU budget)


def test_mnist_suite_covers_every_image_baseline_and_the_issue_metrics():
    suite = load_suite(SUITES[0].parent / "mnist.yaml")
    builtin = {"gan", "dcgan", "cgan", "ae", "vae", "aae", "unrolled-gan", "minibatch-gan"}
    assert {m.model for m in suite.models} == builtin
    assert set(suite.evaluation.metrics) == {"fid", "kid", "is", "prdc", "parzen", "modes", "memorized", "psnr", "ssim"}
    assert suite.evaluation.extractor == "mnist-classifier" and suite.evaluation.bootstrap > 0
