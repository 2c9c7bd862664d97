"""Rendering a run directory into one self-contained HTML leaderboard (jinja2).

The page embeds everything (PNG grids as data URIs, SVG inline, a few lines of JS for sorting),
so it works opened from disk, attached to a CI run, or mailed. Next to it lands
``summary.json``, the aggregated numbers the gate and ``compare`` read.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import os
from pathlib import Path

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from genbench import atomic
from genbench.formatting import value_std
from genbench.metrics import registry
from genbench.report.figures import curves_svg, data_uri, image_grid_png, scatter_svg
from genbench.results import REAL_LABEL, RunResults, aggregate, load_run, metrics_frame, summarize

log = logging.getLogger(__name__)



def _table(results: list[dict], dataset: str, columns: list[str], rank_by: str) -> dict:
    frame = metrics_frame([r for r in results if r["job"]["dataset"] == dataset])
    agg = aggregate(frame)
    present = list(dict.fromkeys([c for c in columns if c in set(agg["metric"])] +
                                 [m for m in agg["metric"] if m not in columns]))
    directions = {c: registry.higher_is_better(c) for c in present}
    labels = list(dict.fromkeys(r["job"]["label"] for r in results if r["job"]["dataset"] == dataset))
    cells: dict[str, dict[str, dict]] = {l: {} for l in labels}
    for rec in agg.to_dict("records"):
        std = rec["seed_std"] if rec["n_seeds"] > 1 else rec["metric_std"]
        std = None if std is None or (isinstance(std, float) and math.isnan(std)) else float(std)
        mean = None if rec["mean"] is None or math.isnan(rec["mean"]) else float(rec["mean"])
        cells[rec["label"]][rec["metric"]] = {"mean": mean, "std": std, "text": value_std(mean, std),
                                              "n_seeds": int(rec["n_seeds"]), "best": False}
    for c in present:  # mark the best model (the real-data row is the ceiling, not a contender)
        d = directions[c]
        vals = [(cells[l][c]["mean"], l) for l in labels if l != REAL_LABEL and c in cells[l] and cells[l][c]["mean"] is not None]
        if d is not None and vals:
            best = max(v for v, _ in vals) if d else min(v for v, _ in vals)
            for v, l in vals:
                if v == best:  # ties are all best
                    cells[l][c]["best"] = True

    def key(label):
        """Rank by ``rank_by``; ties go to the next columns in order, then to the real-data row."""
        out = []
        for c in [rank_by] + [c for c in present if c != rank_by]:
            v = cells[label].get(c, {}).get("mean")
            d = directions.get(c)
            if d is None:
                continue
            out.append((1, 0.0) if v is None else (0, -v if d else v))
        return (*out, label != REAL_LABEL)

    ordered = sorted(labels, key=key) if rank_by in present else labels
    seeds = {l: sorted({r["job"]["seed"] for r in results if r["job"]["label"] == l and r["job"]["dataset"] == dataset})
             for l in labels}
    return {
        "columns": [{"name": c, "direction": directions[c], "rank": c == rank_by} for c in present],
        "rows": [{"label": l, "real": l == REAL_LABEL, "cells": cells[l], "seeds": seeds[l]} for l in ordered],
    }


def _figures(run_dir: Path, results: list[dict], dataset: str) -> list[dict]:
    """One card per row: sample grid or scatter (first seed), training curves."""
    first: dict[str, dict] = {}
    for r in sorted(results, key=lambda r: r["job"]["seed"]):
        if r["job"]["dataset"] == dataset:
            first.setdefault(r["job"]["label"], r)
    cards = []
    for label, r in first.items():
        card = {"label": label, "seed": r["job"]["seed"], "real": label == REAL_LABEL, "image": None, "scatter": None,
                "curves": None}
        try:
            with np.load(run_dir / r["samples"]) as z:
                samples = z["samples"][:2000]
            if samples.ndim == 4:
                png = image_grid_png(samples, scale=1)  # the page doubles it with pixelated CSS: 1/4 the bytes
                card["image"] = data_uri(png)
                card["image_width"] = 2 * int.from_bytes(png[16:20], "big")  # PNG IHDR width
            elif samples.ndim == 2 and samples.shape[1] == 2:
                card["scatter"] = scatter_svg(samples, r.get("mode_means"), title=f"{label} samples")
        except (OSError, KeyError, ValueError) as exc:
            log.warning("%s: no sample figure (%s)", label, exc)
            card["error"] = f"samples unavailable: {exc}"
        if r.get("curves"):
            card["curves"] = curves_svg(r["curves"], title=f"{label} training losses")
        cards.append(card)
    return cards


def build_context(run: RunResults) -> dict:
    suite = run.suite
    columns = [c for m in suite.get("evaluation", {}).get("metrics", []) for c in _group_columns(m)]
    datasets = list(dict.fromkeys(suite.get("datasets", []) + [r["job"]["dataset"] for r in run.results]))
    sections = []
    for ds in datasets:
        res = [r for r in run.results if r["job"]["dataset"] == ds]
        if not res:
            continue
        some = res[0]
        proto = some.get("protocol", {})
        sections.append({
            "dataset": ds,
            "table": _table(run.results, ds, columns, suite.get("rank_by") or (columns[0] if columns else "")),
            "figures": _figures(run.run_dir, run.results, ds),
            "protocol": proto,
            "warnings": sorted({w for r in res for w in r.get("warnings", [])}),
        })
    env = next((r.get("provenance", {}).get("environment", {}) for r in run.results), {})
    jobs = [{"id": r["job"]["id"], "json": json.dumps({k: v for k, v in r.items() if k not in ("curves", "_dir")},
                                                      indent=1, sort_keys=True)}
            for r in run.results]
    return {
        "suite": suite,
        "sections": sections,
        "environment": env,
        "jobs": jobs,
        "missing": run.missing,
        "errors": run.errors,
        "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "suite_json": json.dumps(suite, indent=1),
    }


def _group_columns(metric: str) -> tuple[str, ...]:
    """A suite metric's leaderboard columns, from the registry; a name it does not know (a plug-in
    not installed here) stands for one column of that name, so old runs still render."""
    return registry.columns_of([metric]) if metric in registry.METRICS else (metric,)


def render_html(run: RunResults) -> str:
    env = Environment(loader=PackageLoader("genbench.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    return env.get_template("leaderboard.html.j2").render(**build_context(run))


def render_report(run_dir: str | Path, out_dir: str | Path) -> Path:
    """Write ``index.html`` and ``summary.json`` for a run directory into ``out_dir``; return the HTML path."""
    run = load_run(run_dir)
    out_dir = Path(out_dir)
    html_path = out_dir / "index.html"
    atomic.write_text(html_path, render_html(run))
    written = [html_path]
    if run.results:
        atomic.write_json(out_dir / "summary.json", summarize(run))
        written.append(out_dir / "summary.json")
    for path in written:  # a report is for sharing (CI artifacts, web servers): world-readable
        os.chmod(path, 0o644)
    return html_path
