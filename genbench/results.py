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
REAL_LABEL = "real data"  # the one definition: the leaderboard row of held-out real samples

@dataclass
class RunResults:
    run_dir: Path
    suite: dict
    results: list[dict]
    missing: list[dict] = field(default_factory=list)  # planned jobs with no result (not run or failed)
    errors: dict[str, str] = field(default_factory=dict)  # job id → error message


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except ValueError as exc:  # also UnicodeDecodeError
        raise GenbenchError(f"{path}: corrupt {what} ({exc})") from None
    except OSError as exc:
        raise GenbenchError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None


def _bad(path: Path, key: str, problem: str) -> GenbenchError:
    return GenbenchError(f"{path}: {key}: {problem}")


def _kind(x: Any) -> str:
    return "null" if x is None else type(x).__name__


def _need_dict(path: Path, key: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise _bad(path, key, f"expected a JSON object, got {_kind(value)}")
    return value


def _need_keys(path: Path, key: str, obj: dict, names: tuple[str, ...], kind: type | tuple = str) -> None:
    for name in names:
        if name not in obj:
            raise _bad(path, f"{key}.{name}" if key else name, "missing")
        if not isinstance(obj[name], kind) or isinstance(obj[name], bool):
            raise _bad(path, f"{key}.{name}" if key else name, f"expected {_kinds(kind)}, got {_kind(obj[name])}")


def _kinds(kind: type | tuple) -> str:
    names = {str: "a string", int: "an integer", float: "a number", dict: "a JSON object", list: "a list"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, "null" if k is type(None) else k.__name__) for k in kinds)


_NUMBER = (int, float, type(None))


def _check_numbers(path: Path, key: str, obj: dict, names: tuple[str, ...]) -> None:
    for name in names:
        value = obj.get(name)
        if not isinstance(value, _NUMBER) or isinstance(value, bool):
            raise _bad(path, f"{key}.{name}", f"expected a number or null, got {_kind(value)} {value!r:.40}")
        if isinstance(value, float) and not math.isfinite(value):  # json.loads accepts NaN/Infinity
            raise _bad(path, f"{key}.{name}", f"expected a finite number or null, got {value!r}")


def check_result(res: Any, path: Path) -> dict:
    """A job result as the summary, report and gate read it; a one-line error naming the key if not."""
    _need_dict(path, "(top level)", res)
    _need_dict(path, "job", res.get("job"))
    _need_keys(path, "job", res["job"], ("dataset", "label"))
    _need_keys(path, "job", res["job"], ("seed",), int)
    metrics = res.get("metrics", [])
    if not isinstance(metrics, list):
        raise _bad(path, "metrics", f"expected a list, got {_kind(metrics)}")
    for i, m in enumerate(metrics):
        _need_dict(path, f"metrics[{i}]", m)
        _need_keys(path, f"metrics[{i}]", m, ("name",))
        _check_numbers(path, f"metrics[{i}]", m, ("value", "std"))
    _need_dict(path, "provenance", res.get("provenance"))
    if "protocol" in res:
        _need_dict(path, "protocol", res["protocol"])
        if res["protocol"].get("dataset") is not None:
            _need_dict(path, "protocol.dataset", res["protocol"]["dataset"])
    return res


def check_summary(data: dict, path: Path) -> dict:
    """A summary as the gate and compare read it; a one-line error naming the key if not."""
    rows = data.get("rows")
    if not isinstance(rows, list):
        raise _bad(path, "rows", "missing" if rows is None else f"expected a list, got {_kind(rows)}")
    for i, row in enumerate(rows):
        _need_dict(path, f"rows[{i}]", row)
        _need_keys(path, f"rows[{i}]", row, ("dataset", "label", "metric"))
        _check_numbers(path, f"rows[{i}]", row, ("mean", "std", "noise"))
        if not isinstance(row.get("higher_is_better"), (bool, type(None))):
            raise _bad(path, f"rows[{i}].higher_is_better", f"expected true, false or null, got {_kind(row['higher_is_better'])}")
    protocols = _need_dict(path, "protocols", data.get("protocols", {}))
    for ds, proto in protocols.items():
        _need_dict(path, f"protocols.{ds}", proto)
        if proto.get("dataset") is not None:
            _need_dict(path, f"protocols.{ds}.dataset", proto["dataset"])
    _need_dict(path, "provenance", data.get("provenance", {}))
    return data


def load_run(run_dir: str | Path) -> RunResults:
    """Read the results of the jobs a run directory's manifest lists (stale ones are ignored).

    Malformed stored files (hand-edited, truncated, from another tool) are a one-line
    :class:`GenbenchError` naming the file and the key, never a traceback.
    """
    run_dir = Path(run_dir)
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise GenbenchError(f"{run_dir}: not a genbench run directory (no manifest.json); run `genbench run SUITE --out {run_dir}` first")
    manifest = _need_dict(manifest_path, "(top level)", _read_json(manifest_path, "manifest"))
    jobs = manifest.get("jobs")
    if not isinstance(jobs, list):
        raise _bad(manifest_path, "jobs", "missing" if jobs is None else f"expected a list, got {_kind(jobs)}")
    suite = _need_dict(manifest_path, "suite", manifest.get("suite"))
    results, missing, errors = [], [], {}
    for i, job in enumerate(jobs):
        _need_dict(manifest_path, f"jobs[{i}]", job)
        _need_keys(manifest_path, f"jobs[{i}]", job, ("id",))
        jdir = run_dir / "jobs" / job["id"]
        path = jdir / "result.json"
        err = jdir / "error.json"
        if err.exists():
            try:
                errors[job["id"]] = str(json.loads(err.read_text())["error"])
            except (ValueError, KeyError, TypeError, OSError):
                errors[job["id"]] = "failed (unreadable error.json)"
        try:
            res = check_result(_read_json(path, "result file"), path)
        except FileNotFoundError:
            missing.append(job)
            continue
        res["job"].setdefault("id", job["id"])
        res["_dir"] = str(jdir)
        results.append(res)
    return RunResults(run_dir=run_dir, suite=suite, results=results, missing=missing, errors=errors)


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
    identity = {
        "dataset": {"name": ds.get("name"), "sha256": ds.get("sha256"), "sizes": ds.get("sizes")},
        "extractor": extractor,
        "n": p.get("n"),
        "split": p.get("split"),
        "metrics": p.get("metrics"),
    }
    if p.get("task") is not None:  # image-to-image results: the task's protocol (and its options)
        identity["task"] = p["task"]
        identity["classifier"] = p.get("classifier")
        if p.get("sr_mode") is not None:
            identity["sr_mode"] = p["sr_mode"]
    return identity


def load_summary(path_or_run: str | Path) -> dict:
    """A summary from a run directory, a summary JSON, or a single job's result.json."""
    p = Path(path_or_run)
    if p.is_dir():
        run = load_run(p)
        if not run.results:
            raise GenbenchError(f"{p}: the run has no finished results yet")
        return summarize(run)
    try:
        data = _read_json(p, "JSON file")
    except FileNotFoundError:
        raise GenbenchError(f"{p}: no such file or run directory") from None
    fmt = data.get("format") if isinstance(data, dict) else None
    if fmt == SUMMARY_FORMAT:
        return check_summary(data, p)
    if isinstance(fmt, str) and fmt.startswith("genbench-job-result"):
        run = RunResults(run_dir=p.parent, suite={"name": data.get("suite"), "profile": data.get("profile")},
                         results=[check_result(data, p)])
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
