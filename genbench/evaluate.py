"""Score a model's samples in one call, under a protocol that is written into the result.

``evaluate(source, dataset=...)`` streams the source's samples through the feature extractor
once, compares them with the (cached) features of a dataset split, another source or a
pytorch-fid statistics file, and returns an :class:`EvalResult` holding every number with its
uncertainty and everything that determined it: dataset fingerprint and warnings, split, sample
counts, extractor identity, seed, each metric's parameters, the source's description, versions
and device. Two results are comparable exactly when their protocols agree.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import warnings as _warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from genbench.atomic import write_json
from genbench.data import load_dataset
from genbench.data.dataset import Dataset
from genbench.device import resolve_device
from genbench.errors import GenbenchError
from genbench.features import default_extractor, get_extractor
from genbench.formatting import number
from genbench.metrics import registry
from genbench.metrics.builtin import IMAGE_TO_IMAGE_METRICS
from genbench.jsonable import jsonable
from genbench.metrics.result import MetricResult
from genbench.provenance import environment
from genbench.sources import CheckpointSource, SampleSource, open_source
from genbench.hashing import sha256_file
from genbench.stats import ReferenceStats, dataset_features

log = logging.getLogger(__name__)

RESULT_FORMAT = "genbench-eval"
RESULT_FORMAT_VERSION = 1


# ---------------------------------------------------------------------------- the result


@dataclass
class EvalResult:
    metrics: list[MetricResult]
    protocol: dict
    provenance: dict
    warnings: list[str] = field(default_factory=list)
    wall_time_s: float = 0.0

    def __getitem__(self, name: str) -> MetricResult:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"no metric {name!r} in this result (have: {', '.join(m.name for m in self.metrics)})")

    def values(self) -> dict[str, float]:
        return {m.name: float(m.value) for m in self.metrics}

    def to_dict(self) -> dict:
        return {
            "format": RESULT_FORMAT,
            "format_version": RESULT_FORMAT_VERSION,
            "metrics": [m.to_dict() for m in self.metrics],
            "protocol": jsonable(self.protocol),
            "provenance": jsonable(self.provenance),
            "warnings": list(self.warnings),
            "wall_time_s": float(self.wall_time_s),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "EvalResult":
        if d.get("format") != RESULT_FORMAT:
            raise GenbenchError(f"not a genbench evaluation result (format {d.get('format')!r})")
        return cls(
            metrics=[MetricResult.from_dict(m) for m in d["metrics"]],
            protocol=dict(d["protocol"]),
            provenance=dict(d["provenance"]),
            warnings=list(d.get("warnings", [])),
            wall_time_s=float(d.get("wall_time_s", 0.0)),
        )

    def save_json(self, path: str | Path) -> None:
        write_json(path, self.to_dict())

    @classmethod
    def load_json(cls, path: str | Path) -> "EvalResult":
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, ValueError, KeyError) as exc:
            raise GenbenchError(f"{path}: not a readable genbench result ({exc})") from exc

    def format_table(self) -> str:
        p = self.protocol
        ref = p.get("reference", {})
        if ref.get("type") == "dataset":
            against = f"{ref['dataset']} [{p.get('split')}] ({_short_fp(ref.get('fingerprint'))})"
        elif ref.get("type") == "stats":
            against = f"statistics {ref.get('path')}"
        else:
            against = _describe_source(ref.get("source", {}))
        src = p.get("source", {})
        ext = p.get("extractor") or {}
        lines = [
            f"source:    {_describe_source(src)}",
            f"against:   {against}",
            f"samples:   {p.get('n_generated')} generated, {p.get('n_real')} real; seed {p.get('seed')}",
        ]
        if ext:
            lines.append(f"extractor: {ext.get('name')} (weights sha256 {str(ext.get('weights_sha256'))[:12]})")
        lines.append(f"device:    {p.get('device')}; wall time {self.wall_time_s:.1f} s")
        rows = [("metric", "value", "± std", "95% CI", "better")]
        for m in self.metrics:
            rows.append((
                m.name,
                number(m.value, fixed=True),
                "" if m.std is None else f"± {number(m.std, fixed=True)}",
                "" if m.ci is None else f"[{number(m.ci[0], fixed=True)}, {number(m.ci[1], fixed=True)}]",
                _better(m.name),
            ))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines.append("")
        for i, row in enumerate(rows):
            lines.append("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))).rstrip())
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        for w in self.warnings:
            lines.append(f"WARNING: {w}")
        return "\n".join(lines)


def _describe_source(d: dict) -> str:
    where = d.get("path") or d.get("entry_point")
    if where:
        return f"{where} ({d.get('type')})"
    shape = "×".join(str(s) for s in d.get("shape", []))
    return f"in-memory {d.get('dtype', '')} array {shape}".replace("  ", " ")


def _short_fp(fp: dict | None) -> str:
    if not fp:
        return "no fingerprint"
    return f"{fp.get('name')}@{str(fp.get('sha256'))[:12]}"


def _better(name: str) -> str:
    hib = registry.higher_is_better(name)
    return "" if hib is None else ("higher" if hib else "lower")


# ---------------------------------------------------------------------------- arguments


def parse_metrics(metrics) -> list[str] | None:
    """``None`` (defaults), ``"fid,kid"`` or an iterable of names → validated, de-duplicated list."""
    if metrics is None:
        return None
    names = metrics.split(",") if isinstance(metrics, str) else list(metrics)
    names = [str(n).strip().lower() for n in names if str(n).strip()]
    valid = ", ".join(registry.METRICS)
    if not names:
        raise GenbenchError(f"no metrics given; choose from {valid}")
    unknown = [n for n in names if n not in registry.METRICS]
    if unknown:
        raise GenbenchError(f"unknown metric(s) {', '.join(map(repr, unknown))}; valid metrics are {valid}")
    return list(dict.fromkeys(names))


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise GenbenchError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _is_stats_file(reference) -> bool:
    if not isinstance(reference, (str, Path)):
        return False
    path = Path(reference)
    if path.suffix.lower() != ".npz" or not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {"mu", "sigma"} <= set(npz.files)
    except Exception:
        return False


# ---------------------------------------------------------------------------- the protocol


@dataclass
class Protocol:
    """Everything that determined the numbers. Serialised (:meth:`to_dict`) with the keys stored
    results have always had, which the runner, report and gate read."""

    source: dict  # the source's describe()
    reference: dict  # type dataset / stats / source, and what identifies it
    dataset: str | None
    fingerprint: dict | None  # the dataset's (or the statistics file's record of it)
    dataset_warnings: list[str]
    split: str | None
    kind: str  # "image" or "points"
    n_requested: int
    n_generated: int
    n_real: int | None
    extractor: dict | None  # ExtractorIdentity as dict; None when no metric needed features
    seed: int
    batch_size: int
    metrics: list[str]
    metric_params: dict[str, dict]  # per result column, every parameter that influenced it
    device: str
    channels_reduced: str | None = None  # set when grey images saved as RGB were reduced

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if d["channels_reduced"] is None:
            del d["channels_reduced"]
        return d


@dataclass
class _Options:
    n: int
    batch_size: int
    seed: int
    bootstrap: int
    metrics: list[str] | None


@dataclass
class _Reference:
    """What the samples are compared with: a dataset split, another source, or a statistics file."""

    type: str  # "dataset", "source" or "stats" (registry.unavailable's reference kinds)
    kind: str
    desc: dict
    split: str | None = None
    dataset: Any = None
    source: Any = None
    stats: Any = None


@dataclass
class _Generated:
    """What one pass over the source leaves behind."""

    n: int = 0
    pixels: list[np.ndarray] = field(default_factory=list)  # kept only when a metric needs pixels
    channels_reduced: bool = False
    sampled: bool = True  # False when only translations were scored (nothing sampled)


# ---------------------------------------------------------------------------- evaluation


def evaluate(
    source,
    *,
    dataset=None,
    split: str = "test",
    reference=None,
    metrics=None,
    n: int = 10000,
    extractor: str | None = None,
    device=None,
    batch_size: int = 250,
    seed: int = 0,
    data_root=None,
    cache_dir=None,
    progress: bool = True,
    bootstrap: int = 0,
) -> EvalResult:
    """Score ``source`` against ``dataset`` (a name or :class:`Dataset`, split ``split``) or against
    ``reference`` (another source, or a statistics ``.npz`` — then only metrics that need no more
    than μ and Σ, fid and is).

    ``metrics``: names from the metric registry (``genbench metrics``; default: fid, kid, is, prdc
    for images, modes for points, fid against a statistics file). ``n`` caps both the generated and
    the real sample counts; asking a stored source or a split for more than it holds uses what
    there is and says so in ``warnings``. ``seed`` seeds the generator's latents, KID subsets and
    the FID bootstrap (``bootstrap`` resamples; 0 = none).

    The phases: check the options, resolve the reference, choose the metrics (refusing any that
    cannot be computed here before anything runs), gather every input they need in one pass over
    the source, compute each from the registry.
    """
    t0 = time.perf_counter()
    opts = _check_options(dataset, reference, n, batch_size, seed, bootstrap, metrics)
    dev = resolve_device(device)
    src = source if isinstance(source, SampleSource) else open_source(source, device=dev)
    ref = _resolve_reference(dataset, split, reference, data_root, dev)
    if src.kind != ref.kind:
        raise GenbenchError(f"the source gives {registry.KIND_WORDS[src.kind]} but the reference holds {registry.KIND_WORDS[ref.kind]}")
    warnings: list[str] = list(ref.dataset.warnings) if ref.dataset is not None else []
    _check_checkpoint_dataset(src, ref.dataset, warnings)
    specs = _choose_metrics(opts.metrics, src, ref)
    n_gen, n_real = _sample_counts(opts.n, src, ref, warnings)

    # Warnings the metrics raise (rank-deficient covariances, floored references ...) go into the result.
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        inputs, gen, extractor_identity = _gather(specs, src, ref, opts, n_gen=n_gen, n_real=n_real,
                                                  extractor=extractor, device=dev, cache_dir=cache_dir,
                                                  progress=progress, warnings=warnings)
        results = _compute(specs, inputs)
    package_dir = str(Path(__file__).resolve().parent)
    for w in caught:  # genbench's own warnings (and numpy's, raised from genbench code); not library noise
        if str(Path(w.filename).resolve()).startswith(package_dir) and not issubclass(w.category, DeprecationWarning):
            msg = str(w.message)
            if msg not in warnings:
                warnings.append(msg)
    if gen.sampled and gen.n != n_gen:
        raise GenbenchError(f"the source yielded {gen.n} samples, expected {n_gen}")

    wall = time.perf_counter() - t0
    ds = ref.dataset
    protocol = Protocol(
        source=src.describe(), reference=ref.desc, dataset=ds.name if ds is not None else None,
        fingerprint=ds.fingerprint.to_dict() if ds is not None else ref.desc.get("fingerprint"),
        dataset_warnings=list(ds.warnings) if ds is not None else [], split=ref.split, kind=ref.kind,
        n_requested=opts.n, n_generated=gen.n, n_real=n_real, extractor=extractor_identity, seed=opts.seed,
        batch_size=opts.batch_size, metrics=[s.name for s in specs],
        metric_params={m.name: jsonable(dict(m.params)) for m in results}, device=str(dev),
        channels_reduced="3 identical channels → 1 (greyscale dataset)" if gen.channels_reduced else None,
    )
    provenance = environment(dev)
    provenance["wall_time_s"] = wall
    # The warnings are the result's to show (``genbench eval`` prints them under its table, the
    # report under each dataset); logging them here too printed each one twice.
    return EvalResult(metrics=results, protocol=protocol.to_dict(), provenance=provenance, warnings=warnings,
                      wall_time_s=wall)


def _check_options(dataset, reference, n, batch_size, seed, bootstrap, metrics) -> _Options:
    if (dataset is None) == (reference is None):
        raise GenbenchError("give exactly one of dataset (a dataset name) or reference (a source or a statistics .npz)")
    n = _positive_int(n, "n (number of samples)")
    batch_size = _positive_int(batch_size, "batch size")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise GenbenchError(f"seed must be a non-negative integer, got {seed!r}")
    bootstrap = int(bootstrap)
    if bootstrap < 0:
        raise GenbenchError(f"bootstrap must be >= 0, got {bootstrap}")
    return _Options(n=n, batch_size=batch_size, seed=int(seed), bootstrap=bootstrap, metrics=parse_metrics(metrics))


def _resolve_reference(dataset, split, reference, data_root, dev) -> _Reference:
    if dataset is not None:
        ds = _resolve_dataset(dataset, data_root)
        ds.split(split)  # an unknown split fails here, before any sampling
        return _Reference("dataset", ds.kind, {"type": "dataset", "dataset": ds.name, "split": split,
                                               "fingerprint": ds.fingerprint.to_dict(), "dataset_source": ds.source},
                          split=split, dataset=ds)
    if _is_stats_file(reference):
        stats = ReferenceStats.load_npz(reference)
        return _Reference("stats", "image", {"type": "stats", "path": str(Path(reference).resolve()),
                                             "sha256": sha256_file(reference), "n": stats.n,
                                             "fingerprint": stats.fingerprint, "extractor": stats.extractor},
                          stats=stats)
    ref_src = reference if isinstance(reference, SampleSource) else open_source(reference, device=dev)
    return _Reference("source", ref_src.kind, {"type": "source", "source": ref_src.describe()}, source=ref_src)


def _choose_metrics(requested: list[str] | None, src, ref: _Reference) -> list[registry.MetricSpec]:
    """The registry's specs to compute, in the order asked for; any that cannot be computed here is
    refused now, naming why. The defaults are the registry's for the data kind; against a
    statistics file, those that compare with it (the feature metrics it can serve: fid)."""
    if requested is None:
        requested = [m.name for m in registry.METRICS.values() if ref.kind in m.default
                     and (ref.type != "stats" or (m.stats_reference and "features" in m.inputs_for(ref.kind)))]
    for name in requested:
        why = registry.unavailable(name, ref.kind, dataset=ref.dataset, reference=ref.type)
        spec = registry.METRICS[name]
        if why is None and spec.compute is None:
            why = "it is declared without a compute function"
        if why is None and name in IMAGE_TO_IMAGE_METRICS and name != "l1":
            why = ("it is part of an image-to-image task's protocol, which the suite runner scores knowing each "
                   "output's input, target and class (genbench.translations)")
        if why is None and "pairs" in spec.inputs_for(ref.kind) and not callable(getattr(src, "translate", None)):
            why = ("it scores a model's outputs against their targets, and this source gives samples, not "
                   "translations (the suite runner scores a model's reconstructions with evaluate_reconstructions)")
        if why is not None:
            raise GenbenchError(f"metric {name!r} cannot be computed here: {why}")
    return [registry.METRICS[n] for n in requested]


def _sample_counts(n: int, src, ref: _Reference, warnings: list[str]) -> tuple[int, int | None]:
    n_gen = n
    if src.n_available is not None and src.n_available < n:
        n_gen = src.n_available
        warnings.append(f"the source holds {src.n_available} samples, fewer than n={n}: all {n_gen} are used")
    if ref.dataset is not None:
        size = len(ref.dataset.split(ref.split))
        n_real = min(n, size)
        if n_real < n:
            warnings.append(f"the {ref.dataset.name} {ref.split} split holds {size} samples, fewer than n={n}: all {n_real} are used")
    elif ref.source is not None:
        n_real = n if ref.source.n_available is None else min(n, ref.source.n_available)
        if n_real < n:
            warnings.append(f"the reference holds {ref.source.n_available} samples, fewer than n={n}: all {n_real} are used")
    else:
        n_real = int(ref.stats.n) if ref.stats.n is not None else None
    return n_gen, n_real


def _checked_images(batches: Iterable[np.ndarray], expected: tuple | None, state: _Generated,
                    keep_pixels: bool, where: str) -> Iterator[np.ndarray]:
    """Check each batch against the dataset's image shape while streaming, keeping pixels if asked.

    RGB images whose three channels are identical (torchvision's ``save_image`` writes grey
    digits that way) are turned back into one channel when the dataset is greyscale: this is
    exact, and recorded in the protocol. Any other shape mismatch is an error.
    """
    for batch in batches:
        if expected is not None and tuple(batch.shape[1:]) != tuple(expected):
            if (expected[0] == 1 and batch.shape[1] == 3 and tuple(batch.shape[2:]) == tuple(expected[1:])
                    and np.array_equal(batch[:, 0], batch[:, 1]) and np.array_equal(batch[:, 0], batch[:, 2])):
                batch = np.ascontiguousarray(batch[:, :1])
                state.channels_reduced = True
            elif len(expected) == 4:
                raise GenbenchError(f"{where}: samples have shape {'×'.join(map(str, batch.shape[1:]))} but the "
                                    f"dataset's voxels are {'×'.join(map(str, expected))} (C×D×H×W)")
            else:
                hint = " (pass resize=(H, W) / --resize HxW to resize them)" if batch.shape[1] == expected[0] else ""
                raise GenbenchError(
                    f"{where}: samples have shape C×H×W = {'×'.join(map(str, batch.shape[1:]))} but the "
                    f"dataset's images are {'×'.join(map(str, expected))}{hint}"
                )
        state.n += batch.shape[0]
        if keep_pixels:
            state.pixels.append(batch)
        yield batch


def _gather(specs, src, ref: _Reference, opts: _Options, *, n_gen, n_real, extractor, device, cache_dir, progress,
            warnings) -> tuple[registry.MetricInputs, _Generated, dict | None]:
    """One pass over the source, keeping what the chosen metrics declared they need."""
    kind, ds = ref.kind, ref.dataset
    need = {i for s in specs for i in s.inputs_for(kind)}
    x = registry.MetricInputs(kind=kind, seed=opts.seed, device=device, bootstrap=opts.bootstrap, dataset=ds,
                              split=ref.split, n_real=n_real, stats=ref.stats, warnings=warnings)
    gen = _Generated()
    identity = None
    if need - {"pairs"}:
        batches = src.batches(n_gen, opts.batch_size, opts.seed)
        if kind == "points":
            x.samples = np.concatenate(list(batches)).astype(np.float64)
            gen.n = x.samples.shape[0]
        else:
            expected = ds.image_shape if ds is not None else None
            if ds is not None and kind == "voxels":
                expected = tuple(ds.split(ref.split).samples.shape[1:])
            stream = _checked_images(batches, expected, gen, "pixels" in need, "source")
            if need & {"features", "probabilities"}:
                ext = _make_extractor(extractor, ds, ref.stats)
                identity = ext.identity.to_dict()
                log.info("extracting features of %d generated samples with %s", n_gen, ext.identity.name)
                x.fake = ext.extract(stream, device=device, progress=progress, total=n_gen)
                if "features" in need and ref.stats is None:
                    x.real = _real_features(ref, ext, n_real, device, opts.batch_size, opts.seed, cache_dir, progress)
            else:
                for _ in stream:  # pixels only (Parzen): one pass, pixels kept
                    pass
            if "pixels" in need:
                x.samples = np.concatenate(gen.pixels) if len(gen.pixels) > 1 else gen.pixels[0]
    else:  # translations only: the source maps the reference split's images, nothing is sampled
        gen.sampled = False
    if "pairs" in need:  # the first n_real images of the split, as the suite runner reconstructs them
        targets = ds.split(ref.split).samples[:n_real]
        x.pairs = _checked_pairs(targets, _as_numpy(src.translate(targets)), "targets", "translations")
        if not gen.sampled:
            gen.n = len(targets)
    return x, gen, identity


def _compute(specs, x: registry.MetricInputs) -> list[MetricResult]:
    """Each metric's compute with its declared parameters; results in registry column order."""
    results: list[MetricResult] = []
    for spec in specs:
        out = list(spec.compute(x, **dict(spec.params)))
        stray = [r.name for r in out if r.name not in spec.column_names]
        if stray:
            raise GenbenchError(f"metric {spec.name!r} returned {', '.join(stray)}, not among its declared "
                                f"columns {', '.join(spec.column_names)}")
        results += out
    order = list(registry.COLUMNS)
    return sorted(results, key=lambda m: order.index(m.name))


