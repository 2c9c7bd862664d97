"""Metric curves (evaluation.every): intermediate checkpoints scored through the cached steps,
continuing one training run, whose final checkpoint is the uninterrupted run's."""

import json

import numpy as np
import pytest
from baseline_fixtures import make_points, tiny

import baselines
from baselines import checkpoint
from memo_backend import MemoBackend
from suite_fakes import FAKE_REGISTRIES_KW, SUITE_YAML
from genbench.errors import GenbenchError
from genbench.runner import Runner, _continue_from
from genbench.suite import Registries, parse_suite

REG = Registries(**FAKE_REGISTRIES_KW)
CURVE_YAML = SUITE_YAML.replace("  - model: fake-ae\n", "").replace("seeds: [0, 1]\n", "seeds: [0]\n").replace(
    "  n_reconstruct: 20\n", "  n_reconstruct: 20\n  every: 5\n")


def _run(tmp_path, text=CURVE_YAML, backend=None):
    suite = parse_suite(text, str(tmp_path / "s.yaml"), registries=REG)
    backend = backend or MemoBackend()
    summary = Runner(suite, tmp_path / "run", backend=backend, progress=False, echo=lambda s: None).run()
    return suite, backend, summary


def test_every_parses_and_lists_the_intermediate_steps(tmp_path):
    suite = parse_suite(CURVE_YAML, "s.yaml", registries=REG)
    assert suite.evaluation.every == 5 and suite.evaluation.curve_steps(20) == [5, 10, 15]
    listed = parse_suite(CURVE_YAML.replace("every: 5", "every: [12, 3, 40, 3]"), "s.yaml", registries=REG)
    assert listed.evaluation.curve_steps(20) == [3, 12] and listed.evaluation.to_dict()["every"] == [12, 3, 40, 3]
    for bad, msg in (("every: 0", "must be at least 1"), ("every: []", "non-empty list"), ("every: [2, x]", "every\\[1\\]")):
        with pytest.raises(GenbenchError, match=msg):
            parse_suite(CURVE_YAML.replace("every: 5", bad), "s.yaml", registries=REG)


def test_curve_points_are_scored_cached_and_recorded(tmp_path):
    _, backend, summary = _run(tmp_path)
    assert summary.ok
    jdir = tmp_path / "run/jobs/digits/good-gan/seed0"
    res = json.loads((jdir / "result.json").read_text())
    curve = res["metric_curve"]
    assert curve["step"] == [5, 10, 15, 20]
    final_fid = next(m["value"] for m in res["metrics"] if m["name"] == "fid")
    assert curve["metrics"]["fid"]["value"][-1] == final_fid  # the last point is the leaderboard's number
    assert len(set(curve["metrics"]["fid"]["value"])) == 4  # the fake's quality grows with steps
    assert curve["train_wall_s"] == sorted(curve["train_wall_s"])  # cumulative
    final_train = next(json.loads(p.read_text()) for p in jdir.glob("train-*.json") if not p.name.startswith("train-at-"))
    assert final_train["resumed_from_step"] == 15  # the final checkpoint continues the last curve stage
    trains = [c for c in backend.calls if c[0] == "train" and c[2] == "fake-gan"]
    assert len(trains) == 2 * 4  # two models × (3 curve stages + the final one continuing the last)
    evaluations = [c for c in backend.calls if c[0] == "evaluate"]
    assert len(evaluations) == 2 * 4 + 1  # + the real-data row, which has no curve
    # a rerun is all cached; a lost curve point is recomputed alone
    _, again, _ = _run(tmp_path)
    assert again.calls == []
    records = sorted(jdir.glob("train-at-*.json"), key=lambda p: json.loads(p.read_text())["step"])
    ev_key = None
    for r in jdir.glob("evaluate-*.json"):
        ev_key = r if json.loads(r.read_text())["evaluation"]["metrics"][0]["value"] == curve["metrics"]["fid"]["value"][1] else ev_key
    ev_key.unlink()
    _, third, _ = _run(tmp_path)
    assert [c[0] for c in third.calls] == ["evaluate"]
    assert records[1].exists()


def test_continuing_a_copied_checkpoint_equals_the_uninterrupted_run(tmp_path):
    """The route the runner takes (train to k, copy the checkpoint, continue to the final step)
    gives the weights, optimizer state and log of one uninterrupted run."""
    ds = make_points()
    o = {**tiny("gan", "points"), "checkpoint_every": 100}
    straight = baselines.train("gan", ds, out_dir=tmp_path / "a", overrides=o, steps=6, progress=False)
    first = baselines.train("gan", ds, out_dir=tmp_path / "k3", overrides=o, steps=3, progress=False)
    assert _continue_from(first, tmp_path / "final") and not _continue_from(first, tmp_path / "final")
    resumed = baselines.train("gan", ds, out_dir=tmp_path / "final", overrides=o, steps=6, progress=False)
    a, b = checkpoint.read(straight)[1], checkpoint.read(resumed)[1]
    assert a.keys() == b.keys() and all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)
    # the step-3 checkpoint itself is untouched by the continuation
    assert json.loads((first / checkpoint.LOG_FILE).read_text().splitlines()[-1])["step"] == 3
