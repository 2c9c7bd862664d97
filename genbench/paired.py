"""Scoring outputs against their targets image by image, where images differ in size from pair to
pair (SR test sets: Set5, Set14, BSD100, DIV2K): a folder of outputs paired by file name with a
folder of targets, or a translator run on LR inputs made from a folder of HR images
(``genbench eval OUTPUTS/ --targets HR/``, ``genbench eval TRANSLATOR --task sr4 --targets HR/``).

Every pair is scored on its own by the registry's pair metrics (psnr, ssim, and any metric whose
input is "pairs"), with the protocol options ``y_channel`` and ``crop_border``; the headline
number is the mean over images, as SR papers report it (not a PSNR of the pooled MSE), and its ±
is the standard error of that mean (per-image std, ddof 1, over √n). Per-image values and the
whole protocol are recorded in the result.

Pairing: a file's key is its path relative to its folder without the suffix (``baby.png`` ↔
``baby.bmp``); unmatched keys, two files with one key, mis-sized pairs and channel mismatches are
errors naming the files. A greyscale image is scored on its grey values; an RGB image whose three
channels are identical, paired with a greyscale one, is reduced to one channel (exact, recorded).
With an SR task (``scale``) the targets are first trimmed to a multiple of the scale
(:mod:`genbench.imaging.sr`). Images are read one pair at a time, each size-checked before
decoding (:func:`genbench.sources.folder.read_image`).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genbench.errors import GenbenchError
from genbench.formatting import number
from genbench.hashing import sha256_file
from genbench.imaging import sr
from genbench.metrics import registry
from genbench.metrics.result import MetricResult
from genbench.sources.folder import IMAGE_SUFFIXES, list_images, read_image

DEFAULT_METRICS = ("psnr", "ssim")
# What the two options are when a metric does not declare them (and so cannot honour them).
_NEUTRAL = {"y_channel": False, "crop_border": 0}
AVERAGE = "mean over images of the per-image values; std = standard error of that mean (per-image std, ddof 1, / √n)"


@dataclass(frozen=True)
class PairProtocol:
    """How pairs are scored; ``scale`` set means an SR task (targets trimmed, LR made from them)."""

    y_channel: bool = False
    crop_border: int = 0
    scale: int | None = None

    @classmethod
    def make(cls, scale: int | None = None, y_channel: bool | None = None, crop_border: int | None = None):
        """An SR task's defaults are the SR papers': Y channel, ``scale`` pixels cropped per border."""
        if crop_border is not None and (isinstance(crop_border, bool) or int(crop_border) != crop_border
                                        or crop_border < 0):
            raise GenbenchError(f"crop border must be a non-negative integer, got {crop_border!r}")
        return cls(y_channel=bool(scale) if y_channel is None else bool(y_channel),
                   crop_border=(scale or 0) if crop_border is None else int(crop_border), scale=scale)

    def to_dict(self) -> dict:
        return {
            "y_channel": self.y_channel,
            "colour": ("BT.601 luma Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 on 0..255 values, float64 "
                       "(MATLAB rgb2ycbcr, not rounded, as BasicSR); greyscale images on their grey values")
            if self.y_channel else "every channel (RGB or grey)",
            "crop_border": self.crop_border,
            "task": f"sr{self.scale}" if self.scale else None,
            "scale": self.scale,
            "trim": sr.TRIM if self.scale else None,
            "average": AVERAGE,
        }


# ---------------------------------------------------------------------------- metrics


def pair_metric_specs(metrics, protocol: PairProtocol) -> list[tuple[registry.MetricSpec, dict]]:
    """The registry's pair metrics asked for (default psnr, ssim), each with the parameters it
    is computed with; a metric that cannot honour ``y_channel``/``crop_border`` when they are
    set is refused rather than silently scored on other pixels."""
    from genbench.evaluate import parse_metrics

    names = parse_metrics(metrics) or list(DEFAULT_METRICS)
    pair_names = [m.name for m in registry.METRICS.values() if m.inputs_for("image") == ("pairs",)]
    chosen = []
    for name in names:
        spec = registry.METRICS[name]
        if spec.inputs_for("image") != ("pairs",) or spec.compute is None:
            raise GenbenchError(f"metric {name!r} does not score an output against its target; paired images "
                                f"are scored with {', '.join(pair_names)} (FID of a folder: --reference FOLDER)")
        why = spec.requires() if spec.requires is not None else None
        if why is not None:  # e.g. lpips without its weights: refused before any image is read
            raise GenbenchError(f"metric {name!r} cannot run on this machine: {why}")
        params = dict(spec.params)
        for key in ("y_channel", "crop_border"):
            value = getattr(protocol, key)
            if key in params:
                params[key] = value
            elif value != _NEUTRAL[key]:
                raise GenbenchError(f"metric {name!r} has no {key} option, so it cannot be scored with "
                                    f"{key}={value}; score it in a run without that option")
        chosen.append((spec, params))
    return chosen


@dataclass
class PairScorer:
    """Scores pairs one at a time and keeps only the per-image numbers."""

    specs: list[tuple[registry.MetricSpec, dict]]
    device: object = None
    per_image: dict[str, dict[str, float]] = field(default_factory=dict)
    params: dict[str, dict] = field(default_factory=dict)
    channels_reduced: list[str] = field(default_factory=list)
    size_hint: str = ""  # said after a size mismatch

    def add(self, key: str, target: np.ndarray, output: np.ndarray, target_where: str, output_where: str) -> None:
        target, output = self._matched(key, target, output, target_where, output_where)
        x = registry.MetricInputs(kind="image", device=self.device, pairs=(target[None], output[None]))
        values: dict[str, float] = {}
        for spec, params in self.specs:
            try:
                results = spec.compute(x, **params)
            except (ValueError, GenbenchError) as exc:
                raise GenbenchError(f"{output_where} vs {target_where}: {spec.name}: {exc}") from exc
            for r in results:
                values[r.name] = float(r.value)
                self.params.setdefault(r.name, {k: v for k, v in dict(r.params).items()
                                                if k not in ("n", "identical_pairs")})
        self.per_image[key] = values

    def _matched(self, key, target, output, target_where, output_where):
        if target.shape[0] != output.shape[0]:
            grey, colour = (target, output) if target.shape[0] == 1 else (output, target)
            if colour.shape[0] == 3 and np.array_equal(colour[0], colour[1]) and np.array_equal(colour[0], colour[2]):
                colour = colour[:1]
                self.channels_reduced.append(key)
                target, output = (grey, colour) if target.shape[0] == 1 else (colour, grey)
            else:
                kinds = {1: "greyscale", 3: "RGB"}
                raise GenbenchError(f"{output_where} is {kinds.get(output.shape[0], output.shape[0])} but its target "
                                    f"{target_where} is {kinds.get(target.shape[0], target.shape[0])}: channel mismatch")
        if target.shape != output.shape:
            dh, dw = target.shape[1] - output.shape[1], target.shape[2] - output.shape[2]
            hint = self.size_hint if 0 <= dh < 8 and 0 <= dw < 8 else ""
            raise GenbenchError(f"{output_where} is {output.shape[1]}×{output.shape[2]} (H×W) but its target "
                                f"{target_where} is {target.shape[1]}×{target.shape[2]}{hint}")
        return target, output

    def results(self) -> list[MetricResult]:
        keys = sorted(self.per_image)
        if not keys:
            raise GenbenchError("no image pairs to score")
        out = []
        for column in self.per_image[keys[0]]:
            v = np.array([self.per_image[k][column] for k in keys], dtype=np.float64)
            n = v.size
            params = {**self.params[column], "n_images": n, "average": "mean over images"}
            if not np.isfinite(v).all():  # identical pairs: PSNR +inf
                params["identical_pairs"] = int(np.isinf(v).sum())
                out.append(MetricResult(column, float(v.mean()), std=None, params=params))
                continue
            per_image_std = float(v.std(ddof=1)) if n > 1 else None
            params.update(per_image_std=per_image_std, std_is="standard error of the mean over images")
            out.append(MetricResult(column, float(v.mean()), std=None if n < 2 else per_image_std / math.sqrt(n),
                                    params=params))
        order = list(registry.COLUMNS)
        return sorted(out, key=lambda m: order.index(m.name) if m.name in order else len(order))


# ---------------------------------------------------------------------------- folders


def keyed_images(folder: str | Path, what: str) -> dict[str, Path]:
    """Image files under ``folder`` by key (relative path without suffix), two files per key refused."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GenbenchError(f"{what} {folder}: not a folder")
    files: dict[str, Path] = {}
    for path in list_images(folder):
        key = path.relative_to(folder).with_suffix("").as_posix()
        if key in files:
            raise GenbenchError(f"{what} {folder}: {files[key].name} and {path.name} have the same name; "
                                "images are paired by file name without extension")
        files[key] = path
    if not files:
        raise GenbenchError(f"{what} {folder}: no images found (searched recursively for {', '.join(IMAGE_SUFFIXES)})")
    return files