def _check_checkpoint_dataset(src, ds, warnings: list[str]) -> None:
    """A genbench checkpoint knows what it was trained on: say so when that is another dataset."""
    if ds is None or not isinstance(src, CheckpointSource):
        return
    trained = getattr(src.model, "dataset_fingerprint", None) or {}
    if trained.get("name") and trained.get("name") != ds.name:
        warnings.append(
            f"the checkpoint was trained on {trained.get('name')!r} but is evaluated against {ds.name!r}"
        )


def _resolve_dataset(dataset, data_root):
    if isinstance(dataset, Dataset):
        return dataset
    return load_dataset(str(dataset), data_root=data_root)


def _make_extractor(name, ds, ref_stats):
    if name is None:
        if ds is not None:
            name = default_extractor(ds)
        elif ref_stats is not None and ref_stats.extractor:
            name = ref_stats.extractor.get("name")
        if name is None:
            name = "inception-v3-fid"  # what pytorch-fid compares two image folders with
    ext = get_extractor(name)
    if ref_stats is not None:
        rec = ref_stats.extractor or {}
        if rec and (rec.get("name") != ext.identity.name or rec.get("weights_sha256") != ext.identity.weights_sha256):
            raise GenbenchError(
                f"the statistics were computed with extractor {rec.get('name')} (weights "
                f"{str(rec.get('weights_sha256'))[:12]}) but this evaluation uses {ext.identity.name} "
                f"(weights {ext.identity.weights_sha256[:12]}); FID across feature spaces is meaningless"
            )
    return ext


