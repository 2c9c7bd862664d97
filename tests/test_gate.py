"""The CI gate and compare: rules, noise units, protocol refusal, exit codes, Markdown."""

import copy
import json

import pytest

from genbench.cli import main
from genbench.errors import GenbenchError
from genbench.gate import ProtocolMismatch, compare, parse_rule, run_gate

PROTO = {"dataset": {"name": "mnist-5k", "sha256": "a" * 64, "sizes": {"test": 500}},
         "extractor": {"name": "mnist-classifier", "weights_sha256": "b" * 64}, "n": 2000, "split": "test",
         "metrics": ["fid", "is"]}


def summary(fid=10.0, fid_noise=1.0, is_=9.0, is_noise=0.1, **proto):
    p = copy.deepcopy(PROTO)
    p.update(proto)
    rows = [
        {"dataset": "mnist-5k", "label": "dcgan", "model": "dcgan", "metric": "fid", "mean": fid, "std": fid_noise,
         "noise": fid_noise, "n_seeds": 1, "higher_is_better": False},
        {"dataset": "mnist-5k", "label": "dcgan", "model": "dcgan", "metric": "is", "mean": is_, "std": is_noise,
         "noise": is_noise, "n_seeds": 1, "higher_is_better": True},
    ]
    return {"format": "genbench-summary/1", "suite": "mnist", "protocols": {"mnist-5k": p}, "rows": rows,
            "provenance": {"git_commit": "abc"}}


@pytest.mark.parametrize("rule,current_fid,ok", [
    ("fid<=+5%", 10.5, True), ("fid<=+5%", 10.51, False),
    ("fid<=+2.0", 12.0, True), ("fid<=+2.0", 12.01, False),
    # sigma = hypot(1, 1) = 1.414 → limit 10 + 2.83
    ("fid<=+2sigma", 12.82, True), ("fid<=+2sigma", 12.84, False),
    ("fid<=+5%|2sigma", 12.82, True),  # the more lenient tolerance applies
    ("fid<=-1.0", 9.0, True), ("fid<=-1.0", 9.5, False),  # a required improvement
    ("dcgan:fid<=+0", 10.0, True), ("mnist-5k/dcgan:fid<=+0", 10.01, False),
])
def test_lower_is_better_rules(rule, current_fid, ok):
    res = run_gate(summary(), summary(fid=current_fid), [parse_rule(rule)])
    assert res.passed is ok and len(res.checks) == 1


@pytest.mark.parametrize("rule,current_is,ok", [
    ("is>=-5%", 8.55, True), ("is>=-5%", 8.54, False), ("is>=5%", 8.54, False),
    ("is>=-0.2", 8.8, True), ("is>=-1sigma", 8.86, True), ("is>=-1sigma", 8.855, False),
])
def test_higher_is_better_rules(rule, current_is, ok):
    assert run_gate(summary(), summary(is_=current_is), [parse_rule(rule)]).passed is ok


def test_default_rules_allow_max_of_5_percent_and_2_sigma():
    assert run_gate(summary(), summary()).passed  # an identical rerun passes
    assert run_gate(summary(), summary(fid=12.8)).passed  # within 2σ (2.83) though > 5 %
    res = run_gate(summary(), summary(fid=13.0, is_=8.0))
    assert not res.passed and {c.rule.metric for c in res.failures} == {"fid", "is"}
    quiet = run_gate(summary(fid_noise=0.0), summary(fid=10.6, fid_noise=0.0))
    assert [c.rule.metric for c in quiet.failures] == ["fid"]  # no noise: 5 % applies


def test_missing_metric_in_current_fails():
    cur = summary()
    cur["rows"] = cur["rows"][:1]
    res = run_gate(summary(), cur)
    assert [c.note for c in res.failures] == ["missing in current results"]


@pytest.mark.parametrize("change,needle", [
    ({"dataset": {"name": "mnist-5k", "sha256": "c" * 64}}, "dataset fingerprint"),
    ({"extractor": {"name": "inception-v3-fid", "weights_sha256": "b" * 64}}, "extractor"),
    ({"n": 1000}, "sample count n 2000 (baseline) ≠ 1000 (current)"),
])
def test_different_protocol_is_refused(change, needle):
    with pytest.raises(ProtocolMismatch, match="refusing to compare") as exc:
        run_gate(summary(), summary(**change))
    assert needle in str(exc.value)


