"""Suite YAML → typed Suite: profiles resolve, and every mistake names the file, line and key."""

import re

import pytest

from suite_fakes import SUITE_YAML
from genbench.suite import SuiteError, check_overrides, load_suite, parse_suite


def test_quick_profile_resolves(suite_file, registries):
    s = load_suite(suite_file, registries=registries)
    assert s.profile == "quick" and s.name == "fake" and s.datasets == ("digits",)
    assert s.seeds == (0, 1) and s.steps == 20
    assert [m.label for m in s.models] == ["good-gan", "bad-gan", "fake-ae"]
    assert s.models[1].overrides == {"quality": 0.1}
    assert s.evaluation.n == 50 and s.evaluation.extractor == "fake-extractor"
    assert s.evaluation.columns == ("fid", "is", "psnr", "ssim")
    assert s.evaluation.sample_metrics == ("fid", "is")
    assert s.rank_by == "fid"


def test_full_profile_overrides_seeds_steps_eval_and_one_model(suite_file, registries):
    s = load_suite(suite_file, "full", registries=registries)
    assert s.seeds == (0, 1, 2) and s.steps == 1000 and s.evaluation.n == 100 and s.evaluation.bootstrap == 10
    assert s.datasets == ("digits", "toy")
    assert s.model("bad-gan").steps == 5 and s.model("good-gan").steps is None
    assert s.evaluation.split == "test"  # untouched keys keep the top-level value


def _err(text, registries, profile="quick"):
    with pytest.raises(SuiteError) as exc:
        parse_suite(text, "suites/x.yaml", profile, registries=registries)
    return str(exc.value)


@pytest.mark.parametrize("old,new,expected", [
    ("  n: 50\n", "  n: lots\n", r"^suites/x\.yaml:\d+: evaluation\.n: expected an integer, got 'lots'"),
    ("  - model: fake-ae\n", "  - model: stylegan9\n", r"^suites/x\.yaml:13: models\[2\]\.model: unknown model 'stylegan9'; known: fake-ae, fake-gan"),
    ("metrics: [fid, is, psnr, ssim]", "metrics: [fid, fidd]", r"evaluation\.metrics\[1\]: unknown metric 'fidd'"),
    ("dataset: digits", "dataset: cifar", r"^suites/x\.yaml:3: dataset: unknown dataset 'cifar'"),
    ("seeds: [0, 1]\nsteps", "seeds: [0, 1]\nsteeps: 3\nsteps", r"^suites/x\.yaml:5: steeps: unknown key; allowed here:"),
    ("    overrides: {quality: 0.1}", "    overrides: {quality: 0.1, lr: [1, {a: 2}]}", r"models\[1\]\.overrides\.lr: expected a number"),
    ("      bad-gan: {steps: 5}", "      worse-gan: {steps: 5}", r"profiles\.full\.models\.worse-gan: unknown key; allowed here: good-gan, bad-gan, fake-ae"),
    ("    evaluation: {n: 100, bootstrap: 10}", "    evaluation: {n: 100, extractor: inception}", r"profiles\.full\.evaluation\.extractor: unknown extractor 'inception'"),
    ("  real_split: train", "  real_split: test", r"evaluation\.real_split: the real-data row must come from a split other than"),
    ("    label: bad-gan", "    label: good-gan", r"models\[1\]: two models are labelled 'good-gan'"),
    ("seeds: [0, 1]\n", "seeds: [0, 0]\n", r"seeds: a seed is listed twice"),
    ("    datasets: [digits, toy]", "    datasets: [digits, cifar]", r"profiles\.full\.datasets\[1\]: unknown dataset 'cifar'"),
    ("bootstrap: 10", "bootstrap: -1", r"profiles\.full\.evaluation\.bootstrap: must be at least 0, got -1"),
    ("steps: 20", "steps: true", r"steps: expected an integer, got the boolean true"),
])
def test_mistakes_name_file_line_and_key(registries, old, new, expected):
    assert old in SUITE_YAML
    msg = _err(SUITE_YAML.replace(old, new, 1), registries)
    assert re.search(expected, msg), msg


def test_broken_full_profile_fails_even_when_running_quick(registries):
    # A typo in `full` must not hide until someone rents a GPU.
    msg = _err(SUITE_YAML.replace("    steps: 1000", "    steps: many"), registries, "quick")
    assert "profiles.full.steps: expected an integer, got 'many'" in msg


def test_malformed_yaml_names_file_and_line(registries):
    msg = _err("name: x\nmodels: [a, b\nevaluation: {}\n", registries)
    assert msg.startswith("suites/x.yaml:3:") and "malformed YAML" in msg


def test_duplicate_key_is_an_error(registries):
    msg = _err(SUITE_YAML.replace("steps: 20", "steps: 20\nsteps: 30"), registries)
    assert "steps: duplicate key" in msg


def test_missing_file_and_unknown_profile(tmp_path, suite_file, registries):
    with pytest.raises(SuiteError, match="no such suite file"):
        load_suite(tmp_path / "nope.yaml", registries=registries)
    with pytest.raises(SuiteError, match="unknown profile 'medium'"):
        load_suite(suite_file, "medium", registries=registries)


def test_overrides_checked_against_the_baseline_config(suite_file, registries):
    from suite_fakes import FakeConfig

    s = load_suite(suite_file, registries=registries)
    merged = check_overrides(s, "bad-gan", FakeConfig())
    assert merged == {"quality": 0.1, "width": 8, "explode": False, "sleep_s": 0.0}
    bad = parse_suite(SUITE_YAML.replace("{quality: 0.1}", "{quality: fast}"), "suites/x.yaml", registries=registries)
    with pytest.raises(SuiteError, match=r"suites/x\.yaml: models\[bad-gan\]\.overrides\.quality: expected a number, got 'fast'"):
        check_overrides(bad, "bad-gan", FakeConfig())
    bad = parse_suite(SUITE_YAML.replace("{quality: 0.1}", "{qualty: 0.1}"), "suites/x.yaml", registries=registries)
    with pytest.raises(SuiteError, match="qualty: unknown config key for model 'fake-gan'; known: explode, quality"):
        check_overrides(bad, "bad-gan", FakeConfig())
    bad = parse_suite(SUITE_YAML.replace("{quality: 0.1}", "{width: 2.5}"), "suites/x.yaml", registries=registries)
    with pytest.raises(SuiteError, match="width: expected an integer, got 2.5"):
        check_overrides(bad, "bad-gan", FakeConfig())
