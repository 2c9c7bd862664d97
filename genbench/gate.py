"""The CI gate and ``compare``: is a new result set worse than a baseline by more than noise?

A rule reads ``[MODEL:]METRIC OP TOLERANCE['|'TOLERANCE ...]``, for example ``fid<=+5%``,
``is>=-0.2``, ``dcgan:fid<=+2sigma`` or ``fid<=+5%|2sigma`` (the most lenient of the listed
tolerances applies). ``%`` is relative to the baseline value, a bare number is absolute, and
``sigma`` is the measured noise ``sqrt(noise_baseline² + noise_current²)``, where a result's
noise is its std over seeds (or, with one seed, the metric's own std: bootstrap, subsets).
Numbers measured under a different protocol are refused, never compared.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from genbench.errors import GenbenchError
from genbench.formatting import number
from genbench.metrics.registry import COLUMNS
from genbench.metrics.registry import higher_is_better as registered_direction

_RULE_RE = re.compile(
    r"^\s*(?:(?P<scope>[A-Za-z0-9_.\-/ ]+):)?(?P<metric>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op><=|>=)\s*"
    r"(?P<tols>[^|]+(?:\|[^|]+)*)\s*$"
)
_TOL_RE = re.compile(r"^\s*(?P<num>[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|[+-]?\.\d+)\s*(?P<unit>%|sigma|σ)?\s*$")
SIGNIFICANT_SIGMAS = 2.0


class ProtocolMismatch(GenbenchError):
    """Baseline and current results were measured differently; comparing them would mislead."""


@dataclass(frozen=True)
class Tolerance:
    amount: float
    unit: str  # "abs", "rel" or "sigma"

    def allowed(self, baseline: float, noise: float) -> float:
        if self.unit == "rel":
            return self.amount / 100.0 * abs(baseline)
        if self.unit == "sigma":
            return self.amount * noise
        return self.amount

    def __str__(self) -> str:
        sign = "+" if self.amount >= 0 else ""
        return {"rel": f"{sign}{self.amount:g}%", "sigma": f"{sign}{self.amount:g}sigma"}.get(self.unit, f"{sign}{self.amount:g}")


@dataclass(frozen=True)
class Rule:
    metric: str
    op: str  # "<=" or ">="
    tolerances: tuple[Tolerance, ...]
    scope: str | None = None  # a model label, or DATASET/LABEL

    def applies(self, dataset: str, label: str) -> bool:
        return self.scope is None or self.scope in (label, f"{dataset}/{label}")

    def bound(self, baseline: float, noise: float) -> float:
        """The worst value the current result may take (signed tolerance: + loosens ``<=``)."""
        slack = [t.allowed(baseline, noise) for t in self.tolerances]
        return baseline + max(slack) if self.op == "<=" else baseline - max(slack)

    def __str__(self) -> str:
        scope = f"{self.scope}:" if self.scope else ""
        tols = [str(t) if self.op == "<=" else "-" + str(t).lstrip("+") for t in self.tolerances]
        return f"{scope}{self.metric}{self.op}{'|'.join(tols)}"


def parse_rule(text: str) -> Rule:
    m = _RULE_RE.match(text)
    if not m:
        raise GenbenchError(
            f"--rule {text!r}: expected [MODEL:]METRIC<=TOL or METRIC>=TOL, where TOL is like +5%, +2.0 or +2sigma "
            "(several joined by '|' take the most lenient), e.g. 'fid<=+5%|2sigma'"
        )
    tols = []
    for part in m.group("tols").split("|"):
        t = _TOL_RE.match(part)
        if not t:
            raise GenbenchError(f"--rule {text!r}: cannot read tolerance {part.strip()!r}; use e.g. +5%, +2.0 or +2sigma")
        unit = {"%": "rel", "sigma": "sigma", "σ": "sigma", None: "abs"}[t.group("unit")]
        amount = float(t.group("num"))
        tols.append(Tolerance(amount, unit))
    op = m.group("op")
    # Tolerances are written as how far the value may move in its bad direction; accept both
    # signs for >= rules (is>=-5% and is>=5% mean the same: at most 5 % lower).
    if op == ">=":
        tols = [Tolerance(abs(t.amount), t.unit) for t in tols]
    scope = m.group("scope").strip() if m.group("scope") else None
    return Rule(metric=m.group("metric"), op=op, tolerances=tuple(tols), scope=scope)


def higher_is_better(metric: str, *summaries: dict) -> bool | None:
    """The registry's better direction of a column; for a column it does not know (a third-party
    metric), the direction the summaries recorded with it."""
    if metric in COLUMNS:
        return registered_direction(metric)
    recorded = {r.get("higher_is_better") for s in summaries for r in s["rows"] if r["metric"] == metric}
    recorded.discard(None)
    return recorded.pop() if len(recorded) == 1 else None


def check_rules(rules: list[Rule], *summaries: dict) -> None:
    """Refuse a rule that names no known column, or whose direction contradicts its metric's:
    ``fid>=-5%`` (a lower bound on a lower-is-better metric) would pass any worse FID."""
    in_summaries = {r["metric"] for s in summaries for r in s["rows"]}
    for rule in rules:
        if rule.metric not in COLUMNS and rule.metric not in in_summaries:
            raise GenbenchError(f"--rule {rule}: unknown metric {rule.metric!r}; known columns: "
                                f"{', '.join(sorted(set(COLUMNS) | in_summaries))}")
        better = higher_is_better(rule.metric, *summaries)
        if better is not None and (rule.op == ">=") != better:
            word, op = ("higher", ">=") if better else ("lower", "<=")
            raise GenbenchError(f"--rule {rule}: {rule.metric} is better when {word}, so a {rule.op} rule would pass "
                                f"it getting worse; write {rule.metric}{op}... (e.g. {rule.metric}{op}"
                                f"{'-' if better else '+'}5%)")


def default_rules(summary: dict) -> list[Rule]:
    """For every metric with a better direction: it may get worse by at most max(5 %, 2σ)."""
    rules = []
    for metric in dict.fromkeys(r["metric"] for r in summary["rows"]):
        d = higher_is_better(metric, summary)
        if d is None:
            continue
        rules.append(Rule(metric, ">=" if d else "<=", (Tolerance(5.0, "rel"), Tolerance(2.0, "sigma"))))
    return rules


# --------------------------------------------------------------------------- protocol


def protocol_differences(baseline: dict, current: dict) -> list[str]:
    """Why two summaries are not comparable (empty when they are)."""
    diffs = []
    for ds, bp in baseline.get("protocols", {}).items():
        cp = current.get("protocols", {}).get(ds)
        if cp is None:
            diffs.append(f"{ds}: the current results have no dataset {ds!r}")
            continue
        bd, cd = bp.get("dataset") or {}, cp.get("dataset") or {}
        if bd.get("sha256") != cd.get("sha256"):
            diffs.append(f"{ds}: dataset fingerprint {_short(bd)} (baseline) ≠ {_short(cd)} (current)"
                         " — e.g. mnist fell back to mnist-5k, or the data changed")
        if _norm(bp.get("extractor")) != _norm(cp.get("extractor")):
            diffs.append(f"{ds}: extractor {bp.get('extractor')} (baseline) ≠ {cp.get('extractor')} (current)")
        for k in ("n", "split"):
            if bp.get(k) != cp.get(k):
                diffs.append(f"{ds}: {'sample count n' if k == 'n' else 'reference split'} "
                             f"{bp.get(k)!r} (baseline) ≠ {cp.get(k)!r} (current)")
        # image-to-image results: the task, its classifier and the SR scoring mode are the protocol too
        if bp.get("task") != cp.get("task"):
            diffs.append(f"{ds}: image-to-image task {bp.get('task')} (baseline) ≠ {cp.get('task')} (current)")
        if _norm(bp.get("classifier")) != _norm(cp.get("classifier")):
            diffs.append(f"{ds}: task classifier {bp.get('classifier')} (baseline) ≠ {cp.get('classifier')} (current)")
        if bp.get("sr_mode") != cp.get("sr_mode"):
            diffs.append(f"{ds}: SR scoring mode {bp.get('sr_mode')!r} (baseline) ≠ {cp.get('sr_mode')!r} (current)")
    return diffs


def _short(fp: dict) -> str:
    return f"{fp.get('name')}@{(fp.get('sha256') or '?')[:12]}"


def _norm(extractor):
    if isinstance(extractor, dict):
        return (extractor.get("name"), extractor.get("weights_sha256"))
    return extractor


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class Check:
    dataset: str
    label: str
    rule: Rule
    baseline: float | None
    current: float | None
    noise: float
    bound: float | None
    ok: bool
    note: str = ""

    @property
    def delta(self) -> float | None:
        if self.baseline is None or self.current is None:
            return None
        return self.current - self.baseline


@dataclass
class GateResult:
    checks: list[Check]
    ignored: list[str]

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


def _index(summary: dict) -> dict[tuple[str, str, str], dict]:
    return {(r["dataset"], r["label"], r["metric"]): r for r in summary["rows"]}


def run_gate(baseline: dict, current: dict, rules: list[Rule] | None = None) -> GateResult:
    """Check ``current`` against ``baseline``; raise :class:`ProtocolMismatch` if not comparable."""
    if rules:
        check_rules(rules, baseline, current)
    diffs = protocol_differences(baseline, current)
    if diffs:
        raise ProtocolMismatch(
            "refusing to compare results measured under different protocols:\n  " + "\n  ".join(diffs)
            + "\nre-measure the baseline under the current protocol (or fix the current run)"
        )
    rules = rules if rules else default_rules(baseline)
    b_idx, c_idx = _index(baseline), _index(current)
    checks, used = [], set()
    for rule in rules:
        matched = False
        for (ds, label, metric), b in b_idx.items():
            if metric != rule.metric or not rule.applies(ds, label):
                continue
            matched = True
            used.add((ds, label, metric))
            c = c_idx.get((ds, label, metric))
            if b.get("mean") is None:
                checks.append(Check(ds, label, rule, None, c and c.get("mean"), 0.0, None, True, "no baseline value"))
                continue
            if c is None or c.get("mean") is None:
                checks.append(Check(ds, label, rule, b["mean"], None, 0.0, None, False, "missing in current results"))
                continue
            noise = math.hypot(b.get("noise") or 0.0, c.get("noise") or 0.0)
            bound = rule.bound(b["mean"], noise)
            ok = c["mean"] <= bound + 1e-12 * abs(bound) if rule.op == "<=" else c["mean"] >= bound - 1e-12 * abs(bound)
            checks.append(Check(ds, label, rule, b["mean"], c["mean"], noise, bound, ok))
        if not matched:
            raise GenbenchError(f"--rule {rule}: no baseline result has metric {rule.metric!r}"
                                + (f" for {rule.scope!r}" if rule.scope else "")
                                + f"; baseline metrics: {', '.join(sorted({k[2] for k in b_idx}))}")
    ignored = [f"{d}/{l}/{m}" for (d, l, m) in c_idx if (d, l, m) not in b_idx]
    return GateResult(checks, ignored)


# --------------------------------------------------------------------------- compare


@dataclass(frozen=True)
class Delta:
    dataset: str
    label: str
    metric: str
    a: float | None
    b: float | None
    noise: float
    higher_is_better: bool | None

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def z(self) -> float | None:
        d = self.delta
        if d is None:
            return None
        if self.noise == 0:
            return 0.0 if d == 0 else math.inf
        return d / self.noise

    @property
    def significant(self) -> bool:
        z = self.z
        return z is not None and abs(z) > SIGNIFICANT_SIGMAS

    @property
    def verdict(self) -> str:
        d = self.delta
        if d is None:
            return "missing"
        if not self.significant:
            return "within noise"
        if self.higher_is_better is None:
            return "changed"
        return "better" if (d > 0) == self.higher_is_better else "worse"


def compare(a: dict, b: dict) -> tuple[list[Delta], list[str]]:
    """Side-by-side deltas (B − A) and the protocol differences (reported, not refused)."""
    ai, bi = _index(a), _index(b)
    out = []
    for key in list(dict.fromkeys([*ai, *bi])):
        ra, rb = ai.get(key), bi.get(key)
        noise = math.hypot((ra or {}).get("noise") or 0.0, (rb or {}).get("noise") or 0.0)
        out.append(Delta(*key, (ra or {}).get("mean"), (rb or {}).get("mean"), noise, higher_is_better(key[2], a, b)))
    return out, protocol_differences(a, b)


# --------------------------------------------------------------------------- output


def gate_rows(result: GateResult) -> list[list[str]]:
    return [[c.dataset, c.label, str(c.rule), number(c.baseline), number(c.current),
             ("+" if (c.delta or 0) >= 0 else "") + number(c.delta) if c.delta is not None else "–",
             number(c.bound), "ok" if c.ok else "REGRESSION" if not c.note else f"FAIL ({c.note})"]
            for c in result.checks]


GATE_HEADER = ["dataset", "model", "rule", "baseline", "current", "delta", "limit", "status"]
COMPARE_HEADER = ["dataset", "model", "metric", "A", "B", "B − A", "delta/σ", "verdict"]


def compare_rows(deltas: list[Delta]) -> list[list[str]]:
    rows = []
    for d in deltas:
        z = d.z
        rows.append([d.dataset, d.label, d.metric + {True: " ↑", False: " ↓"}.get(d.higher_is_better, ""),
                     number(d.a), number(d.b), ("+" if (d.delta or 0) >= 0 else "") + number(d.delta) if d.delta is not None else "–",
                     "–" if z is None else ("inf" if math.isinf(z) else f"{z:+.1f}"), d.verdict])
    return rows


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)] if rows else [len(h) for h in header]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *[line(r) for r in rows]])


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    out = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(esc(x) for x in r) + " |" for r in rows]
    return "\n".join(out)