@pytest.mark.parametrize("bad", ["fid", "fid<5%", "fid<=+5 percent", "fid<=+", "<=5%"])
def test_bad_rules_are_clear_errors(bad):
    with pytest.raises(GenbenchError, match="--rule"):
        parse_rule(bad)


def test_rule_for_absent_metric_is_an_error():
    with pytest.raises(GenbenchError, match="no baseline result has metric 'kid'"):
        run_gate(summary(), summary(), [parse_rule("kid<=+5%")])


def test_compare_flags_only_deltas_beyond_noise():
    deltas, diffs = compare(summary(), summary(fid=13.0, is_=9.05))
    by = {d.metric: d for d in deltas}
    assert by["fid"].delta == pytest.approx(3.0) and by["fid"].significant and by["fid"].verdict == "worse"
    assert not by["is"].significant and by["is"].verdict == "within noise"
    assert diffs == []
    _, diffs = compare(summary(), summary(n=10))
    assert len(diffs) == 1


def test_gate_cli_exit_codes_table_and_step_summary(tmp_path, monkeypatch, capsys):
    base, good, bad, other = (tmp_path / f"{n}.json" for n in ("base", "good", "bad", "other"))
    base.write_text(json.dumps(summary()))
    good.write_text(json.dumps(summary(fid=10.2)))
    bad.write_text(json.dumps(summary(fid=20.0)))
    other.write_text(json.dumps(summary(n=500)))
    md = tmp_path / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(md))
    assert main(["gate", "--baseline", str(base), "--current", str(good)]) == 0
    assert "PASSED" in capsys.readouterr().out
    assert main(["gate", "--baseline", str(base), "--current", str(bad), "--rule", "fid<=+5%"]) == 1
    out = capsys.readouterr().out
    assert "REGRESSION" in out and "fid<=+5%" in out and "FAILED: 1 regression" in out
    text = md.read_text()
    assert "✅ genbench gate PASSED" in text and "❌ genbench gate FAILED" in text and "| dataset | model |" in text
    assert main(["gate", "--baseline", str(base), "--current", str(other)]) == 2
    assert "refusing to compare" in capsys.readouterr().err
    assert main(["compare", str(base), str(bad)]) == 0
    assert "worse" in capsys.readouterr().out


# --------------------------------------------------------------------------- issue 8, defect 2


@pytest.mark.parametrize("rule", ["fid>=-5%", "fid>=+5%", "is<=+5%", "dcgan:fid>=-1sigma", "mode_kl>=-5%"])
def test_a_rule_against_the_metrics_better_direction_is_refused(rule):
    """`fid>=-5%` is a lower bound on a lower-is-better metric: it passed a 30 % worse FID."""
    with pytest.raises(GenbenchError, match=r"--rule .*: \w+ is better when (lower|higher)"):
        run_gate(summary(), summary(fid=13.0), [parse_rule(rule)])


