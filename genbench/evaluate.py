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
import logging
import math
import time
import warnings as _warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from genbench.errors import GenbenchError
from genbench.metrics.result import MetricResult, _jsonable

log = logging.getLogger(__name__)

METRIC_NAMES = ("fid", "kid", "is", "prdc", "parzen", "modes")
DEFAULT_METRICS = {"image": ("fid", "kid", "is", "prdc"), "points": ("modes",)}
FEATURE_METRICS = ("fid", "kid", "prdc")  # need real features
KID_SUBSETS = 100
KID_MAX_SUBSET = 1000
IS_SPLITS = 10
PRDC_K = 5
RESULT_FORMAT = "genbench-eval"
_KIND_WORDS = {"image": "images", "points": "2-D points"}
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
            "protocol": _jsonable(self.protocol),
            "provenance": _jsonable(self.provenance),
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
        from genbench.atomic import write_json

        write_json(path, self.to_dict())

    @classmethod
    def load_json(cls, path: str | Path) -> "EvalResult":
        import json

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
                _fmt(m.value),
                "" if m.std is None else f"± {_fmt(m.std)}",
                "" if m.ci is None else f"[{_fmt(m.ci[0])}, {_fmt(m.ci[1])}]",
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


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "nan"
    x = float(x)
    if x.is_integer() and abs(x) < 1e6:
        return str(int(x))
    if abs(x) >= 1e5 or abs(x) < 1e-3:
        return f"{x:.4g}"
    return f"{x:.4f}" if abs(x) < 10 else f"{x:.2f}"


def _better(name: str) -> str:
    try:
        from genbench.metrics import METRICS

        hib = METRICS[name].higher_is_better
    except (ImportError, KeyError, AttributeError):
        return ""
    return "" if hib is None else ("higher" if hib else "lower")


# ---------------------------------------------------------------------------- arguments


def parse_metrics(metrics) -> list[str] | None:
    """``None`` (defaults), ``"fid,kid"`` or an iterable of names → validated, de-duplicated list."""
    if metrics is None:
        return None
    names = metrics.split(",") if isinstance(metrics, str) else list(metrics)
    names = [str(n).strip().lower() for n in names if str(n).strip()]
    if not names:
        raise GenbenchError(f"no metrics given; choose from {', '.join(METRIC_NAMES)}")
    unknown = [n for n in names if n not in METRIC_NAMES]
    if unknown:
        raise GenbenchError(
            f"unknown metric(s) {', '.join(map(repr, unknown))}; valid metrics are {', '.join(METRIC_NAMES)}"
        )
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


# ---------------------------------------------------------------------------- evaluation


