"""Each genbench job as one Slurm job, through ``submitit`` (``pip install 'genbench[slurm]'``).

submitit pickles the job (the runner's copy, the job, its resolved config) into
``<job dir>/slurm/``, where Slurm's stdout/stderr logs land too. On preemption or timeout Slurm
signals the job; submitit calls :meth:`_SlurmJob.checkpoint`, which requeues the same job: the
rerun finds the finished steps in the run directory and resumes training from the last
checkpoint (genbench's own resume), so nothing needs saving at signal time. ``cluster="local"``
runs the same machinery as local processes (the tests use it); ``None`` lets submitit pick
Slurm when ``sbatch`` is there.
"""

from __future__ import annotations

import time

from genbench.errors import GenbenchError
from genbench.executors import remote

try:
    import submitit
    _Checkpointable = submitit.helpers.Checkpointable
except ImportError:  # the extra is optional; SlurmExecutor.run says how to get it
    submitit = None
    _Checkpointable = object


class _SlurmJob(_Checkpointable):
    """The callable a Slurm job runs; requeued as-is on preemption (submitit's checkpoint hook)."""

    def __init__(self, runner, job, resolved, code):
        self.runner, self.job, self.resolved, self.code = runner, job, resolved, code

    def __call__(self):
        return remote.run_job(self.runner, self.job, self.resolved, None, None, self.code)


class SlurmExecutor:
    name = "slurm"

    def __init__(self, partition: str | None = None, gpus_per_job: int | None = None, time_min: int = 240,
                 account: str | None = None, cpus_per_job: int = 2, cluster: str | None = None,
                 poll_s: float = 2.0, max_requeues: int = 3):
        self.partition = partition
        self.gpus_per_job = gpus_per_job
        self.time_min = time_min
        self.account = account
        self.cpus_per_job = cpus_per_job
        self.cluster = cluster
        self.poll_s = poll_s
        self.max_requeues = max_requeues

    def _executor(self, folder, gpus: int):
        # Requeues after a timeout are bounded; preemptions are not (Slurm decides those).
        ex = submitit.AutoExecutor(folder=folder, cluster=self.cluster, slurm_max_num_timeout=self.max_requeues)
        params = dict(timeout_min=int(self.time_min), cpus_per_task=int(self.cpus_per_job), nodes=1,
                      tasks_per_node=1, gpus_per_node=gpus)
        if ex.cluster == "slurm":
            if self.partition:
                params["slurm_partition"] = self.partition
            if self.account:
                params["slurm_account"] = self.account
        ex.update_parameters(**params)
        return ex

    def run(self, runner, work):
        if submitit is None:
            raise GenbenchError("--executor slurm needs submitit: pip install 'genbench[slurm]'")
        from genbench.executors.ray import wants_gpu

        gpus = self.gpus_per_job if self.gpus_per_job is not None else (1 if wants_gpu(runner.device) else 0)
        worker = runner.for_worker()
        code = remote.code_identity()
        progress = remote.Progress(runner, [j for j, _ in work],
                                   {j.id: r["steps"] for j, r in work if r and r.get("steps")})
        submitted = self.submitted = {}  # job id → (job, submitit job): visible to callers (and tests)
        outcomes = {}
        try:
            for job, resolved in work:
                folder = runner.job_dir(job) / "slurm"
                try:
                    sjob = self._executor(folder, gpus).submit(_SlurmJob(worker, job, resolved, code))
                except Exception as exc:  # sbatch refused it (partition, account, limits)
                    outcomes[job.id] = remote.failed_outcome(runner, job, f"Slurm submission failed: {exc}")
                    runner.report_outcome(outcomes[job.id])
                    continue
                submitted[job.id] = (job, sjob)
                progress.set(job, f"queued (slurm job {sjob.job_id})")
            while len(outcomes) < len(work):
                for jid, (job, sjob) in list(submitted.items()):
                    if jid in outcomes or not sjob.done():
                        continue
                    try:
                        d, _ = sjob.result()
                        outcome = remote.outcome_from(d)
                    except Exception as exc:  # killed, timed out past its requeues, node failure
                        first = str(exc).strip().splitlines()
                        outcome = remote.failed_outcome(
                            runner, job, f"Slurm job {sjob.job_id} failed: {first[0] if first else type(exc).__name__} "
                            f"(logs: {sjob.paths.stderr})")
                    outcomes[jid] = outcome
                    runner.report_outcome(outcome)
                    progress.state[jid] = "done" if outcome.ok else "failed"
                progress.poll([job for jid, (job, _) in submitted.items() if jid not in outcomes])
                if len(outcomes) < len(work):
                    time.sleep(self.poll_s)
        except BaseException:  # Ctrl-C: cancel every Slurm job this driver submitted
            for jid, (_, sjob) in submitted.items():
                if jid not in outcomes:
                    try:
                        sjob.cancel(check=False)
                    except Exception:
                        pass
            raise
        return [outcomes[j.id] for j, _ in work]
