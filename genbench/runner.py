"""Running a suite: plan (dataset × model × seed) jobs, then train → sample → evaluate each
(an image-to-image model on a dataset with a task: train → translate → evaluate by the task).

Every step (train, sample, evaluate, reconstruct) goes through one cached-step helper: its
output is keyed by a hash of its configuration, its inputs' keys (fingerprints) and the code
that computes it (:mod:`genbench.code_hash`), and written atomically, the step's record last.
So a rerun skips what is done, changing one model's config (or editing a metric) reruns only
what depends on it, and an interrupted run (Ctrl-C, ``kill -9``) resumes without losing any
finished step. A lock (:mod:`genbench.lock`) keeps two runs out of one directory. A failing
job is logged and reported; the other jobs still run.

The models and the evaluation core are reached through a :class:`Backend`, so the runner's
own logic is testable with fakes in milliseconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import shutil
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np

import baselines
from genbench import atomic, code_hash
from genbench.data import load_dataset
from genbench.data.dataset import Dataset
from genbench.device import resolve_device
from genbench.errors import GenbenchError
from genbench.executors import Executor
from genbench.executors.local import LocalExecutor
from genbench.evaluate import evaluate, evaluate_reconstructions
from genbench.features import default_extractor, get_extractor
from genbench.jsonable import jsonable
from genbench.lock import RunLock
from genbench.metrics.result import MetricResult
from genbench.overrides import apply_overrides
from genbench.provenance import environment
from genbench.results import REAL_LABEL
from genbench.suite import Evaluation, Suite
from genbench.translations import (FEATURE_METRICS, FIGURE_EXAMPLES, MIN_FEATURE_IMAGES, Translations,
                                   evaluate_translations, task_of, translate_each, translation_split)

log = logging.getLogger(__name__)

RESULT_FILE = "result.json"
MANIFEST_FILE = "manifest.json"
MAX_CURVE_POINTS = 200


# --------------------------------------------------------------------------- backend


class Backend(Protocol):
    """What the runner needs from the baselines and the evaluation core."""

    def load_dataset(self, name: str, *, data_root: str | None) -> Dataset: ...

    def model_kinds(self, model: str) -> tuple[str, ...]: ...

    def can_translate(self, model: str) -> bool: ...

    def default_config(self, model: str, dataset: Dataset, profile: str) -> Any: ...

    def train(self, model: str, dataset: Dataset, *, out_dir: Path, config: Any, steps: int | None, seed: int,
              device: str, progress: bool) -> Path:
        """Train with exactly ``config`` (overrides already applied and validated) into ``out_dir``."""
        ...

    def sample(self, checkpoint: Path, n: int, seed: int, device: str, captions: np.ndarray | None = None) -> np.ndarray:
        """``n`` samples (a text model: one per caption of ``captions``, N×L token ids)."""
        ...

    def translate(self, checkpoint: Path, images: np.ndarray, device: str) -> np.ndarray: ...

    def extractor_identity(self, dataset: Dataset, evaluation: Evaluation) -> dict | None:
        """Name and weights hash of the extractor the evaluation will use (part of the cache key)."""
        ...

    def evaluate(self, samples: np.ndarray, dataset: Dataset, evaluation: Evaluation, *, seed: int,
                 device: str, cache_dir: str | None, data_root: str | None, progress: bool) -> dict: ...

    def evaluate_reconstructions(self, originals: np.ndarray, reconstructions: np.ndarray) -> list[MetricResult]: ...

    # ---- model metrics and paper figures: what needs the trained model, not its samples. A backend
    # without these serves suites that name no model metric (and draws no paper figures).

    def score_model(self, checkpoint: Path, dataset: Dataset, evaluation: Evaluation, *, seed: int, device: str,
                    cache_dir: str | None) -> dict:
        """``evaluation.model_metrics`` of a checkpoint: {"metrics": [...], "not_applicable":
        {column: why}, "warnings": [...]}."""
        ...

    def has_paper_figures(self, model: str) -> bool: ...

    def paper_figures(self, checkpoint: Path, examples: Any, *, seed: int, device: str) -> list:
        """The model's paper figures (``baselines.paper_figures.PaperFigure``), drawn from ``examples``
        (the head of the evaluation split) where a figure needs real inputs or captions."""
        ...

    # ---- image-to-image models. A backend without ``conditioning`` serves only models that do
    # not condition on images (the runner reads its absence as "none" for every model).

    def conditioning(self, model: str) -> str:
        """'none', 'class' or 'image' (baselines.spec.CONDITIONING)."""
        ...

    def has_inverse(self, model: str) -> bool: ...

    def translate_images(self, checkpoint: Path, images: np.ndarray, *, seed: int, device: str,
                         inverse: bool = False) -> np.ndarray:
        """An image-conditioned model's outputs for ``images`` (``inverse``: target → input domain)."""
        ...

    def classifier_identity(self, name: str | None) -> dict | None:
        """Name and weights hash of a task's classifier (part of the evaluation's cache key)."""
        ...

    def evaluate_translations(self, translations: Translations, dataset: Dataset, evaluation: Evaluation, *,
                              seed: int, device: str, cache_dir: str | None, progress: bool) -> dict: ...


