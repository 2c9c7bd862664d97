"""Each genbench job as one Ray task (``pip install 'genbench[ray]'``).

``address``: None starts a local cluster (and stops it at the end), ``"auto"`` joins the cluster
this machine belongs to, ``ray://HOST:PORT`` a remote one through Ray Client. A CUDA job asks for
``num_gpus=1``; on a cluster without GPUs it fails after ``gpu_wait_s`` seconds with a message
saying so (an autoscaler may add GPU nodes meanwhile). A worker that dies (SIGKILL, lost node) is
retried up to ``max_retries`` times by Ray; the retry resumes training from the job's last
checkpoint (genbench's own resume). ``shared_fs=False``: workers do not see the run directory,
so the job's files travel as bytes (:mod:`genbench.executors.remote`).
"""

from __future__ import annotations

import os
import sys
import time

from genbench.errors import GenbenchError
from genbench.executors import remote


def _entry(runner, job, resolved, ship, scratch, expect_code):
    return remote.run_job(runner, job, resolved, ship, scratch, expect_code)


class RayExecutor:
    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: float = 1, shared_fs: bool = True,
                 gpu_wait_s: float = 60.0, max_retries: int = 3, scratch_dir: str | None = None,
                 poll_s: float = 1.0):
        self.address = address
        self.num_cpus = num_cpus
        self.shared_fs = shared_fs
        self.gpu_wait_s = gpu_wait_s
        self.max_retries = max_retries
        self.scratch_dir = scratch_dir
        self.poll_s = poll_s

    def _connect(self, ray) -> bool:
        """Connect (or start a local cluster); True when this call started it and must stop it."""
        if ray.is_initialized():
            return False
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        kw = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
        if self.address is None:
            # A local cluster's workers import what this driver imports: same code, same plug-ins.
            path = os.pathsep.join(dict.fromkeys(os.path.abspath(p or os.curdir) for p in sys.path
                                                 if os.path.isdir(p or os.curdir)))
            kw["runtime_env"] = {"env_vars": {"PYTHONPATH": path, "RAY_USAGE_STATS_ENABLED": "0"}}
        try:
            ray.init(address=self.address, **kw)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise GenbenchError(f"--ray-address {self.address}: cannot connect to a Ray cluster: {exc}") from None
        return True

    def _wait_for_gpus(self, ray) -> bool:
        deadline = time.monotonic() + self.gpu_wait_s
        while True:
            if ray.cluster_resources().get("GPU", 0) >= 1:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))

    def run(self, runner, work):
        try:
            import ray
        except ImportError:
            raise GenbenchError("--executor ray needs Ray: pip install 'genbench[ray]'") from None
        started = self._connect(ray)
        try:
            return self._run(ray, runner, work)
        finally:
            if started:
                ray.shutdown()

    def _run(self, ray, runner, work):
        gpu = wants_gpu(runner.device)
        outcomes = {}
        progress = remote.Progress(runner, [j for j, _ in work],
                                   {j.id: r["steps"] for j, r in work if r and r.get("steps")})
        if gpu and not self._wait_for_gpus(ray):
            msg = (f"device {runner.device!r} needs a GPU, but the Ray cluster had none for {self.gpu_wait_s:g} s "
                   f"(resources: {ray.cluster_resources()}); add GPU nodes or run with --device cpu")
            for job, _ in work:
                outcomes[job.id] = remote.failed_outcome(runner, job, msg)
                progress.set(job, "failed")
            return [outcomes[j.id] for j, _ in work]
        task = ray.remote(_entry).options(num_cpus=self.num_cpus, num_gpus=1 if gpu else 0,
                                          max_retries=self.max_retries, retry_exceptions=False)
        runner_ref = ray.put(runner.for_worker())
        code = remote.code_identity()
        refs = {}
        for job, resolved in work:
            ship = None if self.shared_fs else remote.pack_dir(runner.job_dir(job))
            refs[task.remote(runner_ref, job, resolved, ship, self.scratch_dir, code)] = job
            progress.set(job, "queued")
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1, timeout=self.poll_s)
                for ref in done:
                    job = refs[ref]
                    try:
                        d, files = ray.get(ref)
                        if files is not None:
                            remote.unpack_dir(files, runner.job_dir(job))
                        outcome = remote.outcome_from(d)
                    except Exception as exc:  # the task itself died (worker lost past its retries, ...)
                        outcome = remote.failed_outcome(runner, job, f"Ray task failed: {type(exc).__name__}: "
                                                        f"{str(exc).splitlines()[0] if str(exc) else ''}")
                    outcomes[job.id] = outcome
                    runner.report_outcome(outcome)
                    progress.state[job.id] = "done" if outcome.ok else "failed"
                if self.shared_fs:
                    progress.poll([refs[r] for r in pending])
        except BaseException:  # Ctrl-C: cancel every task this driver started
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        return [outcomes[j.id] for j, _ in work]


def wants_gpu(device: str | None) -> bool:
    """A CUDA job reserves one GPU; ``auto`` uses one only when this driver sees CUDA."""
    if device and str(device).startswith("cuda"):
        return True
    if device in (None, "auto"):
        try:
            import torch
            return torch.cuda.is_available()
        except ImportError:
            return False
    return False
