"""The Slurm executor through submitit's local executor (the same pickling, logs and requeue
machinery as on a Slurm cluster, with local processes): results equal a local run's, logs land
in the job directory, and a preempted job is requeued and resumes from its checkpoint."""

import json
import signal
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("submitit")

from suite_fakes import SUITE_YAML, FakeBackend  # noqa: E402
from worker_signals import TOY_SUITE as TOY_SUITE_TEMPLATE  # noqa: E402
from worker_signals import signal_mid_training  # noqa: E402
from genbench.executors.slurm import SlurmExecutor  # noqa: E402
from genbench.runner import Runner  # noqa: E402
from genbench.suite import load_suite, parse_suite  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
HELPERS = REPO / "tests" / "helpers"


@pytest.fixture
def worker_path(monkeypatch):
    """submitit's local jobs are fresh interpreters: they must import this checkout and the fakes."""
    monkeypatch.setenv("PYTHONPATH", f"{REPO}:{HELPERS}")


def _metrics(out: Path) -> dict:
    return {str(p.relative_to(out)): json.dumps(json.loads(p.read_text())["metrics"], sort_keys=True)
            for p in sorted(out.glob("jobs/**/result.json"))}


def test_slurm_results_equal_local_and_logs_are_in_the_job_directory(tmp_path, suite_file, registries, worker_path):
    suite = parse_suite(SUITE_YAML.replace("seeds: [0, 1]", "seeds: [0]"), str(suite_file), registries=registries)
    only = ["good-gan"]
    Runner(suite, tmp_path / "local", backend=FakeBackend(), progress=False, echo=lambda s: None, only=only).run()
    lines = []
    summary = Runner(suite, tmp_path / "slurm", backend=FakeBackend(tmp_path / "calls"), progress=False, only=only,
                     echo=lines.append, executor=SlurmExecutor(cluster="local", poll_s=0.2)).run()
    assert summary.ok and len(summary.outcomes) == 2
    assert _metrics(tmp_path / "slurm") == _metrics(tmp_path / "local") and len(_metrics(tmp_path / "local")) == 2
    assert (tmp_path / "calls/calls.txt").read_text().count("train") == 1  # ran in the submitit job
    logs = list((tmp_path / "slurm/jobs/digits/good-gan/seed0/slurm").glob("*_log.err"))
    assert logs, "submitit's logs belong in the job directory"
    assert any("queued (slurm job" in l for l in lines)


TOY_SUITE = TOY_SUITE_TEMPLATE.format(name="toy-slurm")


@pytest.mark.slow
def test_preempted_job_is_requeued_and_resumes_to_the_same_weights(tmp_path, worker_path):
    from safetensors.numpy import load_file

    (tmp_path / "toy.yaml").write_text(TOY_SUITE)
    suite = load_suite(tmp_path / "toy.yaml")
    assert Runner(suite, tmp_path / "local", progress=False, echo=lambda s: None, device="cpu", only=["gan"]).run().ok
    executor = SlurmExecutor(cluster="local", poll_s=0.2)
    interrupted = {}
    # What Slurm sends a job it is about to preempt (submitit asks for --signal=USR2@90);
    # submitit's LocalJob._interrupt would signal the controller, which does not forward it.
    t = signal_mid_training(tmp_path / "slurm/jobs/ring8/gan/seed0", signal.SIGUSR2, interrupted)
    summary = Runner(suite, tmp_path / "slurm", progress=False, echo=lambda s: None, device="cpu", only=["gan"],
                     executor=executor).run()
    t.join()
    assert "step" in interrupted, "training finished before it could be preempted"
    assert summary.ok, [o.error for o in summary.failed]
    jdir = tmp_path / "slurm/jobs/ring8/gan/seed0"
    assert int((jdir / ".worker.pid").read_text()) != interrupted["pid"]  # requeued: a new process
    assert "resuming gan from step" in (jdir / "log.txt").read_text()
    assert "Caught signal SIGUSR2" in "".join(p.read_text() for p in (jdir / "slurm").glob("*_log.err"))
    (a,), (b,) = ([p for p in (tmp_path / d / "jobs/ring8/gan/seed0").glob("train-*") if p.is_dir()]
                  for d in ("local", "slurm"))
    wa, wb = (load_file(p / "model.safetensors") for p in (a, b))
    assert wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa if not k.startswith("optim."))
    assert _metrics(tmp_path / "slurm") == _metrics(tmp_path / "local")