def pair_folders(outputs: str | Path, targets: str | Path) -> list[tuple[str, Path, Path]]:
    """(key, output file, target file) for every key, sorted; any unmatched file is an error."""
    out, tgt = keyed_images(outputs, "outputs"), keyed_images(targets, "targets")
    missing = sorted(set(tgt) - set(out))
    extra = sorted(set(out) - set(tgt))
    for names, what, where in ((missing, "target(s) have no output", outputs), (extra, "output(s) have no target", targets)):
        if names:
            shown = ", ".join((tgt if what.startswith("target") else out)[k].name for k in names[:3])
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            raise GenbenchError(f"{len(names)} {what} of the same name in {where}: {shown}{more} "
                                "(pairs are matched by file name without extension)")
    return [(k, out[k], tgt[k]) for k in sorted(tgt)]


def folder_digest(files: list[Path], folder: Path) -> str:
    """sha256 over each file's relative path and content hash (as an image-folder source's)."""
    h = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.relative_to(folder).as_posix()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0")
        h.update(bytes.fromhex(sha256_file(path)))
    return h.hexdigest()


def _read_target(path: Path, protocol: PairProtocol) -> np.ndarray:
    img = read_image(path)
    return sr.modcrop(img, protocol.scale, where=str(path)) if protocol.scale else img


