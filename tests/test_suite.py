"""Suite YAML → typed Suite: profiles resolve, and every mistake names the file, line and key."""

import re
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest
import yaml

from suite_fakes import SUITE_YAML
from genbench.errors import GenbenchError
from genbench.overrides import apply_overrides
from genbench.suite import Registries, SuiteError, load_suite, parse_suite


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


def test_a_model_may_train_zero_steps_and_keeps_them_over_the_suite_default(tmp_path, registries):
    """A training-free model (bicubic) says steps: 0 (the runner then passes 0, not the suite's)."""
    path = tmp_path / "zero.yaml"
    path.write_text(SUITE_YAML.replace("      bad-gan: {steps: 5}", "      bad-gan: {steps: 0}"))
    s = load_suite(path, "full", registries=registries)
    assert s.model("bad-gan").steps == 0 and s.steps == 1000


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

    """The suite's overrides go through apply_overrides, the path the runner uses."""
    s = load_suite(suite_file, registries=registries)
    where = "suites/x.yaml: models[bad-gan].overrides"
    merged = apply_overrides(FakeConfig(), s.model("bad-gan").overrides, where)
    assert asdict(merged) == {"quality": 0.1, "width": 8, "explode": False, "sleep_s": 0.0}
    with pytest.raises(GenbenchError, match=r"suites/x\.yaml: models\[bad-gan\]\.overrides\.quality: must be a number, got 'fast'"):
        apply_overrides(FakeConfig(), {"quality": "fast"}, where)
    with pytest.raises(GenbenchError, match="qualty: unknown config key for FakeConfig; valid keys: explode, quality"):
        apply_overrides(FakeConfig(), {"qualty": 0.1}, where)
    with pytest.raises(GenbenchError, match="width: must be an integer, got 2.5"):
        apply_overrides(FakeConfig(), {"width": 2.5}, where)


# --------------------------------------------------------------------------- checked at load (issue 8)


@pytest.fixture
def checking_registries():
    """Fake registries that also know each dataset's kind and each model's default config."""
    from suite_fakes import FAKE_REGISTRIES_KW, FakeConfig

    return Registries(**FAKE_REGISTRIES_KW, dataset_kinds={"toy": "points", "digits": "image"},
                      default_config=lambda model, dataset, profile: FakeConfig())


# The fake suite without its points dataset, so that fid/is/psnr/ssim fit every dataset.
IMAGE_ONLY = SUITE_YAML.replace("    datasets: [digits, toy]\n", "")


def _line_of(text, needle):
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_checked_suite_loads(checking_registries):
    s = parse_suite(IMAGE_ONLY, "suites/x.yaml", "full", registries=checking_registries)
    assert s.datasets == ("digits",) and s.model("bad-gan").overrides == {"quality": 0.1}


@pytest.mark.parametrize("value,message", [
    ("32.0", "must be an integer, got 32.0"),  # passed validation and then failed every job
    ("0", "must be between 1 and 65,536 (a size), got 0"),
    ("-8", "must be between 1 and 65,536 (a size), got -8"),
    ("[abc]", "must be an integer, got the list ['abc']"),
])
def test_override_mistakes_fail_at_load_with_file_line_and_key(checking_registries, value, message):
    text = IMAGE_ONLY.replace("{quality: 0.1}", f"{{quality: 0.1, width: {value}}}")
    msg = _err(text, checking_registries)
    line = _line_of(text, "width:")
    assert msg.startswith(f"suites/x.yaml:{line}: models[1].overrides.width: {message}"), msg


def test_nan_override_names_file_line_and_key(checking_registries):
    text = IMAGE_ONLY.replace("{quality: 0.1}", "{quality: .nan}")
    msg = _err(text, checking_registries)
    assert msg.startswith(f"suites/x.yaml:{_line_of(text, '.nan')}: models[1].overrides.quality: must be a finite number"), msg


def test_a_profile_override_is_blamed_on_the_profile_line(checking_registries):
    text = IMAGE_ONLY.replace("      bad-gan: {steps: 5}", "      bad-gan: {steps: 5, overrides: {explode: 1}}")
    msg = _err(text, checking_registries, "quick")  # a broken `full` fails a quick run too
    line = _line_of(text, "explode: 1")
    assert msg.startswith(f"suites/x.yaml:{line}: profiles.full.models.bad-gan.overrides.explode: must be true or false"), msg


