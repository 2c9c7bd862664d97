"""Scoring an image-to-image model's outputs by its dataset's task (``Dataset.task``).

The suite runner translates the first ``n`` inputs of the evaluation split (and, for a model
with an inverse, the first ``n`` domain-B images back, and its outputs round the cycle) and
hands the arrays here. Each task has the protocol its papers measure with; every number's
parameters, the task and what was skipped (and why) go into the result's protocol, so the gate
never compares two protocols:

- ``sr``: PSNR/SSIM against the HR targets on the Y channel of BT.601 with ``scale``
  pixels cropped from each border, mean over images (``sr_mode: rgb`` scores RGB instead, as
  BasicSR's model zoo reports; an explicit option, never the default); FID when the split has
  enough images for it.
- ``translation``: PSNR, SSIM, L1 against the target; FID of the outputs against the split's
  targets; ``task_accuracy``: the task classifier's accuracy on the outputs against the targets'
  labels.
- ``unpaired`` (A in ``inputs``, B in ``samples``): A → B FID against domain B and accuracy
  against the inputs' labels; with an inverse, B → A FID against domain A and accuracy against
  the B labels (``inverse``), and ``cycle_psnr`` of A → B → A against A; and
  ``source_only_accuracy``: the classifier (trained on the source domain A, e.g. MNIST) on the
  *untranslated* B images against their labels — the number translation is meant to beat.
- ``inpainting``: PSNR/SSIM/L1 on the whole image and on the hole alone (``hole``), FID,
  task accuracy.

Metrics a suite lists that a task does not define are skipped with the reason recorded, so one
suite can hold datasets of several tasks (pix2pix on edges and on holes).
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings as _warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from genbench.data.dataset import Dataset, Split
from genbench.errors import GenbenchError
from genbench.jsonable import jsonable
from genbench.metrics import registry
from genbench.metrics.result import MetricResult

# Fewer images than this and a Fréchet/kernel distance says more about its sample-size bias than
# about the model (photos-sr4's test split holds a handful of photos): skipped with that reason.
MIN_FEATURE_IMAGES = 50
SR_MODES = ("y", "rgb")
FIGURE_EXAMPLES = 8  # inputs (and targets) stored beside the outputs for the leaderboard's figure

PAIR_METRICS = ("psnr", "ssim", "l1")
FEATURE_METRICS = ("fid", "kid", "prdc")
TASK_METRICS = {
    "sr": ("psnr", "ssim") + FEATURE_METRICS + ("lpips",),  # the SR tables report PSNR/SSIM, not L1
    "translation": PAIR_METRICS + FEATURE_METRICS + ("task_accuracy", "lpips"),
    "inpainting": PAIR_METRICS + ("hole",) + FEATURE_METRICS + ("task_accuracy", "lpips"),
    "unpaired": FEATURE_METRICS + ("task_accuracy", "inverse", "cycle_psnr", "source_only_accuracy"),
}


@dataclass
class Translations:
    """What the runner stored for one model: ``outputs[i]`` = model(inputs[indices[i]]), and for
    an unpaired model with an inverse ``inverse_outputs[j]`` = inverse(samples[inverse_indices[j]])
    and ``cycle[i]`` = inverse(outputs[i])."""

    outputs: np.ndarray
    indices: np.ndarray
    inverse_outputs: np.ndarray | None = None
    inverse_indices: np.ndarray | None = None
    cycle: np.ndarray | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        """As stored (npz): ``samples`` are the outputs, so every sample figure shows them."""
        out = {"samples": self.outputs, "indices": self.indices}
        for k in ("inverse_outputs", "inverse_indices", "cycle"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out

    @classmethod
    def from_arrays(cls, z) -> "Translations":
        get = lambda k: z[k] if k in z else None  # noqa: E731
        return cls(outputs=z["samples"], indices=z["indices"], inverse_outputs=get("inverse_outputs"),
                   inverse_indices=get("inverse_indices"), cycle=get("cycle"))


def task_of(dataset: Dataset) -> Any:
    if dataset.task is None:
        raise GenbenchError(f"dataset {dataset.name!r} is not an image-to-image dataset (it declares no task)")
    return dataset.task


def translation_split(dataset: Dataset, split: str) -> Split:
    s = dataset.split(split)
    if s.inputs is None:
        raise GenbenchError(f"dataset {dataset.name!r} split {split!r} holds no input images to translate")
    return s


def translate_each(split: Split, n: int, translate) -> np.ndarray:
    """The first ``n`` inputs of a split of images of different sizes, each translated alone at its
    own size by ``translate(batch_of_one, expected C×H×W)``, placed on a canvas like the targets'."""
    out = np.zeros((n, *split.samples.shape[1:]), dtype=np.uint8)
    for i in range(n):
        h, w = split.sizes[i]
        out[i, :, :h, :w] = translate(split.input(i)[None], (split.samples.shape[1], int(h), int(w)))[0]
    return out