@dataclass
class _Generated:
    """What one pass over the source leaves behind."""

    n: int = 0
    pixels: list[np.ndarray] = field(default_factory=list)  # kept only when Parzen needs them
    channels_reduced: bool = False


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
    ``reference`` (another source, or a statistics ``.npz`` — then only FID and IS are possible).

    ``metrics``: names from ``fid, kid, is, prdc, parzen, modes`` (default: fid, kid, is, prdc
    for images; modes for points). ``n`` caps both the generated and the real sample counts;
    asking a stored source or a split for more than it holds uses what there is and says so in
    ``warnings``. ``seed`` seeds the generator's latents, KID subsets and the FID bootstrap
    (``bootstrap`` resamples; 0 = none).
    """
    from genbench.device import resolve_device
    from genbench.provenance import environment
    from genbench.sources import SampleSource, open_source

    t0 = time.perf_counter()
    if (dataset is None) == (reference is None):
        raise GenbenchError("give exactly one of dataset (a dataset name) or reference (a source or a statistics .npz)")
    n = _positive_int(n, "n (number of samples)")
    batch_size = _positive_int(batch_size, "batch size")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise GenbenchError(f"seed must be a non-negative integer, got {seed!r}")
    bootstrap = int(bootstrap)
    if bootstrap < 0:
        raise GenbenchError(f"bootstrap must be >= 0, got {bootstrap}")
    requested = parse_metrics(metrics)
    dev = resolve_device(device)
    src = source if isinstance(source, SampleSource) else open_source(source, device=dev)
    warnings: list[str] = []

    # ---- what we compare against
    ds = ref_src = ref_stats = None
    if dataset is not None:
        ds = _resolve_dataset(dataset, data_root)
        warnings.extend(ds.warnings)
        real_split = ds.split(split)
        ref_kind = ds.kind
        reference_desc = {"type": "dataset", "dataset": ds.name, "split": split,
                          "fingerprint": ds.fingerprint.to_dict(), "dataset_source": ds.source}
    elif _is_stats_file(reference):
        from genbench.stats import ReferenceStats

        ref_stats = ReferenceStats.load_npz(reference)
        ref_kind = "image"
        reference_desc = {"type": "stats", "path": str(Path(reference).resolve()),
                          "sha256": _sha256(reference), "n": ref_stats.n,
                          "fingerprint": ref_stats.fingerprint, "extractor": ref_stats.extractor}
        split = None
    else:
        ref_src = reference if isinstance(reference, SampleSource) else open_source(reference, device=dev)
        ref_kind = ref_src.kind
        reference_desc = {"type": "source", "source": ref_src.describe()}
        split = None
    if src.kind != ref_kind:
        raise GenbenchError(
            f"the source gives {_KIND_WORDS[src.kind]} but the reference holds {_KIND_WORDS[ref_kind]}"
        )
    kind = ref_kind
    _check_checkpoint_dataset(src, ds, warnings)

    # ---- which metrics, and can they be computed here?
    names = requested or _default_metrics(kind, ds, ref_stats)
    _check_metrics_possible(names, kind, ds, ref_src, ref_stats)

    # ---- how many samples
    n_gen = n
    if src.n_available is not None and src.n_available < n:
        n_gen = src.n_available
        warnings.append(f"the source holds {src.n_available} samples, fewer than n={n}: all {n_gen} are used")
    if ds is not None:
        n_real = min(n, len(real_split))
        if n_real < n:
            warnings.append(f"the {ds.name} {split} split holds {len(real_split)} samples, fewer than n={n}: all {n_real} are used")
    elif ref_src is not None:
        n_real = n if ref_src.n_available is None else min(n, ref_src.n_available)
        if n_real < n:
            warnings.append(f"the reference holds {ref_src.n_available} samples, fewer than n={n}: all {n_real} are used")
    else:
        n_real = int(ref_stats.n) if ref_stats.n is not None else None

    results: list[MetricResult] = []
    gen = _Generated()
    extractor_identity = None
    protocol_extra: dict[str, Any] = {}

    # Warnings the metrics raise (rank-deficient covariances, floored references ...) go into the result.
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        if kind == "image":
            keep_pixels = "parzen" in names
            needs_features = any(m in names for m in ("fid", "kid", "prdc", "is")) or ("modes" in names)
            expected = ds.image_shape if ds is not None else None
            stream = _checked_images(src.batches(n_gen, batch_size, seed), expected, gen, keep_pixels, "source")
            if needs_features:
                ext = _make_extractor(extractor, ds, ref_stats)
                extractor_identity = ext.identity.to_dict()
                log.info("extracting features of %d generated samples with %s", n_gen, ext.identity.name)
                fake = ext.extract(stream, device=dev, progress=progress, total=n_gen)
                real = None
                if any(m in names for m in FEATURE_METRICS) and ref_stats is None:
                    real = _real_features(ds, split, ref_src, ext, n_real, dev, batch_size, seed, cache_dir, progress)
                results += _feature_metrics(names, real, fake, ref_stats, ds, real_split if ds else None,
                                            seed=seed, bootstrap=bootstrap, n_real=n_real, device=dev)
            else:
                for _ in stream:  # Parzen only: one pass, pixels kept
                    pass
            if "parzen" in names:
                gen_px = _flat_pixels(gen.pixels)
                val = ds.split("val").samples
                val_px = _flat_pixels([_real_subset(val, min(n_real, len(val)))])
                test_px = _flat_pixels([_real_subset(real_split.samples, n_real)])
                results.append(_parzen(gen_px, val_px, test_px, split, dev, warnings, scale="pixels / 255, flattened"))
            if gen.channels_reduced:
                protocol_extra["channels_reduced"] = "3 identical channels → 1 (greyscale dataset)"
        else:  # points
            pts = np.concatenate(list(src.batches(n_gen, batch_size, seed))).astype(np.float64)
            gen.n = pts.shape[0]
            for name in names:
                if name == "modes":
                    from genbench.metrics import mode_coverage_2d

                    results += mode_coverage_2d(pts, ds.modes.means, ds.modes.std)
                elif name == "parzen":
                    val = ds.split("val").samples
                    val = _real_subset(val, min(n_real, len(val))).astype(np.float64)
                    test = _real_subset(real_split.samples, n_real).astype(np.float64)
                    results.append(_parzen(pts, val, test, split, dev, warnings, scale="raw coordinates",
                                           sigmas=PARZEN_SIGMAS_POINTS))
    package_dir = str(Path(__file__).resolve().parent)
    for w in caught:  # genbench's own warnings (and numpy's, raised from genbench code); not library noise
        if str(Path(w.filename).resolve()).startswith(package_dir) and not issubclass(w.category, DeprecationWarning):
            msg = str(w.message)
            if msg not in warnings:
                warnings.append(msg)

    if gen.n != n_gen:
        raise GenbenchError(f"the source yielded {gen.n} samples, expected {n_gen}")
    order = {name: i for i, name in enumerate(("fid", "kid", "is", "precision", "recall", "density", "coverage",
                                                "parzen", "modes", "high_quality", "mode_kl"))}
    results.sort(key=lambda m: order.get(m.name, len(order)))
    wall = time.perf_counter() - t0
    protocol = {
        "source": src.describe(),
        "reference": reference_desc,
        "dataset": ds.name if ds is not None else None,
        "fingerprint": ds.fingerprint.to_dict() if ds is not None else reference_desc.get("fingerprint"),
        "dataset_warnings": list(ds.warnings) if ds is not None else [],
        "split": split,
        "kind": kind,
        "n_requested": n,
        "n_generated": gen.n,
        "n_real": n_real,
        "extractor": extractor_identity,
        "seed": seed,
        "batch_size": batch_size,
        "metrics": names,
        "metric_params": {m.name: _jsonable(dict(m.params)) for m in results},
        "device": str(dev),
        **protocol_extra,
    }
    provenance = environment(dev)
    provenance["wall_time_s"] = wall
    result = EvalResult(metrics=results, protocol=protocol, provenance=provenance, warnings=warnings, wall_time_s=wall)
    for w in warnings:
        if ds is None or w not in ds.warnings:  # the dataset already logged its own
            log.warning(w)
    return result


def _check_checkpoint_dataset(src, ds, warnings: list[str]) -> None:
    """A genbench checkpoint knows what it was trained on: say so when that is another dataset."""
    from genbench.sources import CheckpointSource

    if ds is None or not isinstance(src, CheckpointSource):
        return
    trained = getattr(src.model, "dataset_fingerprint", None) or {}
    if trained.get("name") and trained.get("name") != ds.name:
        warnings.append(
            f"the checkpoint was trained on {trained.get('name')!r} but is evaluated against {ds.name!r}"
        )


def _resolve_dataset(dataset, data_root):
    from genbench.data.dataset import Dataset

    if isinstance(dataset, Dataset):
        return dataset
    from genbench.data import load_dataset

    return load_dataset(str(dataset), data_root=data_root)


def _default_metrics(kind, ds, ref_stats) -> list[str]:
    if ref_stats is not None:
        return ["fid"]
    return list(DEFAULT_METRICS[kind])


def _check_metrics_possible(names, kind, ds, ref_src, ref_stats) -> None:
    def refuse(name, why):
        raise GenbenchError(f"metric {name!r} cannot be computed here: {why}")

    for name in names:
        if kind == "points":
            if name not in ("parzen", "modes"):
                refuse(name, "2-D points are scored with parzen and modes (feature metrics need images)")
            if ds is None:
                refuse(name, "points are scored against a dataset (--dataset), not another source")
            if name == "modes" and ds.modes is None:
                refuse(name, f"dataset {ds.name!r} does not define its modes")
        elif ref_stats is not None and name not in ("fid", "is"):
            refuse(name, "a statistics file holds only mu and sigma, which is enough for fid (and is, "
                         "which uses only the generated samples); use a dataset or a sample source as "
                         "the reference for kid, prdc, parzen and modes")
        elif name in ("parzen", "modes") and ds is None:
            refuse(name, "it needs a dataset (--dataset): parzen chooses sigma on its val split, modes uses its classes")
        if name == "parzen" and ds is not None and "val" not in ds.splits:
            refuse(name, f"dataset {ds.name!r} has no val split to choose sigma on")
        if kind == "image" and name == "modes" and ds.n_classes is None:
            refuse(name, f"dataset {ds.name!r} has no classes to count")


def _make_extractor(name, ds, ref_stats):
    from genbench.features import default_extractor, get_extractor

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


def _real_features(ds, split, ref_src, ext, n_real, dev, batch_size, seed, cache_dir, progress):
    if ds is not None:
        from genbench.stats import dataset_features

        return dataset_features(ds, split, ext, n=n_real, device=dev, batch_size=batch_size,
                                cache_dir=cache_dir, progress=progress)
    log.info("extracting features of %d reference samples with %s", n_real, ext.identity.name)
    return ext.extract(ref_src.batches(n_real, batch_size, seed), device=dev, progress=progress, total=n_real)


def _with_params(result: MetricResult, **extra) -> MetricResult:
    return dataclasses.replace(result, params={**dict(result.params), **extra})


def _feature_metrics(names, real, fake, ref_stats, ds, real_split, *, seed, bootstrap, n_real, device) -> list[MetricResult]:
    from genbench import metrics as M

    out: list[MetricResult] = []
    n_fake = len(fake)
    if "fid" in names:
        if ref_stats is not None:
            from genbench.stats import ReferenceStats

            dim = np.asarray(ref_stats.mu).shape[0]
            if dim != fake.features.shape[1]:
                raise GenbenchError(
                    f"the statistics have {dim} dimensions but extractor {fake.extractor.name} gives "
                    f"{fake.features.shape[1]} for these samples; pass the extractor (and images) they were made with"
                )
            fs = ReferenceStats.from_features(fake)
            r = M.frechet_distance(ref_stats.mu, ref_stats.sigma, fs.mu, fs.sigma, device=device)
            out.append(_with_params(r, n_real=n_real, n_fake=n_fake, reference="statistics file"))
        else:
            r = M.fid(real.features, fake.features, bootstrap=bootstrap, seed=seed, device=device)
            out.append(_with_params(r, n_real=len(real), n_fake=n_fake))
    if "kid" in names:
        subset = min(KID_MAX_SUBSET, len(real), n_fake)
        r = M.kid(real.features, fake.features, subsets=KID_SUBSETS, subset_size=subset, seed=seed, device=device)
        out.append(_with_params(r, n_real=len(real), n_fake=n_fake))
    if "is" in names:
        if fake.probs is None:
            raise GenbenchError(f"extractor {fake.extractor.name} has no classifier head: 'is' needs class probabilities")
        out.append(_with_params(M.inception_score(fake.probs, splits=IS_SPLITS), n_fake=n_fake))
    if "prdc" in names:
        out += [_with_params(r, n_real=len(real), n_fake=n_fake) for r in M.prdc(real.features, fake.features, k=PRDC_K, device=device)]
    if "modes" in names:
        if fake.probs is None or fake.probs.shape[1] != ds.n_classes:
            k = None if fake.probs is None else fake.probs.shape[1]
            raise GenbenchError(
                f"'modes' on {ds.name} needs a classifier over its {ds.n_classes} classes; extractor "
                f"{fake.extractor.name} gives {k if k else 'no'} class probabilities (use --extractor mnist-classifier)"
            )
        labels = np.argmax(fake.probs, axis=1)
        # KL against the uniform class histogram, as in the stacked-MNIST literature (VEEGAN, PacGAN)
        out += [_with_params(r, labels="argmax of the extractor's class probabilities", n_fake=n_fake)
                for r in M.class_mode_coverage(labels, ds.n_classes)]
    return out


def _real_subset(samples: np.ndarray, n: int) -> np.ndarray:
    """The same n samples of a split that the cached real features use (a fixed seeded subset)."""
    from genbench.stats import subset_indices

    idx = subset_indices(samples.shape[0], n)
    return samples if idx is None else samples[idx]


def _flat_pixels(chunks: list[np.ndarray]) -> np.ndarray:
    x = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
    return (x.reshape(x.shape[0], -1).astype(np.float32) / np.float32(255.0))


# σ grids: Goodfellow et al.'s for pixels in [0, 1] (the metric library's default); for 2-D
# points a wider one, since the toy mixtures' own σ (0.01, 0.05) lies below 0.1.
PARZEN_SIGMAS_POINTS = np.logspace(-3, 1, 25)


def _parzen(gen, val, test, split, device, warnings, *, scale, sigmas=None) -> MetricResult:
    """Goodfellow et al. (2014): fit a Gaussian Parzen window on the generated samples, choose
    sigma by log-likelihood of the val split, report the log-likelihood of the evaluated split."""
    from genbench.metrics import parzen_log_likelihood, select_parzen_sigma

    if split == "val":
        warnings.append("parzen: sigma was chosen on the val split and scored on it too (optimistic)")
    sigma, table = select_parzen_sigma(gen, val, sigmas, device=device)
    grid = sorted(table)
    if sigma in (grid[0], grid[-1]) and len(grid) > 1:
        warnings.append(
            f"parzen: the chosen sigma {sigma:.4g} lies at the edge of the searched grid "
            f"[{grid[0]:.4g}, {grid[-1]:.4g}]; the log-likelihood may be underestimated"
        )
    r = parzen_log_likelihood(gen, test, sigma, device=device)
    return _with_params(r, sigma=float(sigma), sigma_chosen_on="val", scored_on=split, data=scale,
                        n_kernels=int(gen.shape[0]), n_val=int(val.shape[0]), n_test=int(test.shape[0]),
                        sigma_search={str(k): float(v) for k, v in table.items()})


def _sha256(path) -> str:
    from genbench.sources.base import sha256_file

    return sha256_file(path)


# ---------------------------------------------------------------------------- reconstructions


def evaluate_reconstructions(originals, reconstructions) -> list[MetricResult]:
    """PSNR and SSIM between ``uint8`` images and their reconstructions (``data_range=255``).

    Both must be ``uint8`` in the same layout (N×C×H×W or N×H×W): quantising before scoring is
    what a saved reconstruction would be, and keeps the numbers comparable across models.
    """
    from genbench.metrics import psnr, ssim

    a, b = _as_numpy(originals), _as_numpy(reconstructions)
    for what, x in (("originals", a), ("reconstructions", b)):
        if x.dtype != np.uint8:
            raise GenbenchError(f"{what} must be uint8 images (0..255), got {x.dtype}")
        if x.ndim not in (3, 4) or x.shape[0] < 1:
            raise GenbenchError(f"{what} must be N×C×H×W or N×H×W images, got shape {x.shape}")
    if a.shape != b.shape:
        raise GenbenchError(f"originals {a.shape} and reconstructions {b.shape} differ in shape")
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return [
        _with_params(psnr(a64, b64, data_range=255.0), data_range=255, dtype="uint8"),
        _with_params(ssim(a64, b64, data_range=255.0), data_range=255, dtype="uint8"),
    ]


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
    from genbench.device import resolve_device
    from genbench.features import default_extractor, get_extractor
    from genbench.sources import SampleSource, open_source
    from genbench.stats import ReferenceStats, dataset_features

    if (source is None) == (dataset is None):
        raise GenbenchError("give exactly one of a source or a dataset")
    batch_size = _positive_int(batch_size, "batch size")
    dev = resolve_device(device)
    if dataset is not None:
        ds = _resolve_dataset(dataset, data_root)
        for w in ds.warnings:
            log.warning(w)
        if ds.kind != "image":
            raise GenbenchError(f"dataset {ds.name!r} holds 2-D points: feature statistics are for images")
        size = len(ds.split(split))
        n_used = size if n is None else min(_positive_int(n, "n"), size)
        ext = get_extractor(extractor or default_extractor(ds))
        feats = dataset_features(ds, split, ext, n=n_used, device=dev, batch_size=batch_size,
                                 cache_dir=cache_dir, progress=progress)
        fingerprint = ds.fingerprint.to_dict()
    else:
        src = source if isinstance(source, SampleSource) else open_source(source, device=dev)
        if src.kind != "image":
            raise GenbenchError("the source gives 2-D points: feature statistics are for images")
        if n is None:
            if src.n_available is None:
                raise GenbenchError("a generator can make any number of samples: say how many with n (--n)")
            n_used = src.n_available
        else:
            n_used = _positive_int(n, "n")
            if src.n_available is not None and n_used > src.n_available:
                raise GenbenchError(f"{n_used} samples requested but the source holds only {src.n_available}")
        ext = get_extractor(extractor or "inception-v3-fid")
        feats = ext.extract(src.batches(n_used, batch_size, seed), device=dev, progress=progress, total=n_used)
        fingerprint = None  # not a dataset: the source is described in the log, not in the file
        split = None
        log.info("statistics of %s", src.describe())
    return ReferenceStats.from_features(feats, fingerprint=fingerprint, split=split)