def test_contradicting_rule_exits_2_with_one_line_through_the_cli(tmp_path, capsys):
    base, worse = tmp_path / "base.json", tmp_path / "worse.json"
    base.write_text(json.dumps(summary()))
    worse.write_text(json.dumps(summary(fid=13.0)))
    assert main(["gate", "--baseline", str(base), "--current", str(worse), "--rule", "fid>=-5%"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fid is better when lower" in err and "fid<=" in err


def test_unknown_metric_in_a_rule_is_refused_naming_the_known_columns():
    with pytest.raises(GenbenchError, match=r"unknown metric 'fdi'; known columns: .*fid.*kid"):
        run_gate(summary(), summary(), [parse_rule("fdi<=+5%")])


def test_a_metric_without_a_better_direction_takes_either_op():
    """A third-party column the registry does not know, recorded in the summaries without a direction."""
    def with_custom(value):
        s = summary()
        s["rows"].append({"dataset": "mnist-5k", "label": "dcgan", "model": "dcgan", "metric": "sharpness",
                          "mean": value, "std": 0.0, "noise": 0.0, "n_seeds": 1, "higher_is_better": None})
        return s
    assert run_gate(with_custom(1.0), with_custom(1.04), [parse_rule("sharpness<=+5%")]).passed
    assert run_gate(with_custom(1.0), with_custom(0.96), [parse_rule("sharpness>=-5%")]).passed
    # a recorded direction is honoured for a column the registry does not know
    s = with_custom(1.0)
    s["rows"][-1]["higher_is_better"] = True
    with pytest.raises(GenbenchError, match="sharpness is better when higher"):
        run_gate(s, s, [parse_rule("sharpness<=+5%")])


# --------------------------------------------------------------------------- issue 8, defect 5 (gate side)


def test_unwritable_markdown_is_one_line_exit_2_after_the_table(tmp_path, capsys):
    base = tmp_path / "base.json"
    base.write_text(json.dumps(summary()))
    for target in (tmp_path, tmp_path / "base.json" / "under-a-file.md"):  # a directory; under a file
        assert main(["gate", "--baseline", str(base), "--current", str(base), "--markdown", str(target)]) == 2
        out, err = capsys.readouterr()
        assert "PASSED" in out and "| dataset" not in out  # the verdict table was printed
        assert err.count("\n") == 1 and f"--markdown {target}: cannot write" in err
        assert main(["compare", str(base), str(base), "--markdown", str(target)]) == 2
        out, err = capsys.readouterr()
        assert "within noise" in out and err.count("\n") == 1 and "--markdown" in err


@pytest.mark.parametrize("current_fid, verdict", [(10.0, 0), (20.0, 1)])
def test_unwritable_step_summary_warns_and_keeps_the_gates_verdict(tmp_path, monkeypatch, capsys, current_fid, verdict):
    base, cur = tmp_path / "base.json", tmp_path / "cur.json"
    base.write_text(json.dumps(summary()))
    cur.write_text(json.dumps(summary(fid=current_fid)))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path))  # a directory: cannot be appended to
    assert main(["gate", "--baseline", str(base), "--current", str(cur)]) == verdict
    out, err = capsys.readouterr()
    assert ("PASSED" if verdict == 0 else "FAILED") in out
    assert "warning: $GITHUB_STEP_SUMMARY" in err and "cannot write" in err and "Traceback" not in err


# --------------------------------------------------------------------------- issue 8, defect 10


def _result():
    return {"format": "genbench-job-result/1", "suite": "t",
            "job": {"dataset": "mnist-5k", "label": "dcgan", "model": "dcgan", "seed": 0, "id": "mnist-5k/dcgan/seed0"},
            "metrics": [{"name": "fid", "value": 10.0, "std": 1.0, "ci": None, "params": {}}],
            "protocol": PROTO, "provenance": {"environment": {}}}


def _run_dir(tmp_path, manifest=None, result=None):
    run = tmp_path / "run"
    jdir = run / "jobs" / "mnist-5k" / "dcgan" / "seed0"
    jdir.mkdir(parents=True)
    manifest = manifest if manifest is not None else {"suite": {"name": "t"}, "jobs": [{"id": "mnist-5k/dcgan/seed0"}]}
    (run / "manifest.json").write_text(json.dumps(manifest))
    (jdir / "result.json").write_text(json.dumps(result if result is not None else _result()))
    return run


def _one_line_error(capsys, *needles):
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


def _drop(d, *keys):
    d = copy.deepcopy(d)
    target = d
    *path, last = keys
    for k in path:
        target = target[k]
    del target[last]
    return d


def _set(d, value, *keys):
    d = copy.deepcopy(d)
    target = d
    *path, last = keys
    for k in path:
        target = target[k]
    target[last] = value
    return d


@pytest.mark.parametrize("manifest, key", [
    ({"suite": {"name": "t"}}, "jobs: missing"),
    ({"suite": {"name": "t"}, "jobs": {"id": "x"}}, "jobs: expected a list, got dict"),
    ({"suite": {"name": "t"}, "jobs": [{"name": "x"}]}, "jobs[0].id: missing"),
    ({"suite": {"name": "t"}, "jobs": ["mnist-5k/dcgan/seed0"]}, "jobs[0]: expected a JSON object, got str"),
    ({"jobs": [{"id": "mnist-5k/dcgan/seed0"}]}, "suite: expected a JSON object, got null"),
    ([1, 2], "(top level): expected a JSON object, got list"),
])
def test_malformed_manifest_is_one_line_naming_file_and_key(tmp_path, capsys, manifest, key):
    run = _run_dir(tmp_path, manifest=manifest)
    base = tmp_path / "base.json"
    base.write_text(json.dumps(summary()))
    for argv in (["gate", "--baseline", str(base), "--current", str(run)], ["compare", str(run), str(base)],
                 ["report", str(run), "--out", str(tmp_path / "out")]):
        assert main(argv) == 2, argv
        _one_line_error(capsys, f"{run / 'manifest.json'}: {key}")


