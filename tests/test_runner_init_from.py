"""A suite model that starts from another's trained checkpoint (``init_from``, e.g. srgan from
srresnet): the source trains once, whichever job reaches it first, and its key keys the other."""

from __future__ import annotations

import json

import pytest

from init_fakes import InitBackend, init_registries
from genbench.runner import Runner
from genbench.suite import SuiteError, parse_suite


SUITE = """\
name: init
dataset: digits
seeds: [0]
steps: 10
models:
{models}
evaluation: {{n: 20, extractor: fake-extractor, metrics: [fid]}}
"""
PRE = "  - {model: fake-pre, label: pre%s}"
INIT = "  - {model: fake-init, label: tuned, init_from: pre}"


def _suite(backend, models=(PRE % "", INIT)):
    return parse_suite(SUITE.format(models="\n".join(models)), "init.yaml", registries=init_registries(backend))


def _run(suite, out, backend, jobs=1):
    return Runner(suite, out, backend=backend, jobs=jobs, progress=False, echo=lambda s: None).run()


def _trains(backend, model):
    return sum(1 for c in backend.calls if c[:3] == ("train", "digits", model))


@pytest.mark.parametrize("order", ["source first", "dependent first"])
def test_source_trains_once_when_both_jobs_run_at_once(tmp_path, order):
    backend = InitBackend()
    models = (PRE % "", INIT) if order == "source first" else (INIT, PRE % "")
    summary = _run(_suite(backend, models), tmp_path / "run", backend, jobs=2)
    assert summary.ok, [o.error for o in summary.failed]
    assert _trains(backend, "fake-pre") == 1 and _trains(backend, "fake-init") == 1
    pre = json.loads((tmp_path / "run/jobs/digits/pre/seed0/result.json").read_text())
    tuned = json.loads((tmp_path / "run/jobs/digits/tuned/seed0/result.json").read_text())
    # the dependent started from exactly the source's checkpoint, and says so
    assert backend.started_from == [str(tmp_path / "run" / pre["checkpoint"])]
    assert tuned["init_from"] == {"label": "pre", "model": "fake-pre", "train": pre["keys"]["train"],
                                  "job": "digits/pre/seed0", "checkpoint": pre["checkpoint"]}
    assert tuned["config"]["init_from"] == ""  # the path is not part of the config (nor of the key)
    # exactly one of the two jobs computed the source's training
    ran = {o.job.label: o.ran for o in summary.outcomes}
    assert (ran["pre"][0] == "train") != ("train pre" in ran["tuned"])


def test_rerun_reuses_and_retraining_the_source_retrains_the_dependent(tmp_path):
    backend = InitBackend()
    assert _run(_suite(backend), tmp_path / "run", backend).ok
    again = _run(_suite(backend), tmp_path / "run", backend)
    assert all(o.ran == [] for o in again.outcomes) and _trains(backend, "fake-pre") == 1

    changed = _suite(backend, (PRE % ", overrides: {quality: 0.9}", INIT))
    summary = _run(changed, tmp_path / "run", backend)
    assert summary.ok and _trains(backend, "fake-pre") == 2 and _trains(backend, "fake-init") == 2
    # --only the dependent: the source's cached training is reused, nothing else of it runs
    only = Runner(changed, tmp_path / "run", backend=backend, only=["tuned"], progress=False, echo=lambda s: None).run()
    assert only.ok and [o.ran for o in only.outcomes if o.job.label == "tuned"] == [[]]


def test_dependent_alone_trains_its_source_in_the_sources_directory(tmp_path):
    backend = InitBackend()
    suite = _suite(backend)
    only = Runner(suite, tmp_path / "run", backend=backend, only=["tuned"], progress=False, echo=lambda s: None).run()
    assert only.ok and only.outcomes[0].job.label == "tuned" and only.outcomes[0].ran[0] == "train pre"
    full = _run(suite, tmp_path / "run", backend)  # the source's job then reuses that training
    assert full.ok and _trains(backend, "fake-pre") == 1
    assert next(o for o in full.outcomes if o.job.label == "pre").ran == ["sample", "evaluate"]


@pytest.mark.parametrize("models, message", [
    ((PRE % "", "  - {model: fake-init, label: tuned, init_from: nope}"),
     r"init.yaml:\d+: models\[1\].init_from: no model labelled 'nope' in this suite; models: pre, tuned"),
    (("  - {model: fake-init, label: a, init_from: b}", "  - {model: fake-init, label: b, init_from: a}"),
     r"models\[0\].init_from: init_from goes round in a cycle: a -> b -> a"),
    (("  - {model: fake-init, label: a, init_from: a}",), r"cycle: a -> a"),
    (("  - {model: fake-gan, label: pre}", INIT),
     r"models\[1\].init_from: fake-init cannot start from a fake-gan checkpoint; it can start from: fake-pre"),
    ((PRE % ", overrides: {width: 16}", INIT),
     r"models\[1\].init_from: fake-init: the fake-pre it starts from has width=16, this config 8 \(dataset digits"),
])
def test_bad_init_from_is_one_line_at_validation(models, message):
    with pytest.raises(SuiteError, match=message) as exc:
        _suite(InitBackend(), models)
    assert "\n" not in str(exc.value)


def test_slurm_jobs_in_separate_processes_train_the_source_once(tmp_path, monkeypatch):
    """submitit's local executor runs the two jobs as two processes at once: the step's flock
    keeps the source's training to one of them."""
    pytest.importorskip("submitit")
    from pathlib import Path

    from genbench.executors.slurm import SlurmExecutor

    repo = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("PYTHONPATH", f"{repo}:{repo / 'tests' / 'helpers'}")
    backend = InitBackend(tmp_path / "calls")
    summary = Runner(_suite(backend), tmp_path / "run", backend=backend, progress=False, echo=lambda s: None,
                     only=["pre", "tuned"], executor=SlurmExecutor(cluster="local", poll_s=0.2)).run()
    assert summary.ok, [o.error for o in summary.failed]
    calls = (tmp_path / "calls/calls.txt").read_text().splitlines()
    assert sum(c.startswith("train digits fake-pre") for c in calls) == 1
    pre = json.loads((tmp_path / "run/jobs/digits/pre/seed0/result.json").read_text())
    assert [c for c in calls if c.startswith("init_from")] == [f"init_from {tmp_path / 'run' / pre['checkpoint']}"]
