"""The Ray executor's guarantees on a local 2-CPU cluster: same results as local, caching and
resume across executors, the lock, failure isolation, no waiting forever for a GPU, and a
worker SIGKILLed mid-training retried from its checkpoint to the same weights."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ray")

from suite_fakes import FAKE_REGISTRIES_KW, SUITE_YAML, FakeBackend  # noqa: E402
from worker_signals import TOY_SUITE as TOY_SUITE_TEMPLATE  # noqa: E402
from worker_signals import signal_mid_training  # noqa: E402
from genbench.errors import GenbenchError  # noqa: E402
from genbench.executors.ray import RayExecutor  # noqa: E402
from genbench.lock import RunLock  # noqa: E402
from genbench.runner import Runner  # noqa: E402
from genbench.suite import Registries, load_suite, parse_suite  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
HELPERS = REPO / "tests" / "helpers"


def _run(suite, out, backend, executor=None, lines=None, **kw):
    echo = lines.append if lines is not None else (lambda s: None)
    return Runner(suite, out, backend=backend, progress=False, echo=echo, executor=executor, **kw).run()


def _metrics(out: Path) -> dict:
    """Each job's metrics exactly as written (bytes of their JSON)."""
    return {str(p.relative_to(out)): json.dumps(json.loads(p.read_text())["metrics"], sort_keys=True)
            for p in sorted(out.glob("jobs/**/result.json"))}


def _calls(counter: Path) -> list[str]:
    f = counter / "calls.txt"
    return f.read_text().splitlines() if f.exists() else []


@pytest.mark.parametrize("shared_fs", [True, False], ids=["shared-fs", "files-as-bytes"])
def test_ray_results_equal_local_and_reruns_hit_the_cache(tmp_path, suite_file, registries, ray_cluster, shared_fs):
    suite = load_suite(suite_file, registries=registries)
    _run(suite, tmp_path / "local", FakeBackend())
    counter, scratch = tmp_path / "calls", tmp_path / "worker-scratch"
    lines = []
    summary = _run(suite, tmp_path / "ray", FakeBackend(counter),
                   RayExecutor(shared_fs=shared_fs, scratch_dir=str(scratch), poll_s=0.2), lines)
    assert summary.ok and len(summary.outcomes) == 8
    assert _metrics(tmp_path / "ray") == _metrics(tmp_path / "local") and len(_metrics(tmp_path / "local")) == 8
    assert sum(c.startswith("train") for c in _calls(counter)) == 6  # in the workers: the counter is a file
    assert any("[queued]" in l for l in lines) and sum("[  done]" in l for l in lines) == 8
    if not shared_fs:  # the workers wrote into their scratch copy; the driver wrote the run directory
        assert len(list(scratch.glob("genbench-scratch/*/jobs/**/result.json"))) == 8
        assert not list((tmp_path / "ray").glob("jobs/**/.worker.pid"))
    # a rerun, with Ray or locally, finds everything in the run directory
    again = _run(suite, tmp_path / "ray", FakeBackend(counter), RayExecutor(shared_fs=shared_fs, scratch_dir=str(scratch)))
    assert again.ok and all(not o.ran for o in again.outcomes)
    local = FakeBackend()
    assert all(not o.ran for o in _run(suite, tmp_path / "ray", local).outcomes) and local.calls == []
    assert sum(c.startswith("train") for c in _calls(counter)) == 6


def test_failing_job_on_a_worker_is_reported_with_its_log_and_others_finish(tmp_path, suite_file, registries, ray_cluster):
    suite = parse_suite(SUITE_YAML.replace("{quality: 0.1}", "{quality: 0.1, explode: true}"), str(suite_file),
                        registries=registries)
    lines = []
    summary = _run(suite, tmp_path / "run", FakeBackend(), RayExecutor(poll_s=0.2), lines)
    failed = {o.job.id for o in summary.failed}
    assert failed == {"digits/bad-gan/seed0", "digits/bad-gan/seed1"}
    bad = summary.failed[0]
    assert "loss is NaN" in bad.error and bad.log_path == tmp_path / "run/jobs" / bad.job.id / "log.txt"
    assert "loss is NaN at step 3" in bad.log_path.read_text()
    assert sum("[FAILED]" in l for l in lines) == 2
    assert len(list((tmp_path / "run").glob("jobs/**/result.json"))) == 6