@pytest.mark.parametrize("result, key", [
    ([_result()], "(top level): expected a JSON object, got list"),
    (_drop(_result(), "job"), "job: expected a JSON object, got null"),
    (_drop(_result(), "job", "dataset"), "job.dataset: missing"),
    (_set(_result(), "0", "job", "seed"), "job.seed: expected an integer, got str"),
    (_set(_result(), {"name": "fid"}, "metrics"), "metrics: expected a list, got dict"),
    (_drop(_result(), "metrics", 0, "name"), "metrics[0].name: missing"),
    (_set(_result(), "10.0", "metrics", 0, "value"), "metrics[0].value: expected a number or null, got str"),
    (_drop(_result(), "provenance"), "provenance: expected a JSON object, got null"),
    (_set(_result(), "mnist", "protocol"), "protocol: expected a JSON object, got str"),
])
def test_malformed_result_is_one_line_naming_file_and_key(tmp_path, capsys, result, key):
    run = _run_dir(tmp_path, result=result)
    path = run / "jobs" / "mnist-5k" / "dcgan" / "seed0" / "result.json"
    base = tmp_path / "base.json"
    base.write_text(json.dumps(summary()))
    for argv in (["gate", "--baseline", str(base), "--current", str(run)], ["compare", str(run), str(base)],
                 ["report", str(run), "--out", str(tmp_path / "out")], ["compare", str(path), str(base)]):
        assert main(argv) == 2, argv
        # a bare list given to compare is "not a genbench summary or job result", also one line
        _one_line_error(capsys, f"{path}: {key}" if isinstance(result, dict) or argv[1] != str(path) else f"{path}: not")


@pytest.mark.parametrize("data, key", [
    (_drop(summary(), "rows"), "rows: missing"),
    (_set(summary(), {"fid": 1}, "rows"), "rows: expected a list, got dict"),
    (_set(summary(), "10.0", "rows", 0, "mean"), "rows[0].mean: expected a number or null, got str"),
    (_set(summary(), True, "rows", 1, "noise"), "rows[1].noise: expected a number or null, got bool"),
    (_set(summary(), float("nan"), "rows", 0, "mean"), "rows[0].mean: expected a finite number or null, got nan"),
    (_drop(summary(), "rows", 0, "metric"), "rows[0].metric: missing"),
    (_set(summary(), "x", "rows", 0), "rows[0]: expected a JSON object, got str"),
    (_set(summary(), "sha", "protocols", "mnist-5k", "dataset"), "protocols.mnist-5k.dataset: expected a JSON object"),
    (_set(summary(), [], "protocols"), "protocols: expected a JSON object, got list"),
    (_set(summary(), "abc", "provenance"), "provenance: expected a JSON object, got str"),
])
def test_malformed_summary_is_one_line_naming_file_and_key(tmp_path, capsys, data, key):
    bad, base = tmp_path / "bad.json", tmp_path / "base.json"
    bad.write_text(json.dumps(data))
    base.write_text(json.dumps(summary()))
    for argv in (["gate", "--baseline", str(bad), "--current", str(base)],
                 ["gate", "--baseline", str(base), "--current", str(bad)], ["compare", str(base), str(bad)]):
        assert main(argv) == 2, argv
        _one_line_error(capsys, f"{bad}: {key}")


def test_unreadable_stored_files_are_one_line(tmp_path, capsys):
    run = _run_dir(tmp_path)
    (run / "jobs" / "mnist-5k" / "dcgan" / "seed0" / "result.json").unlink()
    (run / "jobs" / "mnist-5k" / "dcgan" / "seed0" / "result.json").mkdir()  # a directory where a file should be
    assert main(["report", str(run), "--out", str(tmp_path / "out")]) == 2
    _one_line_error(capsys, "result.json: cannot read the result file")
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"format": "genbench-summary/1", "suite": "\xe9"}')
    assert main(["compare", str(bad), str(bad)]) == 2
    _one_line_error(capsys, f"{bad}: corrupt JSON file")


def test_the_well_formed_run_directory_these_tests_corrupt_is_accepted(tmp_path, capsys):
    run = _run_dir(tmp_path)
    base = tmp_path / "base.json"
    base.write_text(json.dumps(summary()))
    assert main(["compare", str(run), str(base)]) == 0
    assert main(["gate", "--baseline", str(base), "--current", str(run), "--rule", "fid<=+5%"]) == 0
    assert main(["report", str(run), "--out", str(tmp_path / "out")]) == 0, capsys.readouterr().err
