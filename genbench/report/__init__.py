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
from genbench.formatting import rounded, value_std
from genbench.gate import SIGNIFICANT_SIGMAS, Delta
from genbench.metrics import registry
from genbench.report import tables
from genbench.report.figures import band_chart_svg, curves_svg, data_uri, image_grid_png, scatter_svg
from genbench.report.paper_figures import paper_figures
from genbench.report.translations import comparisons
from genbench.metrics.memorization import decode_images
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
        m_text, s_text = rounded(mean, std)
        cells[rec["label"]][rec["metric"]] = {"mean": mean, "std": std, "text": value_std(mean, std),
                                              "mean_text": m_text, "std_text": s_text,
                                              "n_seeds": int(rec["n_seeds"]), "best": False}
    for r in results:  # a model metric that does not apply to a model: "n/a", with why (on hover)
        if r["job"]["dataset"] == dataset:
            for column, why in (r.get("not_applicable") or {}).items():
                cells[r["job"]["label"]].setdefault(column, {"mean": None, "std": None, "text": "n/a", "mean_text": "n/a",
                                                             "std_text": "", "n_seeds": 0, "best": False, "why": why})
    for label, metric in _identical(results, dataset):  # PSNR of outputs identical to their targets: +∞
        if metric in cells.get(label, {}):
            cells[label][metric].update(mean=math.inf, std=None, text="∞", mean_text="∞", std_text="")
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
    rows = [{"label": l, "real": l == REAL_LABEL, "cells": cells[l], "seeds": seeds[l]} for l in ordered]
    significance = None
    if rank_by in present and directions[rank_by] is not None:
        significance = pairwise(dataset, rows, rank_by, directions[rank_by])
        for row in rows:
            row["rank"] = significance["ranks"].get(row["label"])
    return {
        "columns": [{"name": c, "direction": directions[c], "rank": c == rank_by} for c in present],
        "rows": rows,
        "rank_by": rank_by if rank_by in present else None,
        "significance": significance,
    }


def _identical(results: list[dict], dataset: str) -> set[tuple[str, str]]:
    """(label, metric) whose every value is a PSNR mean of +∞: some output identical to its target
    (stored as null, with the count of identical pairs in its params)."""
    seen: dict[tuple[str, str], bool] = {}
    for r in results:
        if r["job"]["dataset"] != dataset:
            continue
        for m in r.get("metrics", []):
            p = m.get("params") or {}
            inf = m.get("value") is None and (p.get("identical_pairs") or 0) > 0  # then the mean is +∞
            key = (r["job"]["label"], m["name"])
            seen[key] = seen.get(key, True) and inf
    return {k for k, v in seen.items() if v}


def pairwise(dataset: str, rows: list[dict], metric: str, higher_is_better: bool) -> dict:
    """Is A better than B, for every pair of models on ``metric``, by the gate's noise rule.

    Each value's noise is its std over seeds when there are several, else the metric's own std
    (bootstrap, subsets), else 0. A difference Δ = A − B is significant when
    |Δ| > 2·σ_Δ with σ_Δ = √(σ_A² + σ_B²) (a two-sided z-test at about 95 %).

    The rank interval of a model follows from the same tests: its best possible rank is 1 + the
    number of models significantly better than it, its worst N − the number significantly worse
    (N models with a value; the real-data ceiling row is not ranked). A pair with no measured
    noise at all is not called significant: the test cannot be made.
    """
    models = [r for r in rows if not r["real"] and r["cells"].get(metric, {}).get("mean") is not None]
    labels = [r["label"] for r in models]
    value = {r["label"]: r["cells"][metric]["mean"] for r in models}
    noise = {r["label"]: r["cells"][metric]["std"] or 0.0 for r in models}
    matrix: dict[str, dict[str, dict]] = {a: {} for a in labels}
    for a in labels:
        for b in labels:
            if a == b:
                continue
            d = Delta(dataset, a, metric, value[b], value[a], math.hypot(noise[a], noise[b]), higher_is_better)
            m_text, _ = rounded(d.delta, d.noise)
            unknown = d.noise == 0 and d.delta != 0  # no noise measured: the test cannot be made
            matrix[a][b] = {"delta": d.delta, "sigma": d.noise, "z": None if unknown else d.z,
                            "significant": d.significant and not unknown,
                            # "better": row A beats column B beyond noise
                            "verdict": "no noise estimate" if unknown else d.verdict,
                            "text": ("+" if d.delta > 0 else "") + m_text if m_text != "–" else m_text}
    ranks = {}
    for a in labels:
        better = sum(1 for b in labels if b != a and matrix[a][b]["verdict"] == "worse")
        worse = sum(1 for b in labels if b != a and matrix[a][b]["verdict"] == "better")
        ranks[a] = {"lo": 1 + better, "hi": len(labels) - worse}
    return {"metric": metric, "labels": labels, "matrix": matrix, "ranks": ranks, "sigmas": SIGNIFICANT_SIGMAS,
            "test": f"|Δ| > {SIGNIFICANT_SIGMAS:g}·σ_Δ, σ_Δ = √(σ_A² + σ_B²); σ = std over seeds when there are "
                    "several, else the metric's own std (bootstrap or subsets), else 0"}


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
            elif samples.ndim == 5:  # voxels: shaded isometric views, as 3D-GAN's figures show shapes
                from genbench.report.voxels import voxel_grid_png

                png = voxel_grid_png(samples)
                card["image"] = data_uri(png)
                card["image_width"] = int.from_bytes(png[16:20], "big")
        except (OSError, KeyError, ValueError) as exc:
            log.warning("%s: no sample figure (%s)", label, exc)
            card["error"] = f"samples unavailable: {exc}"
        if r.get("curves"):
            card["curves"] = curves_svg(r["curves"], title=f"{label} training losses")
        cards.append(card)
    return cards


