"""Figures for the leaderboard, made without matplotlib: PNG sample grids (Pillow, embedded as
data URIs) and inline SVG for training curves and 2-D scatter plots. Everything ends up inside
the one HTML file, so the report works opened from disk with no network."""

from __future__ import annotations

import base64
import io
import math
from html import escape

import numpy as np
from PIL import Image

from genbench.formatting import number

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def image_grid_png(images: np.ndarray, *, max_images: int = 64, scale: int = 2, pad: int = 2,
                   cols: int | None = None) -> bytes:
    """A grid (square-ish, or ``cols`` wide) of the first ``max_images`` uint8 ``N×C×H×W`` images, as PNG bytes."""
    images = np.asarray(images)
    if images.ndim != 4 or images.dtype != np.uint8 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must be uint8 N×C×H×W with C in (1, 3), got {images.dtype} {images.shape}")
    images = images[:max_images]
    n, c, h, w = images.shape
    if n == 0:
        raise ValueError("images is empty")
    cols = int(cols) if cols else int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    canvas = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 255, dtype=np.uint8)
    for i, img in enumerate(images):
        r, q = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + q * (w + pad)
        canvas[y : y + h, x : x + w] = img.transpose(1, 2, 0)
    pil = Image.fromarray(canvas[..., 0] if c == 1 else canvas, mode="L" if c == 1 else "RGB")
    if scale != 1:
        pil = pil.resize((pil.width * scale, pil.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    pil.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _line_chart_frame(css_class: str, aria_label: str, width: int, height: int, left: int, top: int, pw: int,
                      ph: int, x_range: tuple, y_range: tuple, x_label: str):
    """What every line chart shares: the ``<svg>`` element, the plot box, three y ticks, the x range
    and label — and the map from data (x, y) to pixels."""
    (x0, x1), (lo, hi) = x_range, y_range

    def px(x, v):
        return left + (x - x0) / (x1 - x0) * pw, top + (hi - v) / (hi - lo) * ph

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(aria_label)}">',
             f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#bbb"/>']
    for frac in (0.0, 0.5, 1.0):
        v = hi - frac * (hi - lo)
        parts.append(f'<text x="{left - 4}" y="{top + frac * ph + 4:.1f}" text-anchor="end" class="tick">{number(v)}</text>')
    parts.append(f'<text x="{left}" y="{height - 10}" class="tick">{number(x0)}</text>')
    parts.append(f'<text x="{left + pw}" y="{height - 10}" text-anchor="end" class="tick">{number(x1)}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 10}" text-anchor="middle" class="tick">{escape(x_label)}</text>')
    return parts, px


def curves_svg(curves: dict, *, width: int = 420, height: int = 220, title: str = "") -> str:
    """Loss curves (``{"step": [...], "loss_a": [...], ...}``) as an inline SVG line chart."""
    steps = curves.get("step") or []
    series = {k: v for k, v in curves.items() if k != "step" and any(x is not None for x in v)}
    if len(steps) < 2 or not series:
        return '<p class="muted">no training log</p>'
    left, right, top, bottom = 52, 10, 18, 30
    pw, ph = width - left - right, height - top - bottom
    vals = [x for v in series.values() for x in v if x is not None and math.isfinite(x)]
    lo, hi = min(vals), max(vals)
    if hi == lo:
        hi, lo = hi + 1, lo - 1
    s0, s1 = float(min(steps)), float(max(steps))
    s1 = s1 if s1 > s0 else s0 + 1

    parts, px = _line_chart_frame("curves", title or "training curves", width, height, left, top, pw, ph,
                                  (s0, s1), (lo, hi), "step")
    legend_x = left + 6
    for i, (name, v) in enumerate(sorted(series.items())):
        color = PALETTE[i % len(PALETTE)]
        pts, segs = [], []
        for s, y in zip(steps, v):
            if y is None or not math.isfinite(y):
                if pts:
                    segs.append(pts)
                pts = []
                continue
            x_, y_ = px(float(s), float(y))
            pts.append(f"{x_:.1f},{y_:.1f}")
        if pts:
            segs.append(pts)
        for seg in segs:
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.4" points="{" ".join(seg)}"/>')
        parts.append(f'<text x="{legend_x}" y="{top + 12 + 12 * i}" fill="{color}" class="legend">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def scatter_svg(points: np.ndarray, means: np.ndarray | None, *, size: int = 260, max_points: int = 1500,
                title: str = "") -> str:
    """2-D samples (blue dots) over the mixture's mode centres (red crosses)."""
    points = np.asarray(points, dtype=np.float64)[:max_points]
    ref = np.asarray(means, dtype=np.float64) if means is not None and len(means) else points
    lo, hi = ref.min(axis=0), ref.max(axis=0)
    span = float(max(hi - lo)) or 1.0
    pad_ = 0.25 * span
    cx, cy = (lo + hi) / 2
    half = span / 2 + pad_
    x0, y0 = cx - half, cy - half

    def px(p):
        return (p[..., 0] - x0) / (2 * half) * size, size - (p[..., 1] - y0) / (2 * half) * size

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="scatter" width="{size}" height="{size}" '
             f'viewBox="0 0 {size} {size}" role="img" aria-label="{escape(title or "samples over mode centres")}">',
             f'<rect width="{size}" height="{size}" fill="#fff" stroke="#bbb"/>']
    xs, ys = px(points)
    inside = (xs >= 0) & (xs <= size) & (ys >= 0) & (ys <= size)
    # One path of zero-length round-capped segments: a dot per sample at a third of <circle>'s bytes.
    dots = "".join(f"M{x:.1f} {y:.1f}h0" for x, y in zip(xs[inside], ys[inside]))
    if dots:
        parts.append(f'<path class="samples" d="{dots}" stroke="#1f77b4" stroke-opacity="0.35" '
                     'stroke-width="2.6" stroke-linecap="round" fill="none"/>')
    if means is not None:
        mx, my = px(np.asarray(means, dtype=np.float64))
        parts.append('<g stroke="#d62728" stroke-width="1.5">')
        parts.extend(f'<path d="M{x - 4:.1f} {y:.1f}h8M{x:.1f} {y - 4:.1f}v8"/>' for x, y in zip(mx, my))
        parts.append("</g>")
    outside = int((~inside).sum())
    if outside:
        parts.append(f'<text x="4" y="{size - 4}" class="tick">{outside} of {len(points)} points outside the frame</text>')
    parts.append("</svg>")
    return "".join(parts)