def test_a_second_driver_is_refused_by_the_lock(tmp_path, suite_file, registries, ray_cluster):
    suite = load_suite(suite_file, registries=registries)
    with RunLock(tmp_path / "run"):
        with pytest.raises(GenbenchError, match="in use by another genbench run"):
            _run(suite, tmp_path / "run", FakeBackend(tmp_path / "calls"), RayExecutor())
    assert _calls(tmp_path / "calls") == []


def test_a_cuda_job_on_a_cluster_without_gpus_fails_after_the_stated_wait(tmp_path, suite_file, registries, ray_cluster):
    suite = load_suite(suite_file, registries=registries)
    summary = _run(suite, tmp_path / "run", FakeBackend(tmp_path / "calls"), RayExecutor(gpu_wait_s=0.5), device="cuda")
    assert not summary.ok and len(summary.failed) == 8
    assert "needs a GPU, but the Ray cluster had none for 0.5 s" in summary.failed[0].error
    assert _calls(tmp_path / "calls") == []


@pytest.mark.slow
def test_driver_killed_mid_run_rerun_keeps_finished_jobs(tmp_path, suite_file, ray_cluster):
    text = SUITE_YAML.replace("{quality: 0.1}", "{quality: 0.1, sleep_s: 60}")
    suite_file.write_text(text)
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(HELPERS)!r})
        from suite_fakes import FakeBackend, FAKE_REGISTRIES_KW
        from genbench.executors.ray import RayExecutor
        from genbench.runner import Runner
        from genbench.suite import Registries, load_suite
        suite = load_suite({str(suite_file)!r}, registries=Registries(**FAKE_REGISTRIES_KW))
        Runner(suite, {str(tmp_path / 'run')!r}, backend=FakeBackend({str(tmp_path / 'calls')!r}), progress=False,
               executor=RayExecutor(address={ray_cluster!r}, poll_s=0.2)).run()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    done = [tmp_path / f"run/jobs/digits/good-gan/seed{s}/result.json" for s in (0, 1)]
    deadline = time.time() + 120
    while not all(p.exists() for p in done):
        assert proc.poll() is None and time.time() < deadline, "driver ended or stalled"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    counter = tmp_path / "calls"
    before = _calls(counter)
    fast = parse_suite(text.replace("sleep_s: 60", "sleep_s: 0"), str(suite_file),
                       registries=Registries(**FAKE_REGISTRIES_KW))
    summary = _run(fast, tmp_path / "run", FakeBackend(counter), RayExecutor(poll_s=0.2))  # stale lock taken over
    assert summary.ok
    rerun = _calls(counter)[len(before):]
    assert not any(c.startswith("train") and c.endswith(" 0.95") for c in rerun)  # good-gan: from the cache
    assert sum(c.startswith("train") and " fake-gan " in c for c in rerun) == 2  # bad-gan (its config changed)


TOY_SUITE = TOY_SUITE_TEMPLATE.format(name="toy-ray")


def _weights(ckpt: Path) -> dict:
    from safetensors.numpy import load_file
    return {k: v for k, v in load_file(ckpt / "model.safetensors").items() if not k.startswith("optim.")}


