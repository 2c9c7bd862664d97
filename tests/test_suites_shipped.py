"""The suites shipped in suites/ validate against the real registries, in both profiles.

A suite naming a model or dataset this checkout does not register (the image-to-image suites
before their models and datasets land) is skipped by the full check, saying which names are
missing; its format, metrics and rank column are still checked with those names declared.
"""

from pathlib import Path

import pytest
import yaml

import baselines
from genbench.data import DATASETS, dataset_spec, expand_dataset_pattern
from genbench.suite import Registries, load_suite

SUITES = sorted((Path(__file__).resolve().parents[1] / "suites").glob("*.yaml"))
I2I_SUITES = ("sr", "pix2pix", "cyclegan", "inpainting", "spade")


def _names(path: Path) -> tuple[set[str], set[str]]:
    """The model and dataset names a suite file uses (every profile's)."""
    raw = yaml.safe_load(path.read_text())
    models = {m if isinstance(m, str) else m["model"] for m in raw["models"]}
    datasets: set[str] = set()
    for section in [raw, *(raw.get("profiles") or {}).values()]:
        for key in ("dataset", "datasets"):
            value = (section or {}).get(key)
            datasets |= {value} if isinstance(value, str) else set(value or [])
    return models, datasets


def _unregistered(path: Path) -> list[str]:
    models, datasets = _names(path)
    # a pattern (sr4:*) stands for the folders found under the data root: none here
    return sorted(m for m in models if m not in baselines.MODELS) + sorted(
        d for d in datasets if expand_dataset_pattern(d, "/nonexistent-genbench-root") is None and dataset_spec(d) is None)


def test_the_three_documented_suites_ship():
    assert {p.stem for p in SUITES} >= {"mnist", "toy2d", "stacked-mnist"}


@pytest.mark.parametrize("profile", ["quick", "full"])
@pytest.mark.parametrize("path", SUITES, ids=lambda p: p.stem)
def test_shipped_suite_is_valid(path, profile):
    missing = _unregistered(path)
    if missing:
        pytest.skip(f"{path.name} names {', '.join(missing)}, not registered in this checkout")
    suite = load_suite(path, profile)
    assert suite.name == path.stem
    for ds in suite.datasets:
        kind = dataset_spec(ds).kind
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


def test_the_image_to_image_suites_ship():
    assert {p.stem for p in SUITES} >= set(I2I_SUITES)


@pytest.mark.parametrize("profile", ["quick", "full"])
@pytest.mark.parametrize("name", I2I_SUITES)
def test_image_to_image_suite_parses_with_its_names_declared(name, profile):
    """Keys, metric names (the real metric registry), rank column and profiles, whether or not the
    models and datasets are registered yet (their configs are checked by the test above)."""
    path = SUITES[0].parent / f"{name}.yaml"
    models, datasets = _names(path)
    reg = Registries(models=tuple(models | set(baselines.MODELS)), datasets=tuple(datasets | set(DATASETS)))
    suite = load_suite(path, profile, registries=reg)
    assert suite.name == name and suite.rank_by in suite.evaluation.columns
    if profile == "quick":
        assert suite.seeds and suite.steps


def test_shapes3d_suite_scores_3dgan_with_the_voxel_classifier():
    suite = load_suite(SUITES[0].parent / "shapes3d.yaml")
    assert {m.model for m in suite.models} == {"3dgan"} and tuple(suite.datasets) == ("shapes3d",)
    assert suite.evaluation.extractor == "shapes3d-classifier"
    assert set(suite.evaluation.metrics) == {"fid", "kid", "is", "prdc", "modes"}  # parzen refuses voxels
