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


def rounded(mean, std) -> tuple[str, str | None]:
    """``mean`` and ``std`` as strings rounded to the uncertainty: two significant figures of the
    std, the mean to the same decimal (``12.3456 ± 0.5123`` → ``("12.35", "0.51")``). Without a
    usable std (missing, NaN, or below float noise: 1e-6 relative) the std is None and the mean
    is written by :func:`number`. Very large or small magnitudes share an exponent with the std
    (``("1.234e-04", "5.6e-06")``) so both stay readable."""
    if mean is None or math.isnan(float(mean)):
        return "–", None
    mean = float(mean)
    if std is None or math.isnan(float(std)) or abs(float(std)) <= 1e-6 * max(1.0, abs(mean)):
        return number(mean), None
    std = abs(float(std))
    if math.isinf(std) or math.isinf(mean):
        return number(mean), number(std)
    exp10 = math.floor(math.log10(std))
    if round(std / 10.0 ** exp10, 1) >= 10:  # 0.0996 rounds to 0.10: one more order of magnitude
        exp10 += 1
    decimals = 1 - exp10  # two significant figures of the std
    big = max(abs(mean), std)
    if big >= 1e5 or big < 1e-3:  # scientific, the exponent of the larger of the two
        e = math.floor(math.log10(big))
        d = max(decimals + e, 0)
        return f"{mean / 10.0 ** e:.{d}f}e{e:+03d}", f"{std / 10.0 ** e:.{d}f}e{e:+03d}"
    if decimals <= 0:
        q = 10.0 ** (-decimals)
        return str(int(round(mean / q) * q)), str(int(round(std / q) * q))
    m = f"{mean:.{decimals}f}"
    return ("0" + m[2:] if m.startswith("-0") and float(m) == 0 else m), f"{std:.{decimals}f}"


def value_std(mean, std) -> str:
    """``mean ± std`` rounded to the uncertainty (see :func:`rounded`); ``–`` for a missing mean;
    a spread below float noise (an estimator whose resamples are all the same set) is no
    uncertainty and is not shown."""
    m, s = rounded(mean, std)
    return m if s is None else f"{m} ± {s}"