class GenbenchBackend:
    """The real thing: ``baselines`` for models, ``genbench.evaluate`` for metrics."""

    def load_dataset(self, name, *, data_root):
        return load_dataset(name, data_root=data_root)

    def model_kinds(self, model):
        return tuple(baselines.MODELS[model].kinds)

    def can_translate(self, model):
        return bool(baselines.MODELS[model].can_translate)

    def default_config(self, model, dataset, profile):
        return baselines.default_config(model, dataset, profile=profile)

    def train(self, model, dataset, *, out_dir, config, steps, seed, device, progress):
        return Path(baselines.train(model, dataset, out_dir=out_dir, config=config, steps=steps, seed=seed,
                                    device=device, progress=progress))

    def sample(self, checkpoint, n, seed, device, captions=None):
        model = baselines.load(checkpoint, device=device)
        return model.sample(n, seed) if captions is None else model.sample_captions(captions, seed)

    def translate(self, checkpoint, images, device):
        return baselines.load(checkpoint, device=device).translate(images)

    def extractor_identity(self, dataset, evaluation):
        if dataset.kind == "points":
            return None
        name = evaluation.extractor or default_extractor(dataset)
        return get_extractor(name).identity.to_dict()

    def evaluate(self, samples, dataset, evaluation, *, seed, device, cache_dir, data_root, progress):
        result = evaluate(
            samples, dataset=dataset, split=evaluation.split, metrics=list(evaluation.sample_metrics),
            n=len(samples), extractor=evaluation.extractor, device=device, batch_size=evaluation.batch_size,
            seed=seed, data_root=data_root, cache_dir=cache_dir, progress=progress,
            bootstrap=evaluation.bootstrap,
        )
        return result.to_dict()

    def evaluate_reconstructions(self, originals, reconstructions):
        return evaluate_reconstructions(originals, reconstructions)

    def score_model(self, checkpoint, dataset, evaluation, *, seed, device, cache_dir):
        from genbench.metrics.registry import MetricInputs, get_metric

        model = baselines.load(checkpoint, device=device)
        x = MetricInputs(kind=dataset.kind, seed=seed, device=model.device, dataset=dataset, split=evaluation.split,
                         model=model, n=evaluation.n, extractor=evaluation.extractor or default_extractor(dataset),
                         cache_dir=cache_dir)
        metrics = []
        for name in evaluation.model_metrics:
            metrics += [m.to_dict() for m in get_metric(name).compute(x, **evaluation.metric_params(name))]
        return {"metrics": metrics, "not_applicable": dict(x.not_applicable), "warnings": list(x.warnings)}

    def has_paper_figures(self, model):
        return type(baselines.MODELS[model]).paper_figures is not baselines.spec.ModelSpec.paper_figures

    def paper_figures(self, checkpoint, examples, *, seed, device):
        model = baselines.load(checkpoint, device=device)
        return model.spec.paper_figures(model, examples, seed)

    def conditioning(self, model):
        return baselines.MODELS[model].conditioning

    def has_inverse(self, model):
        return bool(baselines.MODELS[model].has_inverse)

    def translate_images(self, checkpoint, images, *, seed, device, inverse=False):
        return baselines.load(checkpoint, device=device).translate(images, seed=seed, inverse=inverse)

    def classifier_identity(self, name):
        return None if name is None else get_extractor(name).identity.to_dict()

    def evaluate_translations(self, translations, dataset, evaluation, *, seed, device, cache_dir, progress):
        return evaluate_translations(
            translations, dataset, split=evaluation.split, metrics=list(evaluation.metrics),
            extractor=evaluation.extractor, sr_mode=evaluation.sr_mode, seed=seed, device=device,
            batch_size=evaluation.batch_size, bootstrap=evaluation.bootstrap, cache_dir=cache_dir, progress=progress,
            n_reference=evaluation.n,
        )


# --------------------------------------------------------------------------- plan


@dataclasses.dataclass(frozen=True)
class Job:
    dataset: str
    label: str  # model label, or REAL_LABEL for the real-data ceiling row
    model: str | None
    seed: int

    @property
    def is_real(self) -> bool:
        return self.model is None

    @property
    def id(self) -> str:
        return f"{self.dataset}/{'real' if self.is_real else self.label}/seed{self.seed}"

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "label": self.label, "model": self.model, "seed": self.seed}


def plan(suite: Suite, only: list[str] | None = None, no_real_row: frozenset[str] = frozenset()) -> list[Job]:
    """Model jobs in suite order, then the real-data rows (one per dataset and seed), except for
    the datasets in ``no_real_row`` (image-to-image tasks: see :data:`NO_REAL_ROW`)."""
    labels = [m.label for m in suite.models]
    if only:
        for o in only:
            if o not in labels:
                raise GenbenchError(f"--only {o!r}: no such model in {suite.path}; models: {', '.join(labels)}")
        labels = [l for l in labels if l in only]
    jobs = [Job(d, l, suite.model(l).model, s) for d in suite.datasets for l in labels for s in suite.seeds]
    jobs += [Job(d, REAL_LABEL, None, s) for d in suite.datasets if d not in no_real_row for s in suite.seeds]
    return jobs


# Why an image-to-image dataset has no real-data row. Its targets scored as outputs are the
# trivial ceiling (PSNR ∞, SSIM 1, L1 0, and FID against themselves 0): a row of no information.
# Held-out targets from another split are not outputs for these inputs, so the pair metrics do
# not exist for them, and the inputs (e.g. upscaled LR images) are a model, not real data: the SR
# tables' reference row is the `bicubic` model, and unpaired tasks carry the classifier's
# source-only accuracy as a column.
NO_REAL_ROW = ("none for image-to-image tasks: targets scored against themselves are the trivial ceiling "
               "(PSNR ∞, SSIM 1, L1 0, FID 0); the reference rows are models (bicubic for SR) and, for unpaired "
               "tasks, the source_only_accuracy column")