def evaluate_folders(outputs, targets, *, metrics=None, protocol: PairProtocol = PairProtocol(), device=None):
    """Score a folder of outputs against a folder of targets, pair by pair (see the module docstring)."""
    from genbench.device import resolve_device

    t0 = time.perf_counter()
    dev = resolve_device(device)
    specs = pair_metric_specs(metrics, protocol)
    pairs = pair_folders(outputs, targets)
    hint = "" if protocol.scale else " (SR outputs of a trimmed HR: pass --task srN to trim the targets the same way)"
    scorer = PairScorer(specs, dev, size_hint=hint)
    for key, out_path, tgt_path in pairs:
        scorer.add(key, _read_target(tgt_path, protocol), read_image(out_path), str(tgt_path), str(out_path))
    outputs, targets = Path(outputs), Path(targets)
    source = {"type": "image-folder", "path": str(outputs.resolve()), "n": len(pairs),
              "sha256": folder_digest([p for _, p, _ in pairs], outputs)}
    return _result(scorer, source, targets, [p for _, _, p in pairs], protocol, dev, t0, made_inputs=False)


# ---------------------------------------------------------------------------- translators


def evaluate_sr_translator(translator, targets, *, scale: int, metrics=None, protocol: PairProtocol | None = None,
                           value_range=None, device=None):
    """Super-resolve LR images made from the HR images in ``targets`` (trimmed, MATLAB-bicubic
    ×1/scale, uint8) with ``translator`` (an entry point, TorchScript file, checkpoint folder or
    callable) and score its outputs, which must be exactly scale × the LR, against the trimmed HR."""
    from genbench.device import resolve_device
    from genbench.sources.base import parse_value_range
    from genbench.sources.translator import TranslatorSource, open_translator

    t0 = time.perf_counter()
    dev = resolve_device(device)
    protocol = protocol or PairProtocol.make(scale)
    if protocol.scale != scale:
        raise GenbenchError(f"the protocol's scale {protocol.scale} is not the task's {scale}")
    specs = pair_metric_specs(metrics, protocol)
    value_range = parse_value_range(value_range)
    files = keyed_images(targets, "targets")
    keys = sorted(files)
    # LR inputs (small) kept; HR read again when scored, so only one HR image is in memory at a time.
    lr = {k: sr.degrade(_read_target(files[k], protocol), scale) for k in keys}
    groups: dict[tuple, list[str]] = {}
    for k in keys:  # a translator takes a batch of one size: one source per LR size
        groups.setdefault(lr[k].shape, []).append(k)
    scorer = PairScorer(specs, dev)
    first = None
    for shape, members in groups.items():
        inputs = np.stack([lr[k] for k in members])
        if first is None:
            src = first = open_translator(translator, inputs, value_range=value_range, device=dev)
        else:
            src = TranslatorSource(first.translator, inputs, value_range=value_range, device=dev,
                                   where=f"translator {translator}")
        outputs = (o for batch in src.batches(len(members), batch_size=1) for o in batch)
        for k, out in zip(members, outputs):
            c, h, w = shape
            if out.shape[1:] != (h * scale, w * scale):
                raise GenbenchError(f"translator output for {files[k]} is {out.shape[1]}×{out.shape[2]} (H×W); "
                                    f"×{scale} of its {h}×{w} input must be {h * scale}×{w * scale}")
            scorer.add(k, _read_target(files[k], protocol), out, str(files[k]), f"translator output for {files[k].name}")
    described = {k: v for k, v in first.describe().items() if k != "inputs"}
    lr_digest = hashlib.sha256(b"".join(np.ascontiguousarray(lr[k]).tobytes() for k in keys)).hexdigest()
    source = {**described, "inputs": {"made_from": "targets", "n": len(keys), "resize": sr.RESIZE,
                                      "scale": scale, "sha256": lr_digest}}
    return _result(scorer, source, Path(targets), [files[k] for k in keys], protocol, dev, t0, made_inputs=True)