def _real_features(ref: _Reference, ext, n_real, dev, batch_size, seed, cache_dir, progress):
    if ref.dataset is not None:
        return dataset_features(ref.dataset, ref.split, ext, n=n_real, device=dev, batch_size=batch_size,
                                cache_dir=cache_dir, progress=progress)
    log.info("extracting features of %d reference samples with %s", n_real, ext.identity.name)
    return ext.extract(ref.source.batches(n_real, batch_size, seed), device=dev, progress=progress, total=n_real)


# ---------------------------------------------------------------------------- reconstructions


def evaluate_reconstructions(originals, reconstructions, metrics=None) -> list[MetricResult]:
    """The registry's pair metrics (psnr, ssim and any third-party one whose input is "pairs")
    between ``uint8`` images and a model's outputs for them (reconstructions, translations).

    Both must be ``uint8`` in the same layout (N×C×H×W or N×H×W): quantising before scoring is
    what a saved output would be, and keeps the numbers comparable across models. ``metrics``
    names some of them (default: all).
    """
    pairs = _checked_pairs(_as_numpy(originals), _as_numpy(reconstructions), "originals", "reconstructions")
    # The default leaves out the image-to-image family's metrics: the reconstruction columns of
    # existing runs stay what they were, and hole/cycle metrics need a task's dataset.
    names = parse_metrics(metrics) or [m.name for m in registry.METRICS.values() if "pairs" in m.inputs_for("image")
                                       and m.name not in IMAGE_TO_IMAGE_METRICS]
    specs = [registry.METRICS[n] for n in names]
    for spec in specs:
        if spec.inputs_for("image") != ("pairs",) or spec.compute is None:
            raise GenbenchError(f"metric {spec.name!r} does not score (target, output) pairs")
        if spec.check is not None:
            raise GenbenchError(f"metric {spec.name!r} scores an image-to-image task's outputs "
                                "(the suite runner computes it on a dataset with a task), not reconstructions")
    return _compute(specs, registry.MetricInputs(kind="image", pairs=pairs))