@pytest.mark.slow
def test_worker_sigkilled_mid_training_is_retried_from_its_checkpoint(tmp_path, ray_cluster):
    """Real toy2d GAN: a Ray run whose worker is SIGKILLed mid-training equals an uninterrupted local run."""
    (tmp_path / "toy.yaml").write_text(TOY_SUITE)
    suite = load_suite(tmp_path / "toy.yaml")
    local = Runner(suite, tmp_path / "local", progress=False, echo=lambda s: None, device="cpu").run()
    assert local.ok

    killed = {}
    # Ray retries a task whose worker died: SIGKILL mid-training, between checkpoints.
    t = signal_mid_training(tmp_path / "ray/jobs/ring8/gan/seed0", signal.SIGKILL, killed)
    summary = Runner(suite, tmp_path / "ray", progress=False, echo=lambda s: None, device="cpu",
                     executor=RayExecutor(poll_s=0.2)).run()
    t.join()
    assert "pid" in killed, "training finished before it could be killed"
    assert summary.ok, [o.error for o in summary.failed]
    jdir = tmp_path / "ray/jobs/ring8/gan/seed0"
    assert int((jdir / ".worker.pid").read_text()) != killed["pid"]  # Ray ran it again in a new worker
    assert "resum" in (jdir / "log.txt").read_text().lower()
    (ckpt_l,), (ckpt_r,) = ([p for p in (tmp_path / d / "jobs/ring8/gan/seed0").glob("train-*") if p.is_dir()]
                           for d in ("local", "ray"))
    wl, wr = _weights(ckpt_l), _weights(ckpt_r)
    assert wl.keys() == wr.keys() and all(np.array_equal(wl[k], wr[k]) for k in wl)
    assert _metrics(tmp_path / "ray") == _metrics(tmp_path / "local")
    assert not list((tmp_path / "ray").rglob("*.tmp"))  # nothing half-written


def test_ctrl_c_cancels_the_ray_tasks_it_started(tmp_path, suite_file, registries, ray_cluster, monkeypatch):
    from genbench.executors import remote

    suite = parse_suite(SUITE_YAML.replace("{quality: 0.1}", "{quality: 0.1, sleep_s: 60}"), str(suite_file),
                        registries=registries)
    out = tmp_path / "run"
    pid_files = [out / f"jobs/digits/bad-gan/seed{s}/.worker.pid" for s in (0, 1)]

    seen = {}

    def poll(self, running):  # Ctrl-C arrives while a bad-gan job sleeps in its worker
        seen.update({p: p.read_text() for p in pid_files if p.exists() and p.read_text().strip()})
        if seen:
            raise KeyboardInterrupt

    monkeypatch.setattr(remote.Progress, "poll", poll)
    with pytest.raises(KeyboardInterrupt):
        _run(suite, out, FakeBackend(), RayExecutor(poll_s=0.1))
    pids = [int(v) for v in seen.values()]
    deadline = time.time() + 30
    while any(_alive(pid) for pid in pids):
        assert time.time() < deadline, f"the cancelled task's worker still runs: {seen}"
        time.sleep(0.1)
    assert not list(out.glob("jobs/digits/bad-gan/*/result.json")) and not (out / ".lock").exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_a_job_still_running_elsewhere_is_not_run_twice(tmp_path, suite_file, registries, ray_cluster):
    """A Slurm job orphaned by a dead driver keeps running; a new driver's copy of it must not
    train into the same directory: each remote job holds a lock on its job directory."""
    suite = load_suite(suite_file, registries=registries)
    busy = tmp_path / "run/jobs/digits/good-gan/seed0"
    with RunLock(busy, what="genbench job"):
        summary = _run(suite, tmp_path / "run", FakeBackend(tmp_path / "calls"), RayExecutor(poll_s=0.2))
    assert [o.job.id for o in summary.failed] == ["digits/good-gan/seed0"]
    assert "in use by another genbench job" in summary.failed[0].error
    assert len(list((tmp_path / "run").glob("jobs/**/result.json"))) == 7
    assert not any(c.startswith("train") and c.endswith(" 0.95") and " 0 " in c for c in _calls(tmp_path / "calls"))
