"""Reading a run directory's job results and aggregating them across seeds (pandas).

The *summary* built here (``summarize``) is also the file format the gate and ``compare``
read: per (dataset, model, metric) the mean over seeds, the spread, the measured noise, and
the protocol each dataset was scored under.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from genbench.errors import GenbenchError
from genbench.metrics.registry import higher_is_better  # the registry's: a column's better direction

SUMMARY_FORMAT = "genbench-summary/1"

@dataclass
class RunResults:
    run_dir: Path
    suite: dict
    results: list[dict]
    missing: list[dict] = field(default_factory=list)  # planned jobs with no result (not run or failed)
    errors: dict[str, str] = field(default_factory=dict)  # job id → error message


def load_run(run_dir: str | Path) -> RunResults:
    """Read the results of the jobs a run directory's manifest lists (stale ones are ignored)."""
    run_dir = Path(run_dir)
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.exists():
        raise GenbenchError(f"{run_dir}: not a genbench run directory (no manifest.json); run `genbench run SUITE --out {run_dir}` first")
    try:
        manifest = json.loads(manifest_path.read_text())
    except ValueError as exc:
        raise GenbenchError(f"{manifest_path}: corrupt manifest ({exc})") from None
    results, missing, errors = [], [], {}
    for job in manifest["jobs"]:
        jdir = run_dir / "jobs" / job["id"]
        path = jdir / "result.json"
        err = jdir / "error.json"
        if err.exists():
            try:
                errors[job["id"]] = json.loads(err.read_text())["error"]
            except (ValueError, KeyError, OSError):
                errors[job["id"]] = "failed (unreadable error.json)"
        try:
            res = json.loads(path.read_text())
        except FileNotFoundError:
            missing.append(job)
            continue
        except ValueError as exc:
            raise GenbenchError(f"{path}: corrupt result file ({exc})") from None
        res["_dir"] = str(jdir)
        results.append(res)
    return RunResults(run_dir=run_dir, suite=manifest["suite"], results=results, missing=missing, errors=errors)


def metrics_frame(results: list[dict]) -> pd.DataFrame:
    """One row per (job, metric): dataset, label, model, seed, metric, value, std."""
    rows = []
    for r in results:
        job = r["job"]
        for m in r.get("metrics", []):
            rows.append({
                "dataset": job["dataset"], "label": job["label"], "model": job.get("model"), "seed": job["seed"],
                "metric": m["name"], "value": _num(m.get("value")), "std": _num(m.get("std")),
            })
    return pd.DataFrame(rows, columns=["dataset", "label", "model", "seed", "metric", "value", "std"])


def aggregate(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std across seeds per (dataset, label, metric).

    ``noise`` is what a rerun may move the number by: the std across seeds when there are
    several, else the metric's own std (bootstrap, subsets, splits), else 0.
    """
    cols = ["dataset", "label", "model", "metric", "mean", "seed_std", "metric_std", "noise", "n_seeds"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    g = frame.groupby(["dataset", "label", "metric"], sort=False, dropna=False)
    out = g.agg(
        model=("model", "first"),
        mean=("value", "mean"),
        seed_std=("value", lambda v: float(v.std(ddof=1)) if v.notna().sum() > 1 else math.nan),
        metric_std=("std", "mean"),
        n_seeds=("value", lambda v: int(v.notna().sum())),
    ).reset_index()
    out["noise"] = out["seed_std"].where(out["seed_std"].notna(), out["metric_std"]).fillna(0.0)
    return out[cols]


def summarize(run: RunResults) -> dict:
    """The gate/compare file: aggregated numbers plus the protocol they were measured under."""
    agg = aggregate(metrics_frame(run.results))
    protocols: dict[str, dict] = {}
    for r in run.results:
        protocols.setdefault(r["job"]["dataset"], protocol_identity(r))
    rows = []
    for rec in agg.to_dict("records"):
        rows.append({
            "dataset": rec["dataset"], "label": rec["label"],
            "model": rec["model"] if isinstance(rec["model"], str) else None, "metric": rec["metric"],
            "mean": _num(rec["mean"]), "std": _num(rec["seed_std"]) if rec["n_seeds"] > 1 else _num(rec["metric_std"]),
            "noise": _num(rec["noise"]), "n_seeds": int(rec["n_seeds"]),
            "higher_is_better": higher_is_better(rec["metric"]),
        })
    env = next((r["provenance"].get("environment", {}) for r in run.results), {})
    return {
        "format": SUMMARY_FORMAT,
        "suite": run.suite.get("name"),
        "profile": run.suite.get("profile"),
        "seeds": run.suite.get("seeds"),
        "protocols": protocols,
        "rows": rows,
        "provenance": {k: env.get(k) for k in ("genbench_version", "git_commit", "device", "torch", "platform")},
    }


def protocol_identity(result: dict) -> dict:
    """What must match for two numbers to be comparable: data, extractor, sample counts, metrics."""
    p = result.get("protocol", {})
    ds = p.get("dataset") or {}
    extractor = p.get("extractor_identity") or p.get("extractor")
    return {
        "dataset": {"name": ds.get("name"), "sha256": ds.get("sha256"), "sizes": ds.get("sizes")},
        "extractor": extractor,
        "n": p.get("n"),
        "split": p.get("split"),
        "metrics": p.get("metrics"),
    }


def load_summary(path_or_run: str | Path) -> dict:
    """A summary from a run directory, a summary JSON, or a single job's result.json."""
    p = Path(path_or_run)
    if p.is_dir():
        run = load_run(p)
        if not run.results:
            raise GenbenchError(f"{p}: the run has no finished results yet")
        return summarize(run)
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise GenbenchError(f"{p}: no such file or run directory") from None
    except ValueError as exc:
        raise GenbenchError(f"{p}: not valid JSON ({exc})") from None
    if isinstance(data, dict) and data.get("format") == SUMMARY_FORMAT:
        return data
    if isinstance(data, dict) and data.get("format", "").startswith("genbench-job-result"):
        run = RunResults(run_dir=p.parent, suite={"name": data.get("suite"), "profile": data.get("profile")},
                         results=[data])
        return summarize(run)
    raise GenbenchError(f"{p}: not a genbench summary or job result (expected \"format\": \"{SUMMARY_FORMAT}\")")


def _num(x: Any) -> float | None:
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x