def evaluate_translations(tr: Translations, dataset: Dataset, *, split: str, metrics: list[str],
                          extractor: str | None, sr_mode: str = "y", seed: int = 0, device=None,
                          batch_size: int = 250, bootstrap: int = 0, cache_dir=None, progress: bool = False,
                          n_reference: int | None = None) -> dict:
    """Score ``tr`` by ``dataset``'s task; returns the runner's evaluation record (metrics,
    protocol, provenance, warnings). ``n_reference`` caps the real images a feature metric
    compares with (default: as many as there are outputs)."""
    from genbench.device import resolve_device
    from genbench.features import default_extractor
    from genbench.provenance import environment

    t0 = time.perf_counter()
    if sr_mode not in SR_MODES:
        raise GenbenchError(f"sr_mode must be one of {', '.join(SR_MODES)}, got {sr_mode!r}")
    dev = resolve_device(device)
    sc = _Scorer(tr, dataset, split, extractor or default_extractor(dataset), sr_mode, seed, dev, batch_size,
                 bootstrap, cache_dir, progress, len(tr.outputs) if n_reference is None else int(n_reference))
    # what the metrics warn about (rank-deficient covariances ...) goes into the result
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        for name in metrics:
            sc.score(name)
    warnings = list(dict.fromkeys(sc.warnings + [str(w.message) for w in caught
                                                 if not issubclass(w.category, DeprecationWarning)]))
    order = list(registry.COLUMNS)
    results = sorted(sc.results, key=lambda m: order.index(m.name) if m.name in order else len(order))
    wall = time.perf_counter() - t0
    task = sc.task
    protocol = {
        "task": task.to_dict(), "split": split, "n_translated": sc.n,
        "n_inverse": None if tr.inverse_outputs is None else len(tr.inverse_outputs),
        "inputs": "the first n inputs of the split, in order",
        **({"sr_mode": sr_mode} if task.kind == "sr" else {}),
        "extractor": sc.identities.get(sc.feature_name), "classifier": sc.identities.get(task.classifier),
        "metrics": list(metrics), "skipped": sc.skipped, "min_feature_images": MIN_FEATURE_IMAGES,
        "metric_params": {m.name: jsonable(dict(m.params)) for m in results},
    }
    provenance = environment(dev)
    provenance["wall_time_s"] = wall
    return {"metrics": [m.to_dict() for m in results], "protocol": protocol, "provenance": provenance,
            "warnings": warnings, "wall_time_s": wall}


