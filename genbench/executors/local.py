"""Today's behaviour: jobs in this process, one after another or ``jobs`` at once in threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from genbench.errors import GenbenchError


class LocalExecutor:
    name = "local"

    def __init__(self, jobs: int = 1):
        if jobs < 1:
            raise GenbenchError(f"--jobs must be at least 1, got {jobs}")
        self.jobs = jobs

    def run(self, runner, work):
        if self.jobs == 1:
            return [runner._run_job(job, resolved) for job, resolved in work]
        pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="genbench-job")
        try:
            futures = [pool.submit(runner._run_job, job, resolved) for job, resolved in work]
            outcomes = [f.result() for f in futures]
        except BaseException:  # Ctrl-C: start nothing new; running jobs finish their current step
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return outcomes
