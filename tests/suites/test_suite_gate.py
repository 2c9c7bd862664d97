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