def step_key(kind: str, payload: dict) -> str:
    """Content key of a step: its config, its inputs' keys and a hash of the code that computes it.

    Training keys carry the baselines' code hash; evaluation, reconstruction and real-sample keys
    carry genbench's. Sampling is keyed by its train key, which already holds the baselines' code.
    """
    code = {"train": code_hash.training_code, "evaluate": code_hash.evaluation_code,
            "reconstruct": code_hash.evaluation_code, "real-sample": code_hash.evaluation_code,
            "model-metrics": code_hash.evaluation_code, "figures": code_hash.evaluation_code}.get(kind)
    blob = json.dumps({"step": kind, **({"code": code()} if code else {}), **payload}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


# --------------------------------------------------------------------------- per-job logs


class _ThreadLogHandler(logging.FileHandler):
    """Collects one job's log lines (the job runs in one thread) into its own file."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(path, mode="a", encoding="utf-8")
        self.thread = threading.get_ident()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
        self.addFilter(lambda record: record.thread == self.thread)


# --------------------------------------------------------------------------- running


@dataclasses.dataclass
class JobOutcome:
    job: Job
    ok: bool
    result_path: Path | None = None
    error: str | None = None
    log_path: Path | None = None
    ran: list[str] = dataclasses.field(default_factory=list)  # steps computed (the rest came from the cache)
    wall_time_s: float = 0.0


@dataclasses.dataclass
class RunSummary:
    out_dir: Path
    outcomes: list[JobOutcome]
    wall_time_s: float

    @property
    def failed(self) -> list[JobOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        return not self.failed


class Runner:
    def __init__(self, suite: Suite, out_dir: str | Path, *, backend: Backend | None = None, device: str = "auto",
                 jobs: int = 1, only: list[str] | None = None, cache_dir: str | None = None,
                 data_root: str | None = None, progress: bool = True, echo: Callable[[str], None] = print,
                 executor: Executor | None = None):
        if jobs < 1:
            raise GenbenchError(f"--jobs must be at least 1, got {jobs}")
        self.executor = executor or LocalExecutor(jobs)
        self.suite = suite
        self.out_dir = Path(out_dir)
        self.backend = backend or GenbenchBackend()
        self.device = device
        self.jobs = jobs
        self.only = only
        self.cache_dir = cache_dir
        self.data_root = data_root
        self.progress = progress and jobs == 1 and self.executor.name == "local"
        self.echo = echo
        self._datasets: dict[str, Dataset] = {}
        self._extractors: dict[str, dict | None] = {}
        self._lock = threading.Lock()

    # ---- shipping to another process (Ray task, Slurm job)

    def for_worker(self) -> "Runner":
        """A copy to pickle for a worker: no datasets (reloaded there), no lock, no executor,
        quiet (the driver reports outcomes)."""
        clone = Runner.__new__(Runner)
        clone.__dict__.update(self.__getstate__())
        clone.__setstate__(clone.__dict__)
        return clone

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.update(_datasets={}, _lock=None, executor=None, echo=None, progress=False)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self.echo = self.echo or _quiet

    # ---- datasets and configs (resolved before any work, so config errors fail fast)

    def dataset(self, name: str) -> Dataset:
        with self._lock:
            if name not in self._datasets:
                ds = self.backend.load_dataset(name, data_root=self.data_root)
                for w in ds.warnings:
                    log.warning("%s: %s", name, w)
                    self.echo(f"WARNING: dataset {name}: {w}")
                self._datasets[name] = ds
            return self._datasets[name]

    def extractor(self, name: str) -> dict | None:
        """The extractor identity for a dataset: new weights must invalidate cached evaluations."""
        ds = self.dataset(name)
        with self._lock:
            if name not in self._extractors:
                self._extractors[name] = self.backend.extractor_identity(ds, self.suite.evaluation)
            return self._extractors[name]

    def _resolve(self, job: Job) -> dict:
        ds = self.dataset(job.dataset)
        spec = self.suite.model(job.label)
        kinds = self.backend.model_kinds(spec.model)
        if ds.kind not in kinds:
            raise GenbenchError(
                f"{self.suite.path}: model {spec.label!r} ({spec.model}) handles {'/'.join(kinds)} data, "
                f"but dataset {job.dataset!r} is {ds.kind} data"
            )
        translates = self._conditioning(spec.model) == "image"
        if translates and ds.task is None:
            raise GenbenchError(f"{self.suite.path}: model {spec.label!r} ({spec.model}) translates images, but "
                                f"dataset {job.dataset!r} declares no image-to-image task to score it by")
        if ds.task is not None and not translates:
            raise GenbenchError(f"{self.suite.path}: dataset {job.dataset!r} is a {ds.task.kind} task, but model "
                                f"{spec.label!r} ({spec.model}) does not condition on images")
        if translates:
            translation_split(ds, self.suite.evaluation.split)  # no inputs to translate: fail now
        default = self.backend.default_config(spec.model, ds, self.suite.profile)
        config = apply_overrides(default, dict(spec.overrides), f"{self.suite.path}: models[{spec.label}].overrides")
        resolved = {"config": config, "steps": spec.steps if spec.steps is not None else self.suite.steps}
        if spec.init_from is not None:  # the source's own resolution rides along: the job trains it first
            source = self.suite.model(spec.init_from)
            if not any(f.name == "init_from" for f in dataclasses.fields(config)):
                raise GenbenchError(f"{self.suite.path}: model {spec.label!r} ({spec.model}) has no init_from "
                                    f"setting, so it cannot start from {source.label!r}")
            resolved["init_from"] = {"label": source.label, "model": source.model,
                                     "resolved": self._resolve(Job(job.dataset, source.label, source.model, job.seed))}
        return resolved

    # ---- the run

    def _captions(self, job: Job, ds: Dataset) -> np.ndarray | None:
        """The captions a text model's samples are drawn for (the evaluation split's, cycled to
        ``n``), or None for any other model."""
        if job.is_real or self._conditioning(self.suite.model(job.label).model) != "text":
            return None
        ev = self.suite.evaluation
        captions = ds.split(ev.split).captions
        if captions is None:
            raise GenbenchError(f"{job.label}: a text model needs captions, but split {ev.split!r} of dataset "
                                f"{ds.name!r} has none")
        return captions[np.arange(ev.n) % len(captions)]

    def _conditioning(self, model: str) -> str:
        conditioning = getattr(self.backend, "conditioning", None)  # see Backend: absent → no image models
        return "none" if conditioning is None else conditioning(model)

    def _plan(self, only: list[str] | None) -> list[Job]:
        tasks = frozenset(d for d in self.suite.datasets if self.dataset(d).task is not None)
        return plan(self.suite, only, no_real_row=tasks)

    def run(self) -> RunSummary:
        t0 = time.perf_counter()
        jobs = self._plan(self.only)
        with RunLock(self.out_dir):
            resolved = {}
            for job in jobs:  # fail fast on config errors, before hours of training
                if not job.is_real and (job.dataset, job.label) not in resolved:
                    resolved[(job.dataset, job.label)] = self._resolve(job)
                elif job.is_real:
                    self.extractor(job.dataset)
            self._write_manifest(jobs)
            self.echo(f"genbench run: suite {self.suite.name!r} (profile {self.suite.profile}), "
                      f"{len(jobs)} jobs, output in {self.out_dir}")
            outcomes = self.executor.run(self, [(j, resolved.get((j.dataset, j.label))) for j in jobs])
        return RunSummary(self.out_dir, outcomes, time.perf_counter() - t0)

    def _write_manifest(self, jobs: list[Job]) -> None:
        """The run directory's table of contents: which results make up this suite's leaderboard."""
        manifest_path = self.out_dir / MANIFEST_FILE
        listed = [j.to_dict() | {"id": j.id} for j in jobs]
        if self.only and manifest_path.exists():
            # --only runs part of the suite: keep the other jobs of the full plan listed.
            listed = [j.to_dict() | {"id": j.id} for j in self._plan(None)]
        atomic.write_json(manifest_path, {"suite": self.suite.to_dict(), "jobs": listed})

    def job_dir(self, job: Job) -> Path:
        return self.out_dir / "jobs" / job.id

    def _run_job(self, job: Job, resolved: dict | None) -> JobOutcome:
        jdir = self.job_dir(job)
        log_path = jdir / "log.txt"
        outcome = JobOutcome(job=job, ok=False, log_path=log_path)
        t0 = time.perf_counter()
        try:
            jdir.mkdir(parents=True, exist_ok=True)
            handler = _ThreadLogHandler(log_path)
        except OSError as exc:  # e.g. a full disk: this job fails, in one line
            outcome.error = f"cannot write the job directory {jdir}: {exc.strerror or exc}"
            outcome.log_path = None
            self.echo(f"  [FAILED] {job.id}: {outcome.error}")
            return outcome
        root = logging.getLogger()
        root.addHandler(handler)
        old_level = root.level
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)
        try:
            log.info("job %s: start", job.id)
            if job.is_real:
                outcome.result_path = self._real_job(job, outcome)
            else:
                outcome.result_path = self._model_job(job, resolved, outcome)
            outcome.ok = True
            log.info("job %s: done (%s)", job.id, ", ".join(outcome.ran) or "all cached")
        except Exception as exc:  # one failing job must not stop the others
            outcome.error = str(exc) if isinstance(exc, GenbenchError) else f"{type(exc).__name__}: {exc}"
            if isinstance(exc, GenbenchError):  # a stated problem: its message is the whole story
                log.error("job %s failed: %s", job.id, exc)
            else:
                log.error("job %s failed:\n%s", job.id, traceback.format_exc())
            try:
                atomic.write_json(jdir / "error.json", {"job": job.to_dict(), "error": outcome.error,
                                                       "traceback": traceback.format_exc()})
            except OSError as write_exc:
                log.error("could not record the failure: %s", write_exc)
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
            handler.close()
        outcome.wall_time_s = time.perf_counter() - t0
        if outcome.ok:
            (jdir / "error.json").unlink(missing_ok=True)
        self.report_outcome(outcome)
        return outcome

    def report_outcome(self, outcome: JobOutcome) -> None:
        """The line a finished job gets (the driver prints it for remote jobs)."""
        job = outcome.job
        if outcome.ok:
            status = "done" if outcome.ran else "cached"
            self.echo(f"  [{status:>6}] {job.id}  ({outcome.wall_time_s:.1f} s{', ran ' + '+'.join(outcome.ran) if outcome.ran else ''})")
        else:
            self.echo(f"  [FAILED] {job.id}: {outcome.error}  (log: {outcome.log_path})")

    # ---- the cached step: every step of a job goes through here

    def _step(self, outcome: JobOutcome, job: Job, name: str, payload: dict,
              compute: Callable[[Path | None], dict], artifact: str | None = None, shared: bool = False) -> dict:
        """Key → hit test → compute → atomic write → bookkeeping, for one step of a job.

        The step's record ``NAME-KEY16.json`` (its key, what ``compute`` returned, its wall time)
        is written last, after ``compute`` has atomically written the step's ``artifact`` (a
        file or directory named by the pattern with the key, passed to ``compute``). So a record
        with the right key means the step is finished; anything else is computed again.

        ``shared``: another job may compute the same step at the same time (a training step that
        a suite's ``init_from`` makes another model start from). An flock on ``.NAME-KEY16.lock``
        (per open file, so it excludes threads as well as processes and nodes) lets one compute it
        while the other waits, then finds the record and reuses it.
        """
        key = step_key(name, payload)
        jdir = self.job_dir(job)
        path = jdir / artifact.format(key[:16]) if artifact else None
        record_path = jdir / f"{name}-{key[:16]}.json"

        def finished() -> dict | None:
            record = _readable_json(record_path)
            ok = isinstance(record, dict) and record.get("key") == key and (path is None or path.exists())
            return record if ok else None

        if (record := finished()) is not None:
            return record
        with _step_lock(jdir / f".{name}-{key[:16]}.lock") if shared else contextlib.nullcontext():
            if shared and (record := finished()) is not None:
                return record  # the other job computed it while this one waited
            t = time.perf_counter()
            body = compute(path)
            record = jsonable({"key": key, **body, "wall_time_s": time.perf_counter() - t})
            atomic.write_json(record_path, record)
        outcome.ran.append(name if job == outcome.job else f"{name} {job.label}")
        return record

    # ---- model job: train → sample → (reconstruct) → evaluate

    def _model_job(self, job: Job, resolved: dict, outcome: JobOutcome) -> Path:
        ds = self.dataset(job.dataset)
        spec = self.suite.model(job.label)
        ev = self.suite.evaluation
        fp = ds.fingerprint.to_dict()
        train_payload, config, started_from = self._training(outcome, job, resolved)
        resolved = {**resolved, "config": config}
        curve = self._checkpoint_curve(outcome, job, resolved, train_payload)

        def train(out_dir: Path) -> dict:
            log.info("training %s on %s (seed %d, steps %s) in %s", spec.model, job.dataset, job.seed,
                     resolved["steps"], out_dir)
            resumed = _continue_from(curve[-1]["checkpoint"], out_dir) if curve else None
            ckpt = self.backend.train(spec.model, ds, out_dir=out_dir, config=config, steps=resolved["steps"],
                                      seed=job.seed, device=self.device, progress=self.progress)
            return {"checkpoint": os.path.relpath(ckpt, self.out_dir),
                    **({"resumed_from_step": curve[-1]["step"]} if resumed else {})}

        trained = self._step(outcome, job, "train", train_payload, train, artifact="train-{}", shared=True)
        ckpt = self.out_dir / trained["checkpoint"]

        sampled, samples_path, evaluated = self._outputs_and_evaluate(outcome, job, ckpt, trained["key"], ds, spec)
        translated = ds.task is not None

        recon = None
        if ev.reconstruction_metrics and not translated and self.backend.can_translate(spec.model):
            def reconstruct(_: None) -> dict:
                originals = ds.split(ev.split).samples[: ev.n_reconstruct]
                rec = np.asarray(self.backend.translate(ckpt, originals, self.device))
                if rec.shape != originals.shape or rec.dtype != np.uint8:
                    raise GenbenchError(f"{spec.label}: reconstruct() returned {rec.dtype} {rec.shape}, "
                                        f"expected uint8 {originals.shape}")
                metrics = [_standard_error(m, len(originals)) for m in self.backend.evaluate_reconstructions(originals, rec)
                           if m.name in ev.reconstruction_metrics]
                return {"n": int(len(originals)), "split": ev.split, "metrics": [m.to_dict() for m in metrics]}

            recon = self._step(outcome, job, "reconstruct",
                               {"train": trained["key"], "split": ev.split, "n": ev.n_reconstruct, "std": "sem",
                                "metrics": list(ev.reconstruction_metrics), "dataset": fp}, reconstruct)

        scored = self._model_metrics(outcome, job, ckpt, trained["key"], ds) if not translated else None
        figures = self._paper_figures(outcome, job, ckpt, trained["key"], ds, spec.model) if not translated else None
        evaluation = evaluated["evaluation"]
        if scored:
            evaluation = {**evaluation, "metrics": [*evaluation.get("metrics", []), *scored["metrics"]],
                          "warnings": [*evaluation.get("warnings", []), *scored["warnings"]]}
        steps = {"train": trained, "translate" if translated else "sample": sampled, "evaluate": evaluated,
                 **({"reconstruct": recon} if recon else {}), **({"model-metrics": scored} if scored else {}),
                 **({"figures": figures} if figures else {})}
        curve_extra = {}
        if curve:
            curve_extra["metric_curve"] = _metric_curve(curve, resolved["steps"], trained, evaluated)
            steps.update({f"curve-{c['step']}": c["evaluated"] for c in curve})
        return self._write_result(job, evaluation, samples_path, {
            **curve_extra,
            **({"not_applicable": scored["not_applicable"]} if scored else {}),
            **({"paper_figures": {"file": os.path.relpath(self.job_dir(job) / f"figures-{figures['key'][:16]}.npz",
                                                          self.out_dir), "figures": figures["figures"]}}
               if figures and figures["figures"] else {}),
            "model": spec.model,
            "config": train_payload["config"],
            **({"init_from": started_from} if started_from else {}),
            "overrides": dict(spec.overrides),
            "steps": resolved["steps"],
            "checkpoint": os.path.relpath(ckpt, self.out_dir),
            "curves": _training_curves(ckpt / "train_log.jsonl"),
            "keys": {k: r["key"] for k, r in steps.items()},
            "wall_times_s": {k: r["wall_time_s"] for k, r in steps.items()},
        }, recon)

    def _model_metrics(self, outcome: JobOutcome, job: Job, ckpt: Path, train_key: str, ds: Dataset) -> dict | None:
        """The suite's model metrics (path length, truncation sweep, editing) of the final
        checkpoint, as one cached step; what does not apply to the model is recorded with why."""
        ev = self.suite.evaluation
        if not ev.model_metrics:
            return None

        def score(_: None) -> dict:
            return self.backend.score_model(ckpt, ds, ev, seed=job.seed, device=self.device, cache_dir=self.cache_dir)

        from genbench.metrics.registry import get_metric

        resolved = {m: get_metric(m).resolved(ev.metric_params(m)) for m in ev.model_metrics if get_metric(m).resolved}
        return self._step(outcome, job, "model-metrics",
                          {"train": train_key, "metrics": {m: ev.metric_params(m) for m in ev.model_metrics},
                           "resolved": resolved,
                           "n": ev.n, "split": ev.split, "seed": job.seed, "dataset": ds.fingerprint.to_dict(),
                           "extractor": self.extractor(job.dataset)}, score)

    def _paper_figures(self, outcome: JobOutcome, job: Job, ckpt: Path, train_key: str, ds: Dataset,
                       model: str) -> dict | None:
        """The model's paper figures (``baselines.paper_figures``), as one cached step: the image
        grids in ``figures-KEY.npz`` (plain arrays) and their titles and labels in the step's record."""
        if not getattr(self.backend, "has_paper_figures", lambda _: False)(model):
            return None
        from baselines.paper_figures import EXAMPLES, Examples, save_figures

        split = self.suite.evaluation.split

        def draw(path: Path) -> dict:
            s = ds.split(split)
            head = slice(0, EXAMPLES)
            examples = Examples(s.samples[head], None if s.labels is None else s.labels[head],
                                None if s.captions is None else s.captions[head], ds.vocabulary)
            figures = self.backend.paper_figures(ckpt, examples, seed=job.seed, device=self.device)
            with atomic.atomic_path(path) as tmp:
                labels = save_figures(tmp, figures)
            return {"figures": labels}

        return self._step(outcome, job, "figures", {"train": train_key, "split": split, "seed": job.seed,
                                                    "dataset": ds.fingerprint.to_dict()},
                          draw, artifact="figures-{}.npz")

    def _training(self, outcome: JobOutcome, job: Job, resolved: dict) -> tuple[dict, Any, dict | None]:
        """The train step's key payload, the config to train with, and what training starts from.

        A model with a suite ``init_from`` first gets its source's trained checkpoint (same dataset
        and seed) through the source's own cached train step, in the source's job directory and
        under its key: whichever job gets there first trains it, the other waits and reuses it.
        The source's train key is part of this model's key (retraining the source retrains this
        model); the checkpoint's path is not (a run directory may move)."""
        config = resolved["config"]
        payload = {"model": self.suite.model(job.label).model, "config": _config_dict(config),
                   "steps": resolved["steps"], "seed": job.seed, "dataset": self.dataset(job.dataset).fingerprint.to_dict()}
        source = resolved.get("init_from")
        if source is None:
            return payload, config, None
        source_job = Job(job.dataset, source["label"], source["model"], job.seed)
        source_payload, source_config, _ = self._training(outcome, source_job, source["resolved"])
        ds = self.dataset(job.dataset)

        def train_source(out_dir: Path) -> dict:
            log.info("training %s (%s starts from it) on %s (seed %d) in %s", source["label"], job.label,
                     job.dataset, job.seed, out_dir)
            ckpt = self.backend.train(source["model"], ds, out_dir=out_dir, config=source_config,
                                      steps=source["resolved"]["steps"], seed=job.seed, device=self.device,
                                      progress=self.progress)
            return {"checkpoint": os.path.relpath(ckpt, self.out_dir)}

        trained = self._step(outcome, source_job, "train", source_payload, train_source, artifact="train-{}",
                             shared=True)
        payload["init_from"] = {"label": source["label"], "model": source["model"], "train": trained["key"]}
        started_from = {**payload["init_from"], "job": source_job.id, "checkpoint": trained["checkpoint"]}
        return payload, dataclasses.replace(config, init_from=str(self.out_dir / trained["checkpoint"])), started_from

    def _checkpoint_curve(self, outcome: JobOutcome, job: Job, resolved: dict, train_payload: dict) -> list[dict]:
        """Metric curves (``evaluation.every``): train to each intermediate step in turn, each run
        continuing the previous checkpoint (training resumes bit-exactly, so the checkpoint at step
        k is the one an uninterrupted run has at k, and is keyed as such), then sample and score it
        with the suite's protocol. Every stage is a cached step: a rerun or an interrupted run
        resumes. Returns, per step, the train record, its checkpoint and its evaluate record."""
        ds = self.dataset(job.dataset)
        ev = self.suite.evaluation
        spec = self.suite.model(job.label)
        points: list[dict] = []
        if ev.every is not None and not resolved["steps"]:
            log.warning("%s: evaluation.every needs the model's step count (steps:) to place its checkpoints; "
                        "no metric curve", job.label)
        for k in ev.curve_steps(resolved["steps"]):
            prev = points[-1]["checkpoint"] if points else None

            def train_to(out_dir: Path, k=k, prev=prev) -> dict:
                resumed = _continue_from(prev, out_dir) if prev is not None else None
                log.info("training %s on %s (seed %d) to step %d for the metric curve", spec.model, job.dataset,
                         job.seed, k)
                ckpt = self.backend.train(spec.model, ds, out_dir=out_dir, config=resolved["config"], steps=k,
                                          seed=job.seed, device=self.device, progress=self.progress)
                return {"checkpoint": os.path.relpath(ckpt, self.out_dir), "step": k, "resumed": bool(resumed)}

            trained = self._step(outcome, job, "train-at", {**train_payload, "steps": k}, train_to,
                                 artifact="train-at-{}")
            ckpt = self.out_dir / trained["checkpoint"]
            _, _, evaluated = self._outputs_and_evaluate(outcome, job, ckpt, trained["key"], ds, spec)
            points.append({"step": k, "checkpoint": ckpt, "trained": trained, "evaluated": evaluated})
        return points

    def _outputs_and_evaluate(self, outcome: JobOutcome, job: Job, ckpt: Path, train_key: str, ds: Dataset,
                              spec) -> tuple[dict, Path, dict]:
        """A checkpoint's samples (or, on an image-to-image task, translations) and their scores."""
        if ds.task is not None:
            return self._translate_and_evaluate(outcome, job, ckpt, train_key, ds, spec)
        return self._sample_and_evaluate(outcome, job, ckpt, train_key, ds, spec.label)

    def _translate_and_evaluate(self, outcome: JobOutcome, job: Job, ckpt: Path, train_key: str, ds: Dataset,
                                spec) -> tuple[dict, Path, dict]:
        """Translate the first n inputs of the evaluation split (a model with an inverse: also the
        first n domain-B images back, and its outputs round the cycle), then score them by the
        dataset's task (:mod:`genbench.translations`); both cached steps."""
        ev = self.suite.evaluation
        task = task_of(ds)
        split = translation_split(ds, ev.split)
        inverse = task.kind == "unpaired" and bool(self.backend.has_inverse(spec.model))
        held: dict[str, Translations] = {}
        where = f"{job.id}: {spec.label} ({spec.model})"

        def translate(path: Path) -> dict:
            n = min(ev.n, len(split.inputs))
            idx = np.arange(n)
            if split.sizes is not None:  # images of different sizes: one at a time, each at its own size
                out = translate_each(split, n, lambda x, shape: self._translated(ckpt, x, job.seed, False, shape, where))
            else:
                out = self._translated(ckpt, split.inputs[idx], job.seed, False, split.samples.shape[1:], where)
            tr = Translations(outputs=out, indices=idx)
            if inverse:
                nb = min(ev.n, len(split.samples))
                tr.inverse_indices = np.arange(nb)
                tr.inverse_outputs = self._translated(ckpt, split.samples[:nb], job.seed, True,
                                                      split.inputs.shape[1:], where)
                tr.cycle = self._translated(ckpt, out, job.seed, True, split.inputs.shape[1:], where)
            # the first inputs and targets ride along for the leaderboard's input | output | target figure
            k = min(FIGURE_EXAMPLES, n)
            examples = {"example_inputs": split.inputs[:k], **({"example_targets": split.samples[:k]}
                                                               if task.kind != "unpaired" else {})}
            _save_npz(path, **tr.arrays(), **examples)
            held["tr"] = tr
            return {"n": n, "split": ev.split, "inverse": inverse}

        translated = self._step(outcome, job, "translate", {"train": train_key, "split": ev.split, "n": ev.n,
                                                            "seed": job.seed, "inverse": inverse,
                                                            "dataset": ds.fingerprint.to_dict()},
                                translate, artifact="translations-{}.npz")
        path = self.job_dir(job) / f"translations-{translated['key'][:16]}.npz"

        def evaluate(_: None) -> dict:
            tr = held.get("tr")
            if tr is None:
                with np.load(path, allow_pickle=False) as z:
                    tr = Translations.from_arrays(z)
            evaluation = self.backend.evaluate_translations(tr, ds, ev, seed=job.seed, device=self.device,
                                                            cache_dir=self.cache_dir, progress=self.progress)
            evaluation = dict(evaluation)
            n = len(tr.outputs)  # pair metrics' std over images → the standard error of their mean
            evaluation["metrics"] = [_standard_error(MetricResult.from_dict(m), n).to_dict()
                                     if _per_image(m["name"]) else m for m in evaluation.get("metrics", [])]
            return {"evaluation": evaluation}

        # the networks' identities key the scores; only those the protocol will run are looked up
        # (an SR split of a few photos computes no FID, so needs no Inception weights)
        n = min(ev.n, len(split.inputs))
        features = n >= MIN_FEATURE_IMAGES and any(m in FEATURE_METRICS + ("inverse",) for m in ev.metrics)
        classifier = any(m in ("task_accuracy", "source_only_accuracy", "inverse") for m in ev.metrics)
        evaluated = self._step(outcome, job, "evaluate",
                               {"translations": translated["key"], "protocol": {**_protocol(ev), "sr_mode": ev.sr_mode if task.kind == "sr" else None},
                                "task": task.to_dict(), "dataset": ds.fingerprint.to_dict(), "seed": job.seed,
                                "extractor": self.extractor(job.dataset) if features else None,
                                "classifier": self.backend.classifier_identity(task.classifier) if classifier else None},
                               evaluate)
        return translated, path, evaluated

    def _translated(self, ckpt: Path, images: np.ndarray, seed: int, inverse: bool, expected: tuple,
                    where: str) -> np.ndarray:
        out = np.asarray(self.backend.translate_images(ckpt, images, seed=seed, device=self.device, inverse=inverse))
        want = f"uint8 {len(images)}×{'×'.join(map(str, expected))}"
        if out.dtype != np.uint8 or out.shape != (len(images), *expected):
            raise GenbenchError(f"{where}: {'inverse-translating' if inverse else 'translating'} {len(images)} "
                                f"images gave {out.dtype} {'×'.join(map(str, out.shape))}, expected {want}")
        return out

    def _sample_and_evaluate(self, outcome: JobOutcome, job: Job, ckpt: Path, train_key: str, ds: Dataset,
                             label: str) -> tuple[dict, Path, dict]:
        """Sample a checkpoint and score the samples, both as cached steps (the final checkpoint
        and every checkpoint of a metric curve go through here)."""
        ev = self.suite.evaluation
        held: dict[str, np.ndarray] = {}  # samples just drawn, so evaluate need not read them back

        captions = self._captions(job, ds)

        def sample(path: Path) -> dict:
            if captions is None:
                samples = np.asarray(self.backend.sample(ckpt, ev.n, job.seed, self.device))
            else:  # a text model: one image per caption of the evaluation split, cycled to n
                samples = np.asarray(self.backend.sample(ckpt, ev.n, job.seed, self.device, captions=captions))
            _check_samples(samples, ds, ev.n, label)
            _save_npz(path, samples=samples, **({} if captions is None else {"captions": captions}))
            held["samples"] = samples
            return {"n": int(len(samples))}

        sampled = self._step(outcome, job, "sample", {"train": train_key, "n": ev.n, "seed": job.seed},
                             sample, artifact="samples-{}.npz")
        samples_path = self.job_dir(job) / f"samples-{sampled['key'][:16]}.npz"
        return sampled, samples_path, self._evaluate_step(outcome, job, sampled["key"], samples_path, held)

    def _evaluate_step(self, outcome: JobOutcome, job: Job, samples_key: str, samples_path: Path,
                       held: dict[str, np.ndarray]) -> dict:
        """Score a job's samples (generated or real) with the suite's protocol."""
        ds = self.dataset(job.dataset)
        ev = self.suite.evaluation

        def evaluate(_: None) -> dict:
            samples = held.get("samples")
            if samples is None:
                with np.load(samples_path) as z:
                    samples = z["samples"]
            evaluation = {"metrics": []}  # a suite may score only what the runner adds (caption_consistency)
            if ev.sample_metrics:
                evaluation = dict(self.backend.evaluate(samples, ds, ev, seed=job.seed, device=self.device,
                                                        cache_dir=self.cache_dir, data_root=self.data_root,
                                                        progress=self.progress))
            captions = None if job.is_real else self._captions(job, ds)
            if captions is not None and "caption_consistency" in ev.metrics:  # the text protocol: does each image show its caption's digit?
                from genbench.data.captioned import caption_classes
                from genbench.metrics.caption import caption_consistency

                classes = caption_classes(captions, ds.vocabulary)
                result = caption_consistency(samples, classes, device=self.device)
                evaluation["metrics"] = [*evaluation.get("metrics", []), result.to_dict()]
            return {"evaluation": evaluation}

        return self._step(outcome, job, "evaluate",
                          {"samples": samples_key, "protocol": _protocol(ev), "dataset": ds.fingerprint.to_dict(),
                           "seed": job.seed, "extractor": self.extractor(job.dataset)}, evaluate)

    # ---- real-data ceiling: held-out real samples scored exactly as a model's samples

    def _real_job(self, job: Job, outcome: JobOutcome) -> Path:
        ds = self.dataset(job.dataset)
        ev = self.suite.evaluation
        pool = ds.split(ev.real_split).samples
        n = min(ev.n, len(pool))
        if n < ev.n:
            log.warning("real-data row: split %r has only %d samples (< n=%d); using all of them",
                        ev.real_split, len(pool), ev.n)
        held: dict[str, np.ndarray] = {}

        def draw(path: Path) -> dict:
            idx = np.sort(np.random.default_rng(job.seed).choice(len(pool), size=n, replace=False))
            held["samples"] = pool[idx]
            _save_npz(path, samples=held["samples"])
            return {"n": n}

        drawn = self._step(outcome, job, "real-sample", {"split": ev.real_split, "n": n, "seed": job.seed,
                                                         "dataset": ds.fingerprint.to_dict()},
                           draw, artifact="samples-{}.npz")
        samples_path = self.job_dir(job) / f"samples-{drawn['key'][:16]}.npz"
        evaluated = self._evaluate_step(outcome, job, drawn["key"], samples_path, held)
        return self._write_result(job, evaluated["evaluation"], samples_path, {
            "model": None,
            "real_split": ev.real_split,
            "n_real": n,
            "keys": {"sample": drawn["key"], "evaluate": evaluated["key"]},
            "wall_times_s": {"evaluate": evaluated["wall_time_s"]},
        }, None)

    def _write_result(self, job: Job, evaluation: dict, samples_path: Path, extra: dict, recon: dict | None) -> Path:
        path = self.job_dir(job) / RESULT_FILE
        existing = _readable_json(path)
        if (existing and existing.get("keys") == extra.get("keys") and existing.get("suite") == self.suite.name
                and existing.get("profile") == self.suite.profile):
            return path  # nothing recomputed: keep the provenance of the run that computed it
        ds = self.dataset(job.dataset)
        metrics = list(evaluation.get("metrics", []))
        if recon:
            metrics += recon["metrics"]
        warnings = list(dict.fromkeys([*ds.warnings, *evaluation.get("warnings", [])]))
        result = {
            "format": "genbench-job-result/1",
            "suite": self.suite.name,
            "profile": self.suite.profile,
            "job": job.to_dict() | {"id": job.id},
            "metrics": metrics,
            "protocol": {
                **_protocol(self.suite.evaluation),
                "dataset": ds.fingerprint.to_dict(),
                **{k: v for k, v in (evaluation.get("protocol") or {}).items() if k != "dataset"},
                **({"reconstruction": {k: recon[k] for k in ("split", "n")}} if recon else {}),
                **({"real_row": NO_REAL_ROW} if ds.task is not None else {}),
            },
            "provenance": {
                "evaluation": evaluation.get("provenance", {}),
                "environment": environment(self._device_for_provenance()),
                "dataset_source": ds.source,
                "code_sha256": {"evaluation": code_hash.evaluation_code(),
                                **({} if job.is_real else {"training": code_hash.training_code()})},
            },
            "warnings": warnings,
            "samples": os.path.relpath(samples_path, self.out_dir),
            "mode_means": None if ds.modes is None else ds.modes.means.tolist(),
            **extra,
        }
        atomic.write_json(path, jsonable(result))
        return path

    def _device_for_provenance(self):
        try:
            return resolve_device(self.device)
        except GenbenchError:
            return None


# --------------------------------------------------------------------------- helpers


def _quiet(_: str) -> None:
    pass


@contextlib.contextmanager
def _step_lock(path: Path):
    """Exclusive, blocking flock on ``path`` (the kernel drops it if the holder dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the last descriptor of the open file releases the lock


def _protocol(ev: Evaluation) -> dict:
    """The parts of the evaluation protocol that change generated-sample numbers."""
    return {"n": ev.n, "split": ev.split, "extractor": ev.extractor, "metrics": list(ev.sample_metrics),
            "batch_size": ev.batch_size, "bootstrap": ev.bootstrap}


def _continue_from(previous: Path, out_dir: Path) -> bool:
    """Start ``out_dir`` as a copy of an earlier checkpoint of the same training run (copied whole
    and renamed into place, so an interrupted copy leaves nothing half-made); training then
    continues from it. A partly trained ``out_dir`` (an interrupted run) is resumed as it is."""
    if out_dir.exists():
        return False
    tmp = out_dir.with_name(out_dir.name + ".copying")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(previous, tmp)
    os.replace(tmp, out_dir)
    return True


def _metric_curve(curve: list[dict], final_steps: int, trained: dict, evaluated: dict) -> dict:
    """Every column's value and std at each scored step (the final checkpoint last), and the
    cumulative training wall time to reach it (each stage's time continued the previous one's)."""
    stages = [(c["step"], c["trained"], c["evaluated"]) for c in curve] + [(final_steps, trained, evaluated)]
    wall, total = [], 0.0
    for i, (_, t, _) in enumerate(stages):
        continued = t.get("resumed", False) if i < len(curve) else "resumed_from_step" in t
        total = (total if continued else 0.0) + float(t.get("wall_time_s", 0.0))
        wall.append(total)
    columns: dict[str, dict[str, list]] = {}
    for i, (_, _, e) in enumerate(stages):
        for m in e["evaluation"].get("metrics", []):
            col = columns.setdefault(m["name"], {"value": [None] * len(stages), "std": [None] * len(stages)})
            col["value"][i], col["std"][i] = m.get("value"), m.get("std")
    return {"step": [s for s, _, _ in stages], "train_wall_s": wall, "metrics": columns}


def _standard_error(m: MetricResult, n: int) -> MetricResult:
    """PSNR/SSIM/L1 come with their spread over images (std, ddof 0); the uncertainty of their
    mean is the standard error, the sample std (ddof 1) over sqrt(n) — as ``genbench eval
    --targets`` computes it (genbench.paired), so both print the same ± for the same images.

    The leaderboard's ± and the gate's noise are about the mean, so the per-image spread is
    kept in params and the standard error becomes ``std``.
    """
    if m.std is None or n < 2:
        return m
    sample_std = float(m.std) * float(np.sqrt(n / (n - 1)))
    return dataclasses.replace(m, std=sample_std / float(np.sqrt(n)),
                               params={**dict(m.params), "per_image_std": sample_std, "n_images": int(n),
                                       "std_is": "standard error of the mean over images (per-image std, ddof 1, / √n)"})


def _per_image(column: str) -> bool:
    """Columns that are a mean over images (their std is the spread over images)."""
    return column in ("psnr", "ssim", "l1", "psnr_hole", "ssim_hole", "l1_hole", "cycle_psnr", "lpips")


def _config_dict(config: Any) -> dict:
    """A model config (a dataclass) as the plain dict its key and result record."""
    return dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)


def _readable_json(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def _save_npz(path: Path, **arrays) -> None:
    with atomic.atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)


def _check_samples(samples: np.ndarray, ds: Dataset, n: int, label: str) -> None:
    if len(samples) != n:
        raise GenbenchError(f"{label}: sample() returned {len(samples)} samples, expected {n}")
    if ds.kind in ("image", "voxels"):
        shape = ds.image_shape if ds.kind == "image" else ds.split("train").samples.shape[1:]
        if samples.dtype != np.uint8 or samples.shape[1:] != shape:
            raise GenbenchError(f"{label}: samples are {samples.dtype} {samples.shape[1:]}, expected uint8 {shape}")
    elif samples.ndim != 2 or samples.shape[1] != 2 or not np.isfinite(samples).all():
        raise GenbenchError(f"{label}: samples must be finite N×2 points, got {samples.dtype} {samples.shape}")


def _training_curves(log_path: Path) -> dict:
    """Losses against steps from a checkpoint's train_log.jsonl, thinned to at most 200 points."""
    rows = []
    try:
        with open(log_path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        rows.append(json.loads(line))
                    except ValueError:
                        continue  # a line cut by kill -9 during training
    except OSError:
        return {}
    rows = [r for r in rows if isinstance(r, dict) and isinstance(r.get("step"), (int, float))]
    if not rows:
        return {}
    if len(rows) > MAX_CURVE_POINTS:
        idx = np.unique(np.linspace(0, len(rows) - 1, MAX_CURVE_POINTS).round().astype(int))
        rows = [rows[i] for i in idx]
    skip = {"step", "wall_time", "wall_time_s", "time", "epoch"}
    keys = sorted({k for r in rows for k, v in r.items()
                   if k not in skip and isinstance(v, (int, float)) and not isinstance(v, bool)})
    return {"step": [r["step"] for r in rows],
            **{k: [r.get(k) if isinstance(r.get(k), (int, float)) and np.isfinite(r.get(k)) else None for r in rows]
               for k in keys}}