class _Scorer:
    """One model's translations scored metric by metric; ``skipped`` says why a metric was not."""

    def __init__(self, tr: Translations, dataset: Dataset, split: str, feature_name: str | None, sr_mode: str,
                 seed: int, device, batch_size: int, bootstrap: int, cache_dir, progress: bool, n_reference: int):
        self.tr, self.dataset, self.split_name, self.feature_name = tr, dataset, split, feature_name
        self.task = task_of(dataset)
        self.s = translation_split(dataset, split)
        self.sr_mode, self.seed, self.device, self.batch_size = sr_mode, seed, device, batch_size
        self.bootstrap, self.cache_dir, self.progress, self.n_reference = bootstrap, cache_dir, progress, n_reference
        self.n = len(tr.outputs)
        self.paired = self.task.kind != "unpaired"
        self.targets = self.s.samples[tr.indices] if self.paired else None
        self.results: list[MetricResult] = []
        self.skipped: dict[str, str] = {}
        self.warnings: list[str] = []
        self.identities: dict[str, dict] = {}
        self._extractors: dict[str, Any] = {}

    # ---- plumbing

    def _ext(self, name: str):
        from genbench.features import get_extractor

        if name not in self._extractors:
            self._extractors[name] = get_extractor(name)
            self.identities[name] = self._extractors[name].identity.to_dict()
        return self._extractors[name]

    def _features(self, images: np.ndarray, name: str):
        from genbench.features import iter_batches

        return self._ext(name).extract(iter_batches(images, self.batch_size), device=self.device,
                                       progress=self.progress, total=len(images))

    def _inputs(self, **kw) -> registry.MetricInputs:
        return registry.MetricInputs(kind="image", seed=self.seed, device=self.device, bootstrap=self.bootstrap,
                                     dataset=self.dataset, split=self.split_name, warnings=self.warnings, **kw)

    def _run(self, name: str, x: registry.MetricInputs, rename: str | None = None, **params) -> None:
        spec = registry.get_metric(name)
        unknown = [p for p in params if p not in spec.params]
        if unknown:
            raise GenbenchError(f"metric {name!r} takes no parameter {', '.join(unknown)}, which the "
                                f"{self.task.kind} protocol sets (declared parameters: "
                                f"{', '.join(spec.params) or 'none'})")
        for r in spec.compute(x, **{**dict(spec.params), **params}):
            r = dataclasses.replace(r, params={**dict(r.params), **params})
            self.results.append(dataclasses.replace(r, name=rename) if rename else r)

    def _run_each(self, name: str, **params) -> None:
        """A pair metric of images of different sizes: scored image by image at each one's size,
        then the mean and the std (ddof 0) over images, as the metric summarises a batch."""
        per_image = []
        for j, i in enumerate(self.tr.indices):
            h, w = self.s.sizes[i]
            before = len(self.results)
            self._run(name, self._inputs(pairs=(self.s.target(i)[None], self.tr.outputs[j:j + 1, :, :h, :w])),
                      **params)
            per_image.append(self.results[before:])
            del self.results[before:]
        for k, first in enumerate(per_image[0]):
            v = np.array([rs[k].value for rs in per_image], dtype=np.float64)
            extra = {"n": int(v.size), "image_sizes": "each image at its own size"}
            if np.isinf(v).any():
                extra["identical_pairs"] = int(np.isinf(v).sum())
            std = float(v.std()) if v.size > 1 and np.isfinite(v).all() else float("nan")
            value = float(v.mean()) if np.isfinite(v).all() else math.inf
            self.results.append(dataclasses.replace(first, value=value, std=std,
                                                    params={**dict(first.params), **extra}))

    def _few(self, name: str, count: int, what: str) -> bool:
        if count < MIN_FEATURE_IMAGES:
            self.skipped[name] = (f"{count} {what}: fewer than {MIN_FEATURE_IMAGES}, too few for a distance "
                                  "between feature distributions")
            return True
        return False

    # ---- one metric

    def score(self, name: str) -> None:
        task, s, tr = self.task, self.s, self.tr
        defined = TASK_METRICS[task.kind]
        if name not in defined:
            self.skipped[name] = f"not part of the {task.kind} protocol"
            return
        why = registry.unavailable(name, "image", dataset=self.dataset)
        if why is not None:
            self.skipped[name] = why
            return
        if name in PAIR_METRICS:
            sr = task.kind == "sr"
            params = {"y_channel": self.sr_mode == "y", "crop_border": int(task.scale)} if sr else {}
            if s.sizes is not None:
                self._run_each(name, **params)
            else:
                self._run(name, self._inputs(pairs=(self.targets, tr.outputs)), **params)
        elif name in ("hole", "lpips"):  # lpips: whole images, every channel (optional: only where its weights are)
            if name == "lpips" and s.sizes is not None:
                self._run_each(name)
                return
            self._run(name, self._inputs(pairs=(self.targets, tr.outputs)))
        elif name in FEATURE_METRICS:
            if s.sizes is not None:
                self.skipped[name] = ("the split's images differ in size: a feature distance of their padded "
                                      "canvases would measure the padding")
                return
            if self._few(name, self.n, "outputs"):
                return
            from genbench.stats import dataset_features

            real = dataset_features(self.dataset, self.split_name, self._ext(self.feature_name),
                                    n=min(self.n_reference, len(s)), device=self.device, batch_size=self.batch_size,
                                    cache_dir=self.cache_dir, progress=self.progress)
            self._run(name, self._inputs(fake=self._features(tr.outputs, self.feature_name), real=real,
                                         n_real=len(real)))
        elif name == "task_accuracy":
            labels = s.labels if self.paired else s.input_labels
            if labels is None:
                self.skipped[name] = f"the {self.split_name} split has no labels for its " \
                                     f"{'targets' if self.paired else 'inputs'}"
                return
            self._run(name, self._inputs(fake=self._features(tr.outputs, task.classifier), labels=labels[tr.indices]))
        elif name == "source_only_accuracy":
            if s.labels is None:
                self.skipped[name] = f"the {self.split_name} split has no labels for domain B"
                return
            m = min(self.n_reference, len(s))
            self._run(name, self._inputs(fake=self._features(s.samples[:m], task.classifier), labels=s.labels[:m]))
        elif tr.inverse_outputs is None:  # inverse, cycle_psnr
            self.skipped[name] = "the model has no inverse mapping (B → A)"
        elif name == "cycle_psnr":
            self._run(name, self._inputs(pairs=(s.inputs[tr.indices], tr.cycle)))
        else:  # inverse: B → A against domain A (a fixed subset of it, the rule dataset features use)
            if self._few(name, len(tr.inverse_outputs), "B → A outputs"):
                return
            from genbench.stats import subset_indices

            m = min(self.n_reference, len(s.inputs))
            sub = subset_indices(len(s.inputs), m)
            domain_a = s.inputs if sub is None else s.inputs[sub]
            self._run(name, self._inputs(fake=self._features(tr.inverse_outputs, self.feature_name),
                                         real=self._features(domain_a, self.feature_name), n_real=m))
            if task.classifier is not None and s.labels is not None:
                self._run("task_accuracy", self._inputs(fake=self._features(tr.inverse_outputs, task.classifier),
                                                        labels=s.labels[tr.inverse_indices]),
                          rename="task_accuracy_ba")