def test_a_model_that_cannot_take_a_dataset_fails_at_load(checking_registries):
    from genbench.errors import GenbenchError

    def default_config(model, dataset, profile):
        if model == "fake-ae" and dataset == "toy":
            raise GenbenchError("model 'fake-ae' does not support points data")
        return checking_registries.default_config(model, dataset, profile)

    reg = Registries(**{**checking_registries.__dict__, "default_config": default_config, "dataset_kinds": None})
    msg = _err(SUITE_YAML, reg)
    assert msg.startswith(f"suites/x.yaml:{_line_of(SUITE_YAML, 'model: fake-ae')}: models[2].model: model 'fake-ae' "
                          "does not support points data (profile full, profiles.full.datasets)"), msg


def test_a_metric_that_does_not_fit_the_data_kind_fails_at_load(checking_registries):
    msg = _err(SUITE_YAML, checking_registries)  # `full` adds the points dataset `toy`; fid scores images
    line = _line_of(SUITE_YAML, "metrics:")
    assert msg.startswith(f"suites/x.yaml:{line}: evaluation.metrics[0]: metric 'fid' scores image/voxels data, "
                          "but dataset 'toy' (profiles.full.datasets) holds points data"), msg


@pytest.mark.parametrize("seeds,message", [
    ("[18446744073709551616]", "seeds[0]: must be at most 18446744073709551615"),  # 2**64
    ("[-1]", "seeds[0]: must be at least 0"),
    ("[1.5]", "seeds[0]: expected an integer, got 1.5"),
])
def test_seeds_that_cannot_seed_torch_fail_at_load(registries, seeds, message):
    msg = _err(SUITE_YAML.replace("seeds: [0, 1]\nsteps", f"seeds: {seeds}\nsteps"), registries)
    assert msg.startswith("suites/x.yaml:4: " + message), msg


def test_recursive_alias_is_a_one_line_error(registries):
    msg = _err(SUITE_YAML + "x: &a [1, *a]\n", registries)
    assert "x[1]: recursive alias" in msg and "\n" not in msg


def test_deep_nesting_is_a_one_line_error(registries):
    msg = _err(SUITE_YAML + "x: " + "[" * 5000 + "]" * 5000 + "\n", registries)
    assert "nested more than 64 levels deep" in msg


_BOMB = "\n".join(["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
                  + [f"{c}: &{c} [{', '.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")])


def test_alias_bomb_fails_fast_in_bounded_memory(tmp_path):
    """A billion laughs (9**9 values) is refused while composing; the check runs in a child with a
    1 GiB address-space allowance, so a regression fails this test instead of taking the machine down."""
    (tmp_path / "bomb.yaml").write_text("name: bomb\ndataset: digits\nmodels: [fake-gan]\nevaluation: {}\n" + _BOMB)
    code = f"""
import re, resource, sys
sys.path.insert(0, {str(Path(__file__).parent / 'helpers')!r})
from suite_fakes import FAKE_REGISTRIES_KW
from genbench.suite import Registries, SuiteError, load_suite
vm = int(re.search(r"VmSize:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) * 1024
resource.setrlimit(resource.RLIMIT_AS, (vm + (1 << 30), vm + (1 << 30)))  # 1 GiB more than the imports
try:
    load_suite({str(tmp_path / 'bomb.yaml')!r}, registries=Registries(**FAKE_REGISTRIES_KW))
except SuiteError as exc:
    print(exc)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parents[1])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "the document expands to more than 10,000 values (an alias bomb?)" in proc.stdout, proc.stdout


def test_an_oversized_file_is_refused_unread(tmp_path, registries):
    p = tmp_path / "big.yaml"
    p.write_text("# " + "x" * (1 << 20) + "\n")
    with pytest.raises(SuiteError, match="larger than 1,048,576 bytes"):
        load_suite(p, registries=registries)


def test_metric_names_and_columns_come_from_the_registry(suite_file, registries):
    from genbench.metrics.registry import METRICS, columns_of

    s = load_suite(suite_file, registries=registries)
    assert s.evaluation.columns == columns_of(s.evaluation.metrics)
    assert s.evaluation.reconstruction_metrics == ("psnr", "ssim") and s.evaluation.sample_metrics == ("fid", "is")
    msg = _err(SUITE_YAML.replace("metrics: [fid, is, psnr, ssim]", "metrics: [fid, nope]"), registries)
    assert "known: " + ", ".join(sorted(METRICS)) in msg


# --------------------------------------------------------------------------- the real registries


REAL = """\
name: real
datasets: [ring8]
models:
  - model: gan
    overrides: OVERRIDES