def _metric_curves(results: list[dict], dataset: str, metric: str) -> dict | None:
    """``metric`` against training step and training wall time, one line per model: the mean over
    seeds with a band of ± the std over seeds (one seed: ± the metric's own std), the table rule;
    and each model's best scored step beside its final value."""
    by_label: dict[str, list[dict]] = {}
    for r in sorted(results, key=lambda r: r["job"]["seed"]):
        c = r.get("metric_curve")
        if r["job"]["dataset"] == dataset and c and metric in c.get("metrics", {}):
            by_label.setdefault(r["job"]["label"], []).append(c)
    if not by_label:
        return None
    better = registry.higher_is_better(metric)
    step_series, wall_series, rows = [], [], []
    for label, curves in by_label.items():
        steps = sorted(set.intersection(*(set(c["step"]) for c in curves)))
        ys, los, his, walls = [], [], [], []
        for k in steps:
            vals, stds, ws = [], [], []
            for c in curves:
                i = c["step"].index(k)
                v = c["metrics"][metric]["value"][i]
                if v is not None:
                    vals.append(float(v))
                    stds.append(c["metrics"][metric]["std"][i])
                    ws.append(float(c["train_wall_s"][i]))
            if not vals:
                ys.append(None), los.append(None), his.append(None), walls.append(None)
                continue
            mean = float(np.mean(vals))
            sd = float(np.std(vals, ddof=1)) if len(vals) > 1 else (float(stds[0]) if stds[0] is not None else None)
            ys.append(mean)
            los.append(None if sd is None else mean - sd)
            his.append(None if sd is None else mean + sd)
            walls.append(float(np.mean(ws)))
        step_series.append({"label": label, "x": steps, "y": ys, "lo": los, "hi": his})
        wall_series.append({"label": label, "x": walls, "y": ys, "lo": los, "hi": his})
        scored = [(y, k, None if lo is None else y - lo) for y, k, lo in zip(ys, steps, los) if y is not None]
        final = scored[-1] if scored else None
        best = (min(scored) if better is False else max(scored)) if scored and better is not None else None
        rows.append({"label": label, "n_seeds": len(curves),
                     "final": value_std(final[0], final[2]) if final else "–", "final_step": final[1] if final else None,
                     "best": value_std(best[0], best[2]) if best else "–", "best_step": best[1] if best else None})
    return {"metric": metric, "rows": rows,
            "by_step": band_chart_svg(step_series, x_label="training step", y_label=metric, title=f"{metric} vs step"),
            "by_wall": band_chart_svg(wall_series, x_label="training wall time, s", y_label=metric,
                                      title=f"{metric} vs training wall time")}


