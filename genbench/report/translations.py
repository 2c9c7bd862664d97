"""The image-to-image figure: per model, rows of input | output | target (the SR papers' figure).

Every cell shows the same fixed region — the centre square of at most ``CROP`` target pixels —
enlarged by nearest-neighbour repetition to about ``ZOOM_TO`` pixels, so SR outputs are compared
pixel for pixel and small digits are visible. An input smaller than the output (an LR image) is
first brought to the output's size by nearest-neighbour repetition, i.e. shown as its pixels, not
as any interpolation. Unpaired tasks have no target: their rows are input A | A → B | A → B → A
(when the model has an inverse). The pixels come from the run's stored translations.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from genbench.report.figures import data_uri, image_grid_png

log = logging.getLogger(__name__)

ROWS = 4  # examples shown per model
CROP = 48  # side of the region shown, in output pixels
ZOOM_TO = 144  # about this many screen pixels per cell side


def _nearest(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """C×h'×w' → C×h×w by nearest-neighbour sampling (integer repetition when the sizes divide)."""
    rows = (np.arange(h) * img.shape[1]) // h
    cols = (np.arange(w) * img.shape[2]) // w
    return img[:, rows][:, :, cols]


def _rgb(img: np.ndarray) -> np.ndarray:
    return img.repeat(3, axis=0) if img.shape[0] == 1 else img


def region(height: int, width: int) -> tuple[int, int, int]:
    """(top, left, side) of the centre square shown, and the zoom that makes it about ``ZOOM_TO``."""
    side = min(CROP, height, width)
    return (height - side) // 2, (width - side) // 2, side


def comparison_png(columns: list[np.ndarray]) -> tuple[bytes, int]:
    """One PNG whose rows are the examples and whose columns are ``columns`` (each K×C×H×W uint8;
    the first may be smaller: it is brought to the output's size). Returns the PNG and its zoom."""
    out = columns[1]
    _, _, h, w = out.shape
    top, left, side = region(h, w)
    zoom = max(1, ZOOM_TO // side)
    rgb = any(c.shape[1] == 3 for c in columns)
    cells = []
    for i in range(min(len(c) for c in columns)):
        for c in columns:
            img = c[i] if c.shape[2:] == (h, w) else _nearest(c[i], h, w)
            img = _rgb(img) if rgb else img
            crop = img[:, top:top + side, left:left + side]
            cells.append(crop.repeat(zoom, axis=1).repeat(zoom, axis=2))
    png = image_grid_png(np.stack(cells), max_images=len(cells), scale=1, cols=len(columns), pad=3)
    return png, zoom


def comparisons(run_dir: Path, results: list[dict], dataset: str) -> dict | None:
    """Per model (its first seed) the input | output | target figure; None when the dataset's
    results are not image-to-image ones."""
    first: dict[str, dict] = {}
    for r in sorted(results, key=lambda r: r["job"]["seed"]):
        if r["job"]["dataset"] == dataset and (r.get("protocol") or {}).get("task"):
            first.setdefault(r["job"]["label"], r)
    if not first:
        return None
    task = next(iter(first.values()))["protocol"]["task"]
    unpaired = task.get("kind") == "unpaired"
    rows, headers = [], None
    for label, r in first.items():
        row = {"label": label, "seed": r["job"]["seed"], "image": None, "error": None}
        try:
            with np.load(run_dir / r["samples"], allow_pickle=False) as z:
                k = min(ROWS, len(z["example_inputs"]))
                cols = [z["example_inputs"][:k], z["samples"][:k]]
                names = ["input", "output"]
                if unpaired:
                    names = ["input A", "A → B"]
                    if "cycle" in z:
                        cols.append(z["cycle"][:k])
                        names.append("A → B → A")
                else:
                    cols.append(z["example_targets"][:k])
                    names.append("target")
            png, zoom = comparison_png(cols)
            row["image"], row["image_width"] = data_uri(png), int.from_bytes(png[16:20], "big")
            row["zoom"] = zoom
            headers = headers or names
        except (OSError, KeyError, ValueError) as exc:
            log.warning("%s: no input | output | target figure (%s)", label, exc)
            row["error"] = f"translations unavailable: {exc}"
        rows.append(row)
    return {"task": task, "columns": headers or [], "rows": rows, "crop": CROP,
            "note": ("centre crop of at most {} output pixels, enlarged by nearest-neighbour repetition; a smaller "
                     "input is shown as its own pixels, repeated to the output's size").format(CROP)}