def band_chart_svg(series: list[dict], *, x_label: str, y_label: str, width: int = 440, plot_height: int = 170,
                   title: str = "") -> str:
    """Lines with shaded bands: ``series`` items are ``{"label", "x", "y", "lo", "hi"}`` (lists of
    equal length; None where a point is missing). One colour per series, a legend at the top."""
    pts = [(x, v) for s in series for x, y, lo, hi in zip(s["x"], s["y"], s["lo"], s["hi"])
           for v in (y, lo, hi) if x is not None and v is not None and math.isfinite(v)]
    if len(pts) < 2:
        return '<p class="muted">no curve</p>'
    left, right, top, bottom = 56, 10, 18 + 12 * len(series), 30  # the legend sits above the plot
    pw, ph = width - left - right, plot_height
    height = top + ph + bottom
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    lo_, hi_ = min(p[1] for p in pts), max(p[1] for p in pts)
    x1 = x1 if x1 > x0 else x0 + 1
    if hi_ == lo_:
        hi_, lo_ = hi_ + 1, lo_ - 1

    parts, px = _line_chart_frame("metric-curve", title or y_label, width, height, left, top, pw, ph,
                                  (x0, x1), (lo_, hi_), x_label)
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        ok = [(x, y, lo, hi) for x, y, lo, hi in zip(s["x"], s["y"], s["lo"], s["hi"])
              if x is not None and y is not None and math.isfinite(y)]
        band = [(x, lo, hi) for x, _, lo, hi in ok if lo is not None and hi is not None]
        if len(band) >= 2:
            upper = [px(x, hi) for x, _, hi in band]
            lower = [px(x, lo) for x, lo, _ in reversed(band)]
            poly = " ".join(f"{a:.1f},{b:.1f}" for a, b in upper + lower)
            parts.append(f'<polygon class="band" points="{poly}" fill="{color}" fill-opacity="0.18" stroke="none"/>')
        line = " ".join(f"{a:.1f},{b:.1f}" for a, b in (px(x, y) for x, y, _, _ in ok))
        parts.append(f'<polyline class="line" data-label="{escape(s["label"])}" fill="none" stroke="{color}" '
                     f'stroke-width="1.6" points="{line}"/>')
        parts.extend(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.2" fill="{color}"/>' for a, b in (px(x, y) for x, y, _, _ in ok))
        parts.append(f'<text x="{left + 4}" y="{14 + 12 * i}" fill="{color}" class="legend">{escape(s["label"])}</text>')
    parts.append(f'<text x="{width - right}" y="12" text-anchor="end" class="tick">{escape(y_label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
