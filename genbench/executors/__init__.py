"""Where a suite's jobs run: in this process (``local``), as Ray tasks (``ray``), as Slurm jobs (``slurm``).

The runner plans the jobs and decides what is done (its cached steps); an executor only runs
``Runner._run_job`` somewhere and hands back its :class:`~genbench.runner.JobOutcome`. Remote
jobs run exactly the local code path, writing to the run directory, which stays the single
source of truth: a rerun with any executor finds every finished step there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from genbench.errors import GenbenchError

if TYPE_CHECKING:  # pragma: no cover
    from genbench.runner import Job, JobOutcome, Runner

EXECUTORS = ("local", "ray", "slurm")


class Executor(Protocol):
    """Runs a list of (job, resolved config) pairs and returns their outcomes in the same order."""

    name: str

    def run(self, runner: "Runner", work: list[tuple["Job", dict | None]]) -> list["JobOutcome"]: ...


def make_executor(name: str, **options) -> Executor:
    """The executor called ``name`` with its options (only the ones that are not None)."""
    options = {k: v for k, v in options.items() if v is not None}
    if name == "local":
        from genbench.executors.local import LocalExecutor
        return LocalExecutor(**options)
    if name == "ray":
        from genbench.executors.ray import RayExecutor
        return RayExecutor(**options)
    if name == "slurm":
        from genbench.executors.slurm import SlurmExecutor
        return SlurmExecutor(**options)
    raise GenbenchError(f"--executor {name!r}: unknown; choose one of {', '.join(EXECUTORS)}")