def _memorization(results: list[dict], dataset: str) -> list[dict]:
    """Per row (first seed): the memorised share and its generated samples beside their nearest
    training samples — one PNG whose rows are [generated, 1st, 2nd, ... nearest]."""
    first: dict[str, dict] = {}
    for r in sorted(results, key=lambda r: r["job"]["seed"]):
        if r["job"]["dataset"] == dataset:
            m = next((m for m in r.get("metrics", []) if m.get("name") == "memorized"), None)
            if m is not None:
                first.setdefault(r["job"]["label"], (r, m))
    rows = []
    for label, (r, m) in first.items():
        p = m.get("params") or {}
        row = {"label": label, "seed": r["job"]["seed"], "real": label == REAL_LABEL,
               "text": value_std(m.get("value"), m.get("std")), "threshold": p.get("threshold"),
               "percentile": p.get("percentile"), "median_gen": p.get("median_nn_generated"),
               "median_held": p.get("median_nn_held_out"), "space": p.get("space"), "image": None, "distances": []}
        examples = [e for e in p.get("examples") or [] if e.get("images")]
        try:
            if examples:
                stack = [decode_images(e["images"]) for e in examples]
                k = min(len(s_) for s_ in stack)
                png = image_grid_png(np.concatenate([s_[:k] for s_ in stack]), max_images=len(stack) * k, scale=1, cols=k)
                row["image"], row["image_width"] = data_uri(png), 2 * int.from_bytes(png[16:20], "big")
                row["distances"] = [[round(d, 3) for d in e.get("distance", [])[: k - 1]] for e in examples]
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("%s: no memorisation figure (%s)", label, exc)
        rows.append(row)
    return rows


def build_context(run: RunResults) -> dict:
    suite = run.suite
    columns, rank_by = _columns_rank(suite)
    sections = []
    for ds in _datasets(run):
        res = [r for r in run.results if r["job"]["dataset"] == ds]
        if not res:
            continue
        some = res[0]
        proto = some.get("protocol", {})
        sections.append({
            "dataset": ds,
            "table": _table(run.results, ds, columns, rank_by),
            "figures": _figures(run.run_dir, run.results, ds),
            "memorization": _memorization(run.results, ds),
            "translations": comparisons(run.run_dir, run.results, ds),
            "paper_figures": paper_figures(run.run_dir, run.results, ds),
            "task": proto.get("task"),
            # the rank metric's curve, and FID's when it ranks by something else
            "metric_curves": [c for c in (_metric_curves(run.results, ds, m)
                                          for m in dict.fromkeys([x for x in (rank_by, "fid") if x])) if c],
            "protocol": proto,
            "warnings": sorted({w for r in res for w in r.get("warnings", [])}),
        })
    env = next((r.get("provenance", {}).get("environment", {}) for r in run.results), {})
    jobs = [{"id": r["job"]["id"], "json": json.dumps(_without_pictures({k: v for k, v in r.items() if k not in ("curves", "_dir")}),
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


def _without_pictures(obj):
    """A result for the page's JSON dump: the memorisation examples' pixels (``{"uint8_base64"}``
    records, in the metric's params and the protocol's copy of them) are drawn above, not repeated."""
    if isinstance(obj, dict):
        if "uint8_base64" in obj:
            return "(pixels: drawn in the memorisation panel)"
        return {k: _without_pictures(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_without_pictures(v) for v in obj]
    return obj


def _columns_rank(suite: dict) -> tuple[list[str], str]:
    columns = [c for m in suite.get("evaluation", {}).get("metrics", []) for c in _group_columns(m)]
    return columns, suite.get("rank_by") or (columns[0] if columns else "")


def _datasets(run: RunResults) -> list[str]:
    return list(dict.fromkeys(run.suite.get("datasets", []) + [r["job"]["dataset"] for r in run.results]))


def _group_columns(metric: str) -> tuple[str, ...]:
    """A suite metric's leaderboard columns, from the registry; a name it does not know (a plug-in
    not installed here) stands for one column of that name, so old runs still render."""
    return registry.columns_of([metric]) if metric in registry.METRICS else (metric,)


def render_html(run: RunResults) -> str:
    env = Environment(loader=PackageLoader("genbench.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    return env.get_template("leaderboard.html.j2").render(**build_context(run), inf=math.inf)


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


def write_table(run_dir: str | Path, out_dir: str | Path, fmt: str) -> Path:
    """Write the leaderboard table as ``leaderboard.md``, ``.csv`` or ``.tex`` into ``out_dir``."""
    run = load_run(run_dir)
    sections = [{"dataset": ds, "table": _table(run.results, ds, *_columns_rank(run.suite))}
                for ds in _datasets(run) if any(r["job"]["dataset"] == ds for r in run.results)]
    text = {"md": tables.to_markdown, "csv": tables.to_csv, "latex": tables.to_latex}[fmt](sections)
    path = Path(out_dir) / f"leaderboard.{tables.EXTENSIONS[fmt]}"
    atomic.write_text(path, text)
    os.chmod(path, 0o644)
    return path