# ---------------------------------------------------------------------------- the result


def _result(scorer: PairScorer, source: dict, targets: Path, target_files: list[Path], protocol: PairProtocol,
            dev, t0: float, *, made_inputs: bool):
    from genbench.evaluate import EvalResult
    from genbench.provenance import environment

    metrics = scorer.results()
    warnings = []
    if scorer.channels_reduced:
        warnings.append(f"{len(scorer.channels_reduced)} RGB image(s) with three identical channels were paired with "
                        f"greyscale ones and scored as greyscale, e.g. {scorer.channels_reduced[0]}")
    protocol_d = {
        "type": "paired-images",
        "source": source,
        "reference": {"type": "image-folder", "path": str(targets.resolve()), "n": len(target_files),
                      "sha256": folder_digest(target_files, targets)},
        **protocol.to_dict(),
        "resize": sr.RESIZE if made_inputs else None,  # how genbench made the LR inputs (None: it made none)
        "n_images": len(scorer.per_image),
        "metrics": [m.name for m in metrics],
        "metric_params": {m.name: dict(m.params) for m in metrics},
        "per_image": {k: scorer.per_image[k] for k in sorted(scorer.per_image)},
        "channels_reduced": scorer.channels_reduced,
        "device": str(dev),
    }
    wall = time.perf_counter() - t0
    provenance = environment(dev)
    provenance["wall_time_s"] = wall
    return EvalResult(metrics=metrics, protocol=protocol_d, provenance=provenance, warnings=warnings, wall_time_s=wall)


def format_pair_table(result) -> str:
    """The printed summary of a paired evaluation: what was compared, how, and mean ± s.e. per metric."""
    p = result.protocol
    src = p["source"]
    what = src.get("path") or src.get("entry_point") or src.get("source")
    how = [f"crop {p['crop_border']} px per border", "Y channel (BT.601)" if p["y_channel"] else "all channels"]
    if p.get("task"):
        made = f", LR inputs by {p['resize']} ×1/{p['scale']} (uint8)" if p.get("resize") else ""
        how.insert(0, f"task {p['task']}: targets {p['trim']}{made}")
    lines = [
        f"outputs:  {what} ({src.get('type')})",
        f"targets:  {p['reference']['path']}",
        f"protocol: {'; '.join(how)}",
        f"images:   {p['n_images']} pairs, each scored on its own; mean over images ± standard error",
        "",
    ]
    rows = [("metric", "mean", "± s.e.", "better")]
    for m in result.metrics:
        hib = registry.higher_is_better(m.name)
        rows.append((m.name, number(m.value, fixed=True), "" if m.std is None else f"± {number(m.std, fixed=True)}",
                     "" if hib is None else ("higher" if hib else "lower")))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for i, row in enumerate(rows):
        lines.append("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    for w in result.warnings:
        lines.append(f"WARNING: {w}")
    return "\n".join(lines)
