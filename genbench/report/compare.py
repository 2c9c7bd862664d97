"""``genbench compare A B --html OUT``: two result sets side by side in one self-contained page,
each delta coloured by the gate's noise rule (|B − A| > 2σ, σ = √(noise_A² + noise_B²)), and,
when both are run directories, the samples of the models that changed next to each other."""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
from pathlib import Path

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from genbench import atomic
from genbench.errors import GenbenchError
from genbench.formatting import rounded
from genbench.gate import SIGNIFICANT_SIGMAS, compare
from genbench.report.figures import data_uri, image_grid_png, scatter_svg
from genbench.results import load_run, load_summary

log = logging.getLogger(__name__)


def _noise_of(summary: dict) -> dict:
    return {(r["dataset"], r["label"], r["metric"]): r.get("noise") for r in summary["rows"]}


def _run_or_none(path: str):
    """The run directory's results, or None for a summary or job file (they hold no samples)."""
    p = Path(path)
    if not p.is_dir():
        return None
    try:
        return load_run(p)
    except GenbenchError as exc:
        log.info("%s: no samples (%s)", p, exc)
        return None


def _samples(run, dataset: str, label: str) -> dict | None:
    """The first seed's samples of ``label`` as a picture (grid or scatter), or None."""
    if run is None:
        return None
    rs = sorted((r for r in run.results if r["job"]["dataset"] == dataset and r["job"]["label"] == label),
                key=lambda r: r["job"]["seed"])
    if not rs:
        return None
    try:
        with np.load(run.run_dir / rs[0]["samples"]) as z:
            s = z["samples"][:2000]
    except (OSError, KeyError, ValueError):
        return None
    if s.ndim == 4:
        png = image_grid_png(s, scale=1, max_images=36)
        return {"image": data_uri(png), "width": 2 * int.from_bytes(png[16:20], "big"), "seed": rs[0]["job"]["seed"]}
    if s.ndim == 2 and s.shape[1] == 2:
        return {"scatter": scatter_svg(s, rs[0].get("mode_means"), size=220), "seed": rs[0]["job"]["seed"]}
    if s.ndim == 5:  # voxels: isometric views (genbench.report.voxels)
        from genbench.report.voxels import voxel_grid_png

        png = voxel_grid_png(s, max_shapes=9, cols=3)
        return {"image": data_uri(png), "width": int.from_bytes(png[16:20], "big"), "seed": rs[0]["job"]["seed"]}
    return None


def compare_context(a: str, b: str) -> dict:
    sa, sb = load_summary(a), load_summary(b)
    deltas, diffs = compare(sa, sb)
    rows, changed = [], []
    for d in deltas:
        m_a, s_a = rounded(d.a, _noise_of(sa).get((d.dataset, d.label, d.metric)))
        m_b, s_b = rounded(d.b, _noise_of(sb).get((d.dataset, d.label, d.metric)))
        delta_text = "–" if d.delta is None else (("+" if d.delta > 0 else "") + rounded(d.delta, d.noise)[0])
        z = d.z
        rows.append({"dataset": d.dataset, "label": d.label, "metric": d.metric, "direction": d.higher_is_better,
                     "a": m_a + (f" ± {s_a}" if s_a else ""), "b": m_b + (f" ± {s_b}" if s_b else ""),
                     "delta": delta_text, "z": None if z is None else ("inf" if math.isinf(z) else f"{z:+.1f}"),
                     "verdict": d.verdict})
        if d.significant and (d.dataset, d.label) not in changed:
            changed.append((d.dataset, d.label))
    pairs = []
    run_a, run_b = (_run_or_none(a), _run_or_none(b)) if changed else (None, None)
    for ds, label in changed:
        pa, pb = _samples(run_a, ds, label), _samples(run_b, ds, label)
        if pa or pb:
            pairs.append({"dataset": ds, "label": label, "a": pa, "b": pb})
    return {"a": a, "b": b, "rows": rows, "diffs": diffs, "pairs": pairs, "sigmas": SIGNIFICANT_SIGMAS,
            "n_sig": sum(d.significant for d in deltas), "n": len(deltas),
            "suite_a": sa.get("suite"), "suite_b": sb.get("suite"),
            "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}


def render_compare(a: str, b: str, out: str | Path) -> Path:
    env = Environment(loader=PackageLoader("genbench.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    html = env.get_template("compare.html.j2").render(**compare_context(a, b))
    out = Path(out)
    atomic.write_text(out, html)
    os.chmod(out, 0o644)
    return out



