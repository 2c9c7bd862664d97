"""``genbench run --executor ...``: the options reach the executor, and a Ray run through the CLI
matches a local one."""

import json

import pytest

from genbench.commands import run as run_cmd
from genbench.errors import GenbenchError
from genbench.executors import make_executor
from genbench.executors.local import LocalExecutor
from genbench.executors.ray import RayExecutor
from genbench.executors.slurm import SlurmExecutor


def _args(*argv):
    return __import__("genbench.cli").cli.build_parser().parse_args(["run", "s.yaml", *argv])


def test_executor_options_reach_the_executor():
    local = run_cmd._executor(_args("--jobs", "3"))
    assert isinstance(local, LocalExecutor) and local.jobs == 3
    ray = run_cmd._executor(_args("--executor", "ray", "--ray-address", "ray://head:10001", "--ray-num-cpus", "4",
                                  "--gpu-wait", "5", "--ray-no-shared-fs"))
    assert isinstance(ray, RayExecutor)
    assert (ray.address, ray.num_cpus, ray.gpu_wait_s, ray.shared_fs) == ("ray://head:10001", 4.0, 5.0, False)
    assert RayExecutor().address is None and RayExecutor().shared_fs  # no address: a local cluster
    slurm = run_cmd._executor(_args("--executor", "slurm", "--slurm-partition", "gpu", "--slurm-gpus-per-job", "2",
                                    "--slurm-time", "90", "--slurm-account", "lab"))
    assert isinstance(slurm, SlurmExecutor)
    assert (slurm.partition, slurm.gpus_per_job, slurm.time_min, slurm.account) == ("gpu", 2, 90, "lab")
    with pytest.raises(SystemExit):
        _args("--executor", "dask")
    with pytest.raises(GenbenchError, match="--executor 'dask': unknown"):
        make_executor("dask")


def test_slurm_parameters_become_sbatch_options(tmp_path, monkeypatch):
    srun = tmp_path / "bin/srun"  # submitit only checks that srun exists before writing the batch file
    srun.parent.mkdir()
    srun.write_text("#!/bin/sh\nexit 0\n")
    srun.chmod(0o755)
    monkeypatch.setenv("PATH", f"{srun.parent}:{__import__('os').environ['PATH']}")
    ex = SlurmExecutor(partition="gpu", account="lab", time_min=90, gpus_per_job=None, cluster="slurm")
    text = ex._executor(tmp_path / "job/slurm", gpus=1)._executor._make_submission_file_text("python job.py", "u")
    for line in ("#SBATCH --partition=gpu", "#SBATCH --account=lab", "#SBATCH --time=90", "#SBATCH --gpus-per-node=1",
                 f"#SBATCH --output={tmp_path}/job/slurm/%j_0_log.out", "#SBATCH --signal=USR2@90"):
        assert line in text


def test_cli_run_with_ray_matches_local(tmp_path, suite_file, ray_cluster, capsys):
    from genbench.cli import main
    import genbench.suite as suite_mod

    mp = pytest.MonkeyPatch()
    try:  # the fake registries in the driver; workers get the runner (and its fake backend) pickled
        import genbench.runner as runner_mod
        from suite_fakes import FAKE_REGISTRIES_KW, FakeBackend
        mp.setattr(runner_mod, "GenbenchBackend", FakeBackend)
        mp.setattr(suite_mod.Registries, "default", classmethod(lambda cls: cls(**FAKE_REGISTRIES_KW)))
        base = ["run", str(suite_file), "--device", "cpu", "--no-report", "--no-progress", "--only", "good-gan"]
        assert main([*base, "--out", str(tmp_path / "local")]) == 0
        assert main([*base, "--out", str(tmp_path / "ray"), "--executor", "ray"]) == 0
    finally:
        mp.undo()
    out = capsys.readouterr().out
    assert "[queued] digits/good-gan/seed0" in out and "4/4 jobs finished" in out
    for job in ("good-gan/seed0", "good-gan/seed1", "real/seed0", "real/seed1"):
        a, b = (json.loads((tmp_path / d / "jobs/digits" / job / "result.json").read_text())["metrics"]
                for d in ("local", "ray"))
        assert a == b


def test_progress_shows_each_job_once_per_state_and_training_by_tenths(tmp_path):
    from types import SimpleNamespace
    from genbench.executors.remote import Progress
    from genbench.runner import Job

    lines = []
    runner = SimpleNamespace(echo=lines.append, job_dir=lambda job: tmp_path / job.id)
    job = Job("ring8", "gan", "gan", 0)
    progress = Progress(runner, [job], {job.id: 2000})
    for state in ["queued", "queued", *(f"training step {k}" for k in range(0, 2001, 50)), "sampling", "sampling"]:
        progress.set(job, state)
    assert lines[0] == "  [queued] ring8/gan/seed0" and lines[-1] == "  [sampling] ring8/gan/seed0"
    training = [l for l in lines if "training" in l]
    assert len(training) == 11 and training[1] == "  [training step 200 of 2000] ring8/gan/seed0"