def _checked_pairs(a: np.ndarray, b: np.ndarray, what_a: str, what_b: str) -> tuple[np.ndarray, np.ndarray]:
    for what, x in ((what_a, a), (what_b, b)):
        if x.dtype != np.uint8:
            raise GenbenchError(f"{what} must be uint8 images (0..255), got {x.dtype}")
        if x.ndim not in (3, 4) or x.shape[0] < 1:
            raise GenbenchError(f"{what} must be N×C×H×W or N×H×W images, got shape {x.shape}")
    if a.shape != b.shape:
        raise GenbenchError(f"{what_a} {a.shape} and {what_b} {b.shape} differ in shape")
    return a, b


def _as_numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


# ---------------------------------------------------------------------------- statistics files


def compute_reference_stats(source=None, *, dataset=None, split: str = "test", extractor: str | None = None,
                            n: int | None = None, device=None, batch_size: int = 250, seed: int = 0,
                            data_root=None, cache_dir=None, progress: bool = True):
    """μ and Σ of a dataset split's or a source's features, with provenance (``genbench stats``).

    ``n`` = None takes the whole split or every stored sample; a generator needs ``n``.
    """
    if (source is None) == (dataset is None):
        raise GenbenchError("give exactly one of a source or a dataset")
    batch_size = _positive_int(batch_size, "batch size")
    dev = resolve_device(device)
    if dataset is not None:
        ds = _resolve_dataset(dataset, data_root)
        for w in ds.warnings:
            log.warning(w)
        if ds.kind == "points":
            raise GenbenchError(f"dataset {ds.name!r} holds 2-D points: feature statistics are for images and voxels")
        size = len(ds.split(split))
        n_used = size if n is None else min(_positive_int(n, "n"), size)
        ext = get_extractor(extractor or default_extractor(ds))
        feats = dataset_features(ds, split, ext, n=n_used, device=dev, batch_size=batch_size,
                                 cache_dir=cache_dir, progress=progress)
        fingerprint = ds.fingerprint.to_dict()
    else:
        src = source if isinstance(source, SampleSource) else open_source(source, device=dev)
        if src.kind == "points":
            raise GenbenchError("the source gives 2-D points: feature statistics are for images and voxels")
        if n is None:
            if src.n_available is None:
                raise GenbenchError("a generator can make any number of samples: say how many with n (--n)")
            n_used = src.n_available
        else:
            n_used = _positive_int(n, "n")
            if src.n_available is not None and n_used > src.n_available:
                raise GenbenchError(f"{n_used} samples requested but the source holds only {src.n_available}")
        ext = get_extractor(extractor or ("shapes3d-classifier" if src.kind == "voxels" else "inception-v3-fid"))
        feats = ext.extract(src.batches(n_used, batch_size, seed), device=dev, progress=progress, total=n_used)
        fingerprint = None  # not a dataset: the source is described in the log, not in the file
        split = None
        log.info("statistics of %s", src.describe())
    return ReferenceStats.from_features(feats, fingerprint=fingerprint, split=split)

