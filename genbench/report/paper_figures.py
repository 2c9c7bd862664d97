"""The papers' figures on the leaderboard: each model's ``paper_figures`` grids (ProGAN's stages,
StyleGAN's style mixing, truncation rows, IcGAN's edit rows, StackGAN's caption rows), the
truncation sweep's trade-off curves, and the model metrics that do not apply to a model, with why.

Any figure a model stores through the contract of :mod:`baselines.paper_figures` (grids in the
run's ``figures-KEY.npz``, labels in the result) is drawn the same way: a table with the column
labels on top, each row's label on its left, one enlarged image per cell.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from genbench.report.figures import band_chart_svg, data_uri, image_grid_png

log = logging.getLogger(__name__)

ZOOM = 3  # screen pixels per image pixel (28×28 digits → 84 px cells)


def _first_seed(results: list[dict], dataset: str) -> dict[str, dict]:
    first: dict[str, dict] = {}
    for r in sorted(results, key=lambda r: r["job"]["seed"]):
        if r["job"]["dataset"] == dataset and r["job"].get("model"):
            first.setdefault(r["job"]["label"], r)
    return first


def _cell(img: np.ndarray) -> str:
    return data_uri(image_grid_png(img[None], max_images=1, scale=ZOOM, pad=0))


def _model_figures(run_dir: Path, r: dict) -> tuple[list[dict], str | None]:
    stored = r.get("paper_figures") or {}
    if not stored.get("figures"):
        return [], None
    out = []
    try:
        with np.load(run_dir / stored["file"], allow_pickle=False) as z:
            for f in stored["figures"]:
                images, blank = z[f["images"]], z[f["blank"]]
                if images.ndim != 5 or images.shape[:2] != (len(f["rows"]), len(f["columns"])):
                    raise ValueError(f"figure {f['name']!r}: {images.shape[:2]} cells for its labels")
                rows = [{"label": label, "cells": [None if blank[i, j] else _cell(images[i, j])
                                                   for j in range(images.shape[1])]}
                        for i, label in enumerate(f["rows"])]
                out.append({"name": f["name"], "title": f["title"], "caption": f["caption"], "columns": f["columns"],
                            "rows": rows, "cell_width": images.shape[4] * ZOOM})
    except (OSError, KeyError, ValueError) as exc:
        log.warning("%s: no paper figures (%s)", r["job"]["label"], exc)
        return out, f"paper figures unavailable: {exc}"
    return out, None


def _truncation_curves(first: dict[str, dict]) -> dict | None:
    """FID and IS against ψ, and FID against IS (the trade-off), one line per model (first seed)."""
    curves = {}
    for label, r in first.items():
        m = next((m for m in r.get("metrics", []) if m.get("name") == "truncation_best_fid"), None)
        curve = ((m or {}).get("params") or {}).get("curve")
        if curve and curve.get("psi"):
            curves[label] = curve
    if not curves:
        return None

    def series(x_key, y_key):
        out = []
        for label, c in curves.items():
            ys, sds = c[y_key], c.get(f"{y_key}_std") or [None] * len(c[y_key])
            out.append({"label": label, "x": c[x_key], "y": ys,
                        "lo": [None if s is None else y - s for y, s in zip(ys, sds)],
                        "hi": [None if s is None else y + s for y, s in zip(ys, sds)]})
        return out

    some = next(iter(curves.values()))
    return {"fid_psi": band_chart_svg(series("psi", "fid"), x_label="truncation ψ", y_label="FID", title="FID vs ψ"),
            "is_psi": band_chart_svg(series("psi", "is"), x_label="truncation ψ", y_label="IS", title="IS vs ψ"),
            "tradeoff": band_chart_svg([{**s, "lo": [None] * len(s["x"]), "hi": [None] * len(s["x"])}
                                        for s in series("is", "fid")], x_label="IS", y_label="FID",
                                       title="FID vs IS over ψ"),
            "rows": [{"label": label, "points": [{"psi": p, "fid": f, "is": i} for p, f, i in
                                                 zip(c["psi"], c["fid"], c["is"])]} for label, c in curves.items()],
            "psi_grid": some["psi"]}


def paper_figures(run_dir: Path, results: list[dict], dataset: str) -> dict | None:
    """The dataset's paper-figure section, or None when no model has figures, curves or
    not-applicable model metrics."""
    first = _first_seed(results, dataset)
    models, not_applicable = [], []
    for label, r in first.items():
        figures, error = _model_figures(run_dir, r)
        if figures or error:
            models.append({"label": label, "seed": r["job"]["seed"], "figures": figures, "error": error})
        for column, why in (r.get("not_applicable") or {}).items():
            not_applicable.append({"label": label, "column": column, "why": why})
    truncation = _truncation_curves(first)
    if not (models or truncation or not_applicable):
        return None
    return {"models": models, "truncation": truncation, "not_applicable": not_applicable}
