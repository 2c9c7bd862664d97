"""How genbench writes a number for people — evaluate's table, the leaderboard, figure ticks,
the gate — so one value reads the same everywhere."""

from __future__ import annotations

import math


def number(x, *, fixed: bool = False) -> str:
    """About four significant digits (``12.35``, ``0.1235``, ``1234.6``); integers as integers;
    magnitudes from 1e5 up or below 1e-3 in scientific notation (``1.23e-04``); None as ``–``.

    ``fixed`` keeps trailing zeros — four decimals below 10, two from 10 on (``9.7000``,
    ``12.50``) — so the numbers of a right-aligned column line up on their decimal point.
    """
    if x is None:
        return "–"
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x.is_integer() and abs(x) < 1e6:
        return str(int(x))
    a = abs(x)
    if a >= 1e5 or a < 1e-3:
        return f"{x:.2e}"
    if fixed:
        return f"{x:.4f}" if a < 10 else f"{x:.2f}"
    return f"{x:.4g}" if a < 1000 else f"{x:.1f}"


def value_std(mean, std) -> str:
    """``mean ± std``; ``–`` for a missing mean; a spread below float noise (1e-6 relative, e.g.
    an estimator whose resamples are all the same set) is no uncertainty and is not shown."""
    if mean is None or math.isnan(float(mean)):
        return "–"
    if std is None or math.isnan(float(std)) or abs(float(std)) <= 1e-6 * max(1.0, abs(float(mean))):
        return number(mean)
    return f"{number(mean)} ± {number(std)}"
