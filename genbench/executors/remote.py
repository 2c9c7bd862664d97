"""What a job needs to run in another process, and what the driver does with its answer.

A worker gets the pickled :class:`~genbench.runner.Runner` (suite, backend, options; datasets
are reloaded there), the job and its resolved config, and calls the same ``Runner._run_job`` a
local run calls. With a shared filesystem it writes straight into the run directory (atomically,
as locally). Without one, the driver ships the job directory's files to the worker, the job runs
in a scratch copy of the run directory on the worker, and the task returns the job directory's
files as bytes, which the driver writes atomically: artifacts first, step records after them,
``result.json`` last, so an interrupted copy is redone, never half-trusted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path

from genbench import atomic, code_hash
from genbench.errors import GenbenchError
from genbench.lock import RunLock

RECORD = re.compile(r"^[a-z-]+-[0-9a-f]{16}\.json$")
STAGES = (("train", "training"), ("sample", "sampling"), ("real-sample", "sampling"), ("evaluate", "evaluating"))


def code_identity() -> dict:
    """The hashes of the code a job runs: a worker with other code must not fill this run's cache."""
    return {"evaluation": code_hash.evaluation_code(), "training": code_hash.training_code()}


def pack_dir(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (relative path → bytes); temporary files of a killed writer are skipped."""
    files = {}
    if directory.is_dir():
        for p in sorted(directory.rglob("*")):
            if p.is_file() and not (p.name.startswith(".") and p.name.endswith(".tmp")):
                files[p.relative_to(directory).as_posix()] = p.read_bytes()
    return files


def _write_order(rel: str) -> int:
    name = rel.rsplit("/", 1)[-1]
    if rel == "result.json":
        return 2
    return 1 if "/" not in rel and RECORD.match(name) else 0


def unpack_dir(files: dict[str, bytes], directory: Path) -> None:
    """Write ``files`` under ``directory`` atomically, in the order that keeps the cache honest."""
    for rel in sorted(files, key=lambda r: (_write_order(r), r)):
        path = directory / rel
        if path.is_file() and path.read_bytes() == files[rel]:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(path, files[rel])


def scratch_root(out_dir: Path, scratch: str | None) -> Path:
    """A worker's private copy of a run directory: the same path for a retry on the same node,
    so a retried job resumes its training checkpoint there."""
    digest = hashlib.sha256(str(Path(out_dir).resolve()).encode()).hexdigest()[:16]
    return Path(scratch or tempfile.gettempdir()) / "genbench-scratch" / digest


def run_job(runner, job, resolved, ship: dict[str, bytes] | None = None, scratch: str | None = None,
            expect_code: dict | None = None):
    """The worker side: run one job exactly as locally. Returns (outcome as a dict, files or None)."""
    from genbench.runner import JobOutcome

    if expect_code is not None and code_identity() != expect_code:
        return {"job": job, "ok": False, "error": "this worker runs other genbench/baselines code than the driver "
                "(code hashes differ): install the same version on every node"}, None
    driver_out = runner.out_dir
    if ship is not None:
        runner.out_dir = scratch_root(driver_out, scratch)
        unpack_dir(ship, runner.job_dir(job))
    jdir = runner.job_dir(job)
    try:
        jdir.mkdir(parents=True, exist_ok=True)
        (jdir / ".worker.pid").write_text(f"{os.getpid()}\n")  # lets an operator (or a test) find the process
    except OSError:
        pass
    try:  # an orphan of a dead driver (a Slurm job keeps running) may still work in this directory
        with RunLock(jdir, what="genbench job"):
            outcome: JobOutcome = runner._run_job(job, resolved)
    except GenbenchError as exc:
        return {"job": job, "ok": False, "error": str(exc)}, None
    files = None
    if ship is not None:
        files = pack_dir(jdir)
        files.pop(".worker.pid", None)
    return _outcome_dict(outcome, runner.out_dir, driver_out), files


def _outcome_dict(outcome, here: Path, there: Path) -> dict:
    d = {f.name: getattr(outcome, f.name) for f in dataclasses.fields(outcome)}
    for k in ("result_path", "log_path"):
        if d[k] is not None:
            d[k] = Path(there) / os.path.relpath(d[k], here)
    return d


def outcome_from(d: dict):
    from genbench.runner import JobOutcome
    return JobOutcome(**d)


def failed_outcome(runner, job, error: str):
    """An outcome for a job whose task never returned (worker lost, cancelled, no resources)."""
    from genbench.runner import JobOutcome
    log_path = runner.job_dir(job) / "log.txt"
    try:
        atomic.write_json(runner.job_dir(job) / "error.json", {"job": job.to_dict(), "error": error})
    except OSError:
        pass
    return JobOutcome(job=job, ok=False, error=error, log_path=log_path if log_path.exists() else None)


def stage_of(jdir: Path) -> str:
    """A job's live stage, read from its directory: training step k of n / sampling / evaluating."""
    if (jdir / "result.json").exists():
        return "writing result"
    names = {p.name.rsplit("-", 1)[0] for p in jdir.glob("*-????????????????.json")} if jdir.is_dir() else set()
    if "evaluate" in names:
        return "evaluating"  # reconstruction, or the result
    if "sample" in names or "real-sample" in names:
        return "evaluating"
    if "train" in names:
        return "sampling"
    logs = sorted(jdir.glob("train-*/train_log.jsonl")) if jdir.is_dir() else []
    if logs:
        step = _last_step(logs[-1])
        if step is not None:
            return f"training step {step}"
        return "training"
    return "running"


def _last_step(path: Path) -> int | None:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 4096))
            lines = f.read().decode("utf-8", "replace").strip().splitlines()
        for line in reversed(lines):
            try:
                return int(json.loads(line)["step"])
            except (ValueError, KeyError, TypeError):
                continue
    except OSError:
        return None
    return None


class Progress:
    """One line per job whenever its state changes (queued / running / training step k of n /
    sampling / evaluating / done / failed): readable in a terminal and in a CI log alike."""

    def __init__(self, runner, jobs, steps: dict | None = None):
        self.runner = runner
        self.since = time.time() - 1.0
        self.state = {j.id: None for j in jobs}
        self.steps = steps or {}

    def set(self, job, state: str) -> None:
        shown = state
        if state.startswith("training step") and self.steps.get(job.id):
            total = int(self.steps[job.id])
            step = int(state.rsplit(" ", 1)[-1])
            state = f"training {min(10, step * 10 // max(total, 1))}"  # a line per tenth of training, not per poll
            shown = f"training step {step} of {total}"
        if self.state.get(job.id) != state:
            self.state[job.id] = state
            self.runner.echo(f"  [{shown}] {job.id}")

    def poll(self, running) -> None:
        for job in running:
            jdir = self.runner.job_dir(job)
            try:  # a worker has picked it up (this run): its directory tells the stage
                if (jdir / ".worker.pid").stat().st_mtime >= self.since:
                    self.set(job, stage_of(jdir))
            except OSError:
                pass
