"""The runner's planning, caching, resume, lock and failure isolation, with a fake backend."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from suite_fakes import SUITE_YAML, FakeBackend
from genbench.errors import GenbenchError
from genbench.lock import RunLock
from genbench.runner import REAL_LABEL, Runner, plan
from genbench.results import aggregate, load_run, metrics_frame
from genbench.suite import load_suite, parse_suite

HERE = Path(__file__).parent
HELPERS = HERE / "helpers"


def _run(suite, out, backend, **kw):
    return Runner(suite, out, backend=backend, progress=False, echo=lambda s: None, **kw).run()


def _count(backend, kind):
    return sum(1 for c in backend.calls if c[0] == kind)


def test_plan_is_models_times_seeds_plus_real_rows(suite_file, registries):
    suite = load_suite(suite_file, registries=registries)
    jobs = plan(suite)
    assert [j.id for j in jobs] == [
        "digits/good-gan/seed0", "digits/good-gan/seed1", "digits/bad-gan/seed0", "digits/bad-gan/seed1",
        "digits/fake-ae/seed0", "digits/fake-ae/seed1", "digits/real/seed0", "digits/real/seed1"]
    assert [j.id for j in plan(suite, only=["bad-gan"])][:2] == ["digits/bad-gan/seed0", "digits/bad-gan/seed1"]
    with pytest.raises(GenbenchError, match="--only 'nope': no such model"):
        plan(suite, only=["nope"])


def test_run_writes_one_result_per_job_with_provenance(tmp_path, suite_file, registries):
    suite = load_suite(suite_file, registries=registries)
    backend = FakeBackend(dataset_warnings=("fell back to the small set (fake)",))
    summary = _run(suite, tmp_path / "run", backend)
    assert summary.ok and len(summary.outcomes) == 8
    res = json.loads((tmp_path / "run/jobs/digits/fake-ae/seed1/result.json").read_text())
    assert res["job"] == {"dataset": "digits", "label": "fake-ae", "model": "fake-ae", "seed": 1, "id": "digits/fake-ae/seed1"}
    names = [m["name"] for m in res["metrics"]]
    assert names == ["fid", "is", "psnr", "ssim"]  # the autoencoder also gets reconstruction metrics
    assert res["protocol"]["dataset"]["sha256"] == backend.load_dataset("digits", data_root=None).fingerprint.sha256
    assert res["protocol"]["n"] == 50 and res["protocol"]["extractor"]["name"] == "fake-extractor"
    assert res["protocol"]["reconstruction"] == {"split": "test", "n": 20}
    psnr = next(m for m in res["metrics"] if m["name"] == "psnr")
    # the fake's per-image std 0.5 is ddof 0: the sample std is 0.5·√(20/19), its standard error that / √20
    assert psnr["params"]["per_image_std"] == pytest.approx(0.5 * (20 / 19) ** 0.5)
    assert psnr["std"] == pytest.approx(0.5 / 19 ** 0.5)
    assert res["warnings"] == ["fell back to the small set (fake)"]
    env = res["provenance"]["environment"]
    assert env["genbench_version"] and "git_commit" in env and env["device"] == "cpu"
    assert set(res["wall_times_s"]) == {"train", "sample", "evaluate", "reconstruct"}
    assert res["curves"]["step"][0] == 0 and "loss_d" in res["curves"]
    gan = json.loads((tmp_path / "run/jobs/digits/good-gan/seed0/result.json").read_text())
    assert [m["name"] for m in gan["metrics"]] == ["fid", "is"]  # a GAN cannot reconstruct
    assert gan["config"]["quality"] == 0.95
    real = json.loads((tmp_path / "run/jobs/digits/real/seed0/result.json").read_text())
    assert real["job"]["label"] == REAL_LABEL and real["n_real"] == 50 and real["real_split"] == "train"


def test_rerun_skips_everything_and_config_change_reruns_only_that_model(tmp_path, suite_file, registries):
    suite = load_suite(suite_file, registries=registries)
    backend = FakeBackend()
    _run(suite, tmp_path / "run", backend)
    assert (_count(backend, "train"), _count(backend, "sample"), _count(backend, "evaluate")) == (6, 6, 8)
    backend.calls.clear()
    summary = _run(suite, tmp_path / "run", backend)
    assert backend.calls == [] and all(not o.ran for o in summary.outcomes)

    changed = parse_suite(SUITE_YAML.replace("{quality: 0.1}", "{quality: 0.2}"), str(suite_file), registries=registries)
    _run(changed, tmp_path / "run", backend)
    assert [c for c in backend.calls if c[0] == "train"] == [("train", "digits", "fake-gan", 0, 0.2),
                                                             ("train", "digits", "fake-gan", 1, 0.2)]
    assert _count(backend, "evaluate") == 2  # the real rows and the other models are untouched

    backend.calls.clear()  # new extractor weights re-evaluate everything, and only that
    backend.extractor_weights = "1" * 64
    _run(changed, tmp_path / "run", backend)
    assert _count(backend, "train") == 0 and _count(backend, "sample") == 0 and _count(backend, "evaluate") == 8

    backend.calls.clear()  # a larger n re-samples and re-evaluates everything but retrains nothing
    bigger = parse_suite(SUITE_YAML.replace("  n: 50", "  n: 60"), str(suite_file), registries=registries)
    _run(bigger, tmp_path / "run", backend)
    assert _count(backend, "train") == 0 and _count(backend, "sample") == 6 and _count(backend, "evaluate") == 8


def test_failing_job_is_reported_with_its_log_and_others_finish(tmp_path, suite_file, registries):
    text = SUITE_YAML.replace("{quality: 0.1}", "{quality: 0.1, explode: true}")
    suite = parse_suite(text, str(suite_file), registries=registries)
    summary = _run(suite, tmp_path / "run", FakeBackend())
    assert not summary.ok
    assert {o.job.id for o in summary.failed} == {"digits/bad-gan/seed0", "digits/bad-gan/seed1"}
    failed = summary.failed[0]
    assert "loss is NaN at step 3" in failed.error
    assert "Traceback" in failed.log_path.read_text() and "loss is NaN" in failed.log_path.read_text()
    run = load_run(tmp_path / "run")
    assert len(run.results) == 6 and set(run.errors) == {"digits/bad-gan/seed0", "digits/bad-gan/seed1"}


def test_cli_exit_code_is_nonzero_when_a_job_failed(tmp_path, suite_file, registries, monkeypatch, capsys):
    from genbench.commands import run as run_cmd
    import genbench.runner as runner_mod
    import genbench.suite as suite_mod

    text = SUITE_YAML.replace("{quality: 0.1}", "{quality: 0.1, explode: true}")
    suite_file.write_text(text)
    monkeypatch.setattr(runner_mod, "GenbenchBackend", FakeBackend)
    monkeypatch.setattr(suite_mod.Registries, "default", classmethod(lambda cls: cls(**__import__("suite_fakes").FAKE_REGISTRIES_KW)))
    args = type("A", (), dict(suite=str(suite_file), profile="quick", only=None, device="cpu", jobs=2,
                              out=str(tmp_path / "run"), report_dir=str(tmp_path / "rep"), no_report=False,
                              data_root=None, cache_dir=None, no_progress=True))()
    assert run_cmd.run_command(args) == 1
    out = capsys.readouterr().out
    assert "FAILED digits/bad-gan/seed0" in out and "loss is NaN" in out and "log: " in out
    assert (tmp_path / "rep/index.html").exists() and "leaderboard: " in out


def test_aggregation_mean_and_std_over_seeds(tmp_path, suite_file, registries):
    suite = load_suite(suite_file, registries=registries)
    _run(suite, tmp_path / "run", FakeBackend())
    run = load_run(tmp_path / "run")
    frame = metrics_frame(run.results)
    agg = aggregate(frame).set_index(["label", "metric"])
    v = frame[(frame.label == "bad-gan") & (frame.metric == "fid")]["value"].to_numpy()
    assert len(v) == 2
    row = agg.loc[("bad-gan", "fid")]
    assert row["mean"] == pytest.approx((v[0] + v[1]) / 2)
    assert row["seed_std"] == pytest.approx(abs(v[0] - v[1]) / 2 ** 0.5)  # sample std, ddof=1
    assert row["noise"] == row["seed_std"] and row["n_seeds"] == 2
    # the fake's quality ordering shows in the aggregate
    assert agg.loc[("good-gan", "fid"), "mean"] < agg.loc[("bad-gan", "fid"), "mean"]


def test_lock_refuses_a_live_run_and_takes_over_a_dead_one(tmp_path):
    lock = RunLock(tmp_path)
    lock.acquire()
    with pytest.raises(GenbenchError, match=r"in use by another genbench run \(pid \d+"):
        RunLock(tmp_path).acquire()
    lock.release()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".lock").write_text(json.dumps({"pid": dead.pid, "host": os.uname().nodename, "started": "x"}))
    with RunLock(tmp_path) as taken:
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid() and taken.held
    assert not (tmp_path / ".lock").exists()


@pytest.mark.slow
def test_kill_9_mid_run_resumes_without_losing_finished_jobs(tmp_path, suite_file):
    """A run killed with SIGKILL while training the second model: rerunning keeps the first."""
    text = SUITE_YAML.replace("{quality: 0.1}", "{quality: 0.1, sleep_s: 30}")
    suite_file.write_text(text)
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(HELPERS)!r})
        from suite_fakes import FakeBackend, FAKE_REGISTRIES_KW
        from genbench.runner import Runner
        from genbench.suite import Registries, load_suite
        suite = load_suite({str(suite_file)!r}, registries=Registries(**FAKE_REGISTRIES_KW))
        Runner(suite, {str(tmp_path / 'run')!r}, backend=FakeBackend({str(tmp_path / 'calls')!r}),
               progress=False).run()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=HERE.parent)
    done = tmp_path / "run/jobs/digits/good-gan/seed1/result.json"
    deadline = time.time() + 60
    while not (done.exists() and (tmp_path / "calls/calls.txt").read_text().count("train") >= 3):
        assert proc.poll() is None and time.time() < deadline, "child run ended or stalled"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (tmp_path / "run/.lock").exists()  # left behind by the killed process

    backend = FakeBackend()
    fast = parse_suite(text.replace("sleep_s: 30", "sleep_s: 0"), str(suite_file),
                       registries=__import__("genbench.suite").suite.Registries(**__import__("suite_fakes").FAKE_REGISTRIES_KW))
    summary = _run(fast, tmp_path / "run", backend)  # stale lock taken over
    assert summary.ok
    trained = [c[2:4] for c in backend.calls if c[0] == "train"]
    assert ("fake-gan", 0) in trained and len(trained) == 4  # bad-gan ×2 (config changed) + fake-ae ×2
    assert not any(c[0] == "train" and c[4] == 0.95 for c in backend.calls)  # good-gan not retrained
    assert len(load_run(tmp_path / "run").results) == 8


def test_only_runs_one_model_and_keeps_the_full_plan_listed(tmp_path, suite_file, registries):
    suite = load_suite(suite_file, registries=registries)
    backend = FakeBackend()
    _run(suite, tmp_path / "run", backend)
    backend.calls.clear()
    changed = parse_suite(SUITE_YAML.replace("{quality: 0.1}", "{quality: 0.3}").replace("{quality: 0.95}", "{quality: 0.9}"),
                          str(suite_file), registries=registries)
    summary = _run(changed, tmp_path / "run", backend, only=["bad-gan"])
    assert {o.job.label for o in summary.outcomes} == {"bad-gan", REAL_LABEL}
    assert {c[4] for c in backend.calls if c[0] == "train"} == {0.3}  # good-gan's change waits for a full run
    assert len(load_run(tmp_path / "run").results) == 8  # the leaderboard still lists every model


def test_backend_trains_the_validated_config_with_nothing_left_to_apply(tmp_path, suite_file, registries):
    seen = []

    class Recording(FakeBackend):
        def train(self, model, dataset, **kw):
            seen.append(kw["config"])
            return super().train(model, dataset, **kw)

    _run(load_suite(suite_file, registries=registries), tmp_path / "run", Recording())
    assert sorted(c.quality for c in seen) == [0.1, 0.1, 0.5, 0.5, 0.95, 0.95]
    assert all(type(c).__name__ == "FakeConfig" for c in seen)  # the config object, overrides applied


def test_bad_override_type_fails_before_anything_runs(tmp_path, suite_file, registries):
    suite = parse_suite(SUITE_YAML.replace("{quality: 0.1}", "{quality: 0.1, width: 8.5}"), str(suite_file),
                        registries=registries)
    backend = FakeBackend()
    with pytest.raises(GenbenchError, match=r"fake.yaml: models\[bad-gan\].overrides.width: must be an integer"):
        _run(suite, tmp_path / "run", backend)
    assert backend.calls == [] and not (tmp_path / "run/jobs").exists()


def test_edited_code_reruns_only_the_steps_it_computes(tmp_path, suite_file, registries, monkeypatch):
    from genbench import code_hash

    suite = load_suite(suite_file, registries=registries)
    backend = FakeBackend()
    _run(suite, tmp_path / "run", backend)
    res = json.loads((tmp_path / "run/jobs/digits/good-gan/seed0/result.json").read_text())
    assert res["provenance"]["code_sha256"] == {"evaluation": code_hash.evaluation_code(),
                                                "training": code_hash.training_code()}
    backend.calls.clear()
    monkeypatch.setattr(code_hash, "evaluation_code", lambda: "a metric was edited")
    _run(suite, tmp_path / "run", backend)  # a metric edit: re-evaluate everything, retrain nothing
    assert (_count(backend, "train"), _count(backend, "sample"), _count(backend, "evaluate")) == (0, 0, 8)
    backend.calls.clear()
    monkeypatch.setattr(code_hash, "training_code", lambda: "a model was edited")
    _run(suite, tmp_path / "run", backend)  # a model edit: retrain, resample, re-evaluate the models
    assert (_count(backend, "train"), _count(backend, "sample"), _count(backend, "evaluate")) == (6, 6, 6)


def test_step_whose_artifact_vanished_is_recomputed(tmp_path, suite_file, registries):
    suite = load_suite(suite_file, registries=registries)
    backend = FakeBackend()
    _run(suite, tmp_path / "run", backend)
    for npz in (tmp_path / "run/jobs/digits/bad-gan/seed0").glob("samples-*.npz"):
        npz.unlink()
    backend.calls.clear()
    _run(suite, tmp_path / "run", backend)
    assert [c[0] for c in backend.calls] == ["sample"]  # same key, same samples: evaluation stays cached


def _cli_args(suite_file, tmp_path, **kw):
    return type("A", (), dict(suite=str(suite_file), profile="quick", only=None, device="cpu", jobs=1,
                              out=str(tmp_path / "run"), report_dir=str(tmp_path / "rep"), no_report=False,
                              data_root=None, cache_dir=None, no_progress=True) | kw)()


@pytest.fixture
def fake_cli(monkeypatch):
    import genbench.runner as runner_mod
    import genbench.suite as suite_mod

    made = []

    class Backend(FakeBackend):
        def __init__(self):
            super().__init__()
            made.append(self)

    monkeypatch.setattr(runner_mod, "GenbenchBackend", Backend)
    monkeypatch.setattr(suite_mod.Registries, "default", classmethod(lambda cls: cls(**__import__("suite_fakes").FAKE_REGISTRIES_KW)))
    return made


@pytest.mark.parametrize("where", ["out", "report_dir"])
@pytest.mark.parametrize("under", [False, True])
def test_out_or_report_dir_at_a_file_is_refused_before_anything_runs(tmp_path, suite_file, fake_cli, where, under):
    from genbench.cli import main

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    target = blocker / "sub" if under else blocker
    flag = "--" + where.replace("_", "-")
    argv = ["run", str(suite_file), "--device", "cpu", "--out", str(tmp_path / "run"),
            "--report-dir", str(tmp_path / "rep"), flag, str(target)]
    assert main(argv) == 2
    assert all(not b.calls for b in fake_cli) and not (tmp_path / "run").exists()


def test_cli_error_for_a_file_in_the_way_is_one_line(tmp_path, suite_file, fake_cli, capsys):
    from genbench.cli import main

    (tmp_path / "rep").write_text("x")
    assert main(["run", str(suite_file), "--out", str(tmp_path / "run"), "--report-dir", str(tmp_path / "rep")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"genbench run: error: --report-dir {tmp_path / 'rep'} is a file, not a directory"


def test_run_no_progress_reaches_the_runner(tmp_path, suite_file, fake_cli, monkeypatch):
    from genbench.commands import run as run_cmd
    import genbench.runner as runner_mod

    seen = []
    real_init = runner_mod.Runner.__init__

    def init(self, *a, **kw):
        seen.append(kw.get("progress"))
        real_init(self, *a, **kw)

    monkeypatch.setattr(runner_mod.Runner, "__init__", init)
    parser = __import__("genbench.cli").cli.build_parser()
    args = parser.parse_args(["run", str(suite_file), "--no-progress", "--no-report", "--out", str(tmp_path / "run")])
    assert run_cmd.run_command(args) == 0 and seen == [False]


def test_full_disk_writing_results_fails_the_job_in_one_line_and_keeps_finished_steps(
        tmp_path, suite_file, registries, monkeypatch):
    import errno

    from genbench import atomic

    suite = load_suite(suite_file, registries=registries)
    real_write = atomic.write_json

    def full_for_results(path, obj):
        if Path(path).name == "result.json":
            raise atomic.WriteError(f"cannot write {path}: {os.strerror(errno.ENOSPC)}")
        real_write(path, obj)

    monkeypatch.setattr(atomic, "write_json", full_for_results)
    backend = FakeBackend()
    summary = _run(suite, tmp_path / "run", backend)
    assert not summary.ok and len(summary.failed) == 8
    assert all(o.error.endswith("result.json: No space left on device") for o in summary.failed)
    assert "Traceback" not in summary.failed[0].log_path.read_text()
    assert not list((tmp_path / "run").rglob("*.tmp"))
    monkeypatch.setattr(atomic, "write_json", real_write)  # disk freed: the finished steps are all cached
    backend.calls.clear()
    assert _run(suite, tmp_path / "run", backend).ok and backend.calls == []