evaluation:
  metrics: [METRICS]
"""


def _real(overrides="{}", metrics="modes", profile="quick"):
    return parse_suite(REAL.replace("OVERRIDES", overrides).replace("METRICS", metrics), "suites/r.yaml", profile)


def test_real_registries_check_overrides_and_metric_kinds():
    assert _real("{g_hidden: [16, 16], batch_size: 32}").models[0].overrides["batch_size"] == 32
    cases = [
        ("{batch_size: 32.0}", "modes", "suites/r.yaml:5: models[0].overrides.batch_size: must be an integer, got 32.0"),
        ("{g_hidden: [abc]}", "modes", "suites/r.yaml:5: models[0].overrides.g_hidden[0]: must be an integer, got 'abc'"),
        ("{g_hidden: [-16]}", "modes", "suites/r.yaml:5: models[0].overrides.g_hidden[0]: must be between 1"),
        ("{g_hidden: [1.5, 2]}", "modes", "suites/r.yaml:5: models[0].overrides.g_hidden[0]: must be an integer, got 1.5"),
        ("{lr_g: .nan}", "modes", "suites/r.yaml:5: models[0].overrides.lr_g: must be a finite number, got nan"),
        ("{z_dist: cauchy}", "modes", "suites/r.yaml:5: models[0].overrides.z_dist: is invalid"),
        ("{}", "modes, fid_inf", "suites/r.yaml:7: evaluation.metrics[1]: metric 'fid_inf' scores image/voxels data, "
                                 "but dataset 'ring8' (datasets) holds points data"),
    ]
    for overrides, metrics, expected in cases:
        with pytest.raises(SuiteError) as exc:
            _real(overrides, metrics)
        assert str(exc.value).startswith(expected), str(exc.value)


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[1] / "suites").glob("*.yaml")))
def test_shipped_suites_pass_the_load_time_checks(path):
    import baselines
    from genbench.data import dataset_spec, expand_dataset_pattern

    raw = yaml.safe_load(path.read_text())
    names = list(dict.fromkeys(m if isinstance(m, str) else m["model"] for m in raw["models"]))
    missing = [m for m in names if m not in baselines.MODELS] + [
        d for d in ([raw["dataset"]] if "dataset" in raw else raw["datasets"])
        if dataset_spec(d) is None and expand_dataset_pattern(d) is None]  # sr4:* : the folders found, maybe none
    if missing:  # the image-to-image suites before their models and datasets are merged
        pytest.skip(f"{path.name} names {', '.join(missing)}, not registered in this checkout")
    for profile in ("quick", "full"):
        load_suite(path, profile)


def test_profiles_are_defined_once():
    import baselines.spec
    import genbench.profiles
    import genbench.suite

    assert baselines.spec.PROFILES is genbench.profiles.PROFILES is genbench.suite.PROFILES


def test_an_integer_too_long_to_convert_is_a_one_line_error(registries):
    msg = _err(SUITE_YAML.replace("steps: 20", "steps: " + "9" * 5000), registries)
    assert msg.startswith("suites/x.yaml: malformed YAML: Exceeds the limit") and "\n" not in msg


def test_real_registries_refuse_oversized_networks_and_foreign_shapes():
    # Each width is under the per-field limit; together they are billions of parameters.
    with pytest.raises(SuiteError, match=r"^suites/r\.yaml:5: models\[0\]\.overrides\.g_hidden: config describes "
                                         r"[\d,]+ parameters for model 'gan'; the limit is 100,000,000 \(model gan"):
        _real("{g_hidden: [60000, 60000, 60000]}")
    with pytest.raises(SuiteError, match=r"^suites/r\.yaml:5: models\[0\]\.overrides\.data_shape: config is for "
                                         r"points data of shape \(3,\) but dataset 'ring8' holds points data of shape \(2,\)"):
        _real("{data_shape: [3]}")


# ---------------------------------------------------------------- model metrics, truncation, captions

SCALED = """name: s
dataset: mnist-5k
models:
  - MODEL
