"""The value every metric returns: a number, its uncertainty, and how it was computed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from genbench.jsonable import jsonable


@dataclass(frozen=True)
class MetricResult:
    """One headline number.

    ``name`` is the leaderboard column (``fid``, ``precision``, ``modes`` ...); ``std`` is the
    metric's own spread (IS over splits, KID over subsets, Parzen standard error, FID bootstrap
    std), ``ci`` a confidence interval where the metric defines one; ``params`` records every
    parameter that influenced the number (splits, subset sizes, seeds, sigma, thresholds ...).
    Metrics with several headline numbers (PRDC, mode coverage) return several results.
    """

    name: str
    value: float
    std: float | None = None
    ci: tuple[float, float] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def __float__(self) -> float:
        return float(self.value)

    def to_dict(self) -> dict:
        """Strict JSON: non-finite numbers (PSNR of identical images, a std of one draw) become null."""
        return jsonable({"name": self.name, "value": float(self.value),
                         "std": None if self.std is None else float(self.std),
                         "ci": None if self.ci is None else [float(self.ci[0]), float(self.ci[1])],
                         "params": dict(self.params)})

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "MetricResult":
        ci = d.get("ci")
        return cls(
            name=d["name"],
            value=float("nan") if d.get("value") is None else float(d["value"]),
            std=d.get("std"),
            ci=None if ci is None else (ci[0], ci[1]),
            params=d.get("params", {}),
        )