evaluation:
  metrics: [fid, ppl, truncation_sweep]
  PARAMS
"""


def _scaled(model="stylegan", params="params: {ppl: {n: 50}}"):
    return parse_suite(SCALED.replace("MODEL", model).replace("PARAMS", params), "suites/s.yaml", "quick")


def test_model_metrics_are_scored_apart_from_samples_and_take_suite_params():
    ev = _scaled().evaluation
    assert ev.sample_metrics == ("fid",) and ev.model_metrics == ("ppl", "truncation_sweep")
    assert ev.metric_params("ppl") == {"n": 50, "epsilon": 1e-4, "spaces": ["z", "w"], "samplings": ["full", "end"],
                                       "distance": "auto", "batch_size": 250}
    assert ev.metric_params("truncation_sweep")["psis"] == [1.0, 0.8, 0.6, 0.4, 0.2]
    assert ev.to_dict()["params"] == {"ppl": {"n": 50}}


@pytest.mark.parametrize("params, expected", [
    ("params: {fid: {n: 5}}", "suites/s.yaml:7: evaluation.params.fid: only the model metrics (ppl, truncation_sweep, "
                              "edit_accuracy, stage1) take parameters from a suite"),
    ("params: {ppl: {steps: 5}}", "suites/s.yaml:7: evaluation.params.ppl.steps: unknown key; allowed here: n, epsilon"),
    ("params: {ppl: {spaces: [x]}}", "suites/s.yaml:7: evaluation.params.ppl: ppl spaces must be a non-empty list of z, w"),
    ("params: {truncation_sweep: {psis: [1.0, 1.5]}}",
     "suites/s.yaml:7: evaluation.params.truncation_sweep: truncation ψ must be in (0, 1], got 1.5"),
    ("params: {truncation_sweep: {psis: [0, 0.5]}}",
     "suites/s.yaml:7: evaluation.params.truncation_sweep: truncation ψ must be in (0, 1], got 0"),
    ("params: {edit_accuracy: {n: 5}}",
     "suites/s.yaml:7: evaluation.params.edit_accuracy: metric 'edit_accuracy' is not in this evaluation's metrics"),
])
def test_model_metric_params_are_checked_at_load(params, expected):
    with pytest.raises(SuiteError) as exc:
        _scaled(params=params)
    assert str(exc.value).startswith(expected), str(exc.value)


def test_truncation_psi_outside_0_1_in_a_suite_is_a_one_line_error():
    for psi in ("1.5", "0", "-0.5"):
        with pytest.raises(SuiteError) as exc:
            _scaled(model=f"{{model: biggan, overrides: {{truncation_psi: {psi}}}}}", params="")
        msg = str(exc.value)
        assert msg.startswith("suites/s.yaml:4: models[0].overrides.truncation_psi: is invalid: truncation_psi must be "
                              "in (0, 1]") and "\n" not in msg, msg


def test_captions_for_a_dataset_without_them_is_a_one_line_error_in_a_suite():
    with pytest.raises(SuiteError) as exc:
        _scaled(model="stackgan", params="")
    assert str(exc.value) == ("suites/s.yaml:4: models[0].model: model 'stackgan' conditions on captions but dataset "
                              "'mnist-5k' has none (profile quick, dataset)")


@pytest.mark.parametrize("args, expected", [
    (["train", "stackgan", "--dataset", "mnist-5k"], "genbench train: error: model 'stackgan' conditions on captions "
                                                     "but dataset 'mnist-5k' has none"),
    (["train", "stylegan", "--dataset", "mnist-5k", "--set", "truncation_psi=1.5"],
     "genbench train: error: config key 'truncation_psi' is invalid: truncation_psi must be in (0, 1], got 1.5"),
])
def test_the_train_command_refuses_captionless_data_and_truncation_outside_0_1_in_one_line(args, expected, tmp_path):
    out = subprocess.run([sys.executable, "-m", "genbench", *args, "--out", str(tmp_path / "ck"), "--steps", "1"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode != 0 and out.stderr.strip().splitlines()[-1] == expected, out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "ck").exists()  # refused before training: no empty output folder left behind
