"""The mode-collapse table of a ``suites/toy2d-paper.yaml`` run, next to the published numbers.

    python scripts/mode_collapse_table.py RUN_DIR [RUN_DIR ...]   # markdown on stdout

Modes and % high-quality samples per (dataset, model): mean ± std over seeds (ddof 1) and the
standard error (std/√n) that PacGAN's Table 1 prints. Several run directories (e.g. one model
per run, trained side by side) are read as one run; a job (dataset/label/seed) found in more
than one counts once, from the first. When the suite scored metric curves (``evaluation.every``)
a second table gives the same numbers at each intermediate step. The published rows are typed from PacGAN
(Lin et al. 2018) Table 1 (10 runs, ± standard error) and VEEGAN (Srivastava et al. 2017) Table 1.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genbench.results import aggregate, load_run, metrics_frame  # noqa: E402

# (dataset, label) -> [(source, modes, high-quality %)]; None where the paper has no such row
PUBLISHED = {
    ("ring8", "gan"): [("PacGAN", "6.3 ± 0.5", "98.2 ± 0.2"), ("VEEGAN", "1", "99.3")],
    ("grid25", "gan"): [("PacGAN", "17.3 ± 0.8", "94.8 ± 0.7"), ("VEEGAN", "3.3", "0.5")],
    ("ring8", "pacgan2"): [("PacGAN", "7.9 ± 0.1", "95.6 ± 2.0")],
    ("grid25", "pacgan2"): [("PacGAN", "23.8 ± 0.7", "91.3 ± 0.8")],
    ("ring8", "unrolled-gan"): [("VEEGAN", "7.6", "35.6")],
    ("grid25", "unrolled-gan"): [("VEEGAN", "23.6", "16.0")],
}
LABELS = ("gan", "pacgan2", "unrolled-gan", "minibatch-gan", "real data")  # "real data": the ceiling row


def _results(run_dirs: list[str]) -> list[dict]:
    seen, out = set(), []
    for run_dir in run_dirs:
        for r in load_run(run_dir).results:
            job = (r["job"]["dataset"], r["job"]["label"], r["job"]["seed"])
            if job not in seen:
                seen.add(job)
                out.append(r)
    return out


def _curve_results(results: list[dict]) -> dict[int, list[dict]]:
    """{step: results-like dicts holding that step's metrics}, the final step included."""
    by_step: dict[int, list[dict]] = {}
    for r in results:
        curve = r.get("metric_curve") or {}
        for i, step in enumerate(curve.get("step", [])):
            metrics = [{"name": name, "value": v["value"][i], "std": None}
                       for name, v in curve.get("metrics", {}).items()]
            by_step.setdefault(int(step), []).append({"job": r["job"], "metrics": metrics})
        if curve.get("step") and r.get("steps") and int(r["steps"]) not in curve["step"]:
            by_step.setdefault(int(r["steps"]), []).append(r)  # a curve without its final point
    return dict(sorted(by_step.items()))


def rows(run_dirs: list[str] | str, results: list[dict] | None = None) -> list[dict]:
    if results is None:
        results = _results([run_dirs] if isinstance(run_dirs, str) else run_dirs)
    agg = aggregate(metrics_frame(results))
    out = []
    for dataset in ("ring8", "grid25"):
        for label in LABELS:
            sel = agg[(agg.dataset == dataset) & (agg.label == label)].set_index("metric")
            if sel.empty or "modes" not in sel.index:
                continue
            m, h = sel.loc["modes"], sel.loc["high_quality"]
            n = int(m["n_seeds"])
            out.append({"dataset": dataset, "label": label, "n": n,
                        "modes": (m["mean"], m["seed_std"]), "hq": (100 * h["mean"], 100 * h["seed_std"]),
                        "modes_se": m["seed_std"] / math.sqrt(n), "hq_se": 100 * h["seed_std"] / math.sqrt(n)})
    return out


def markdown(run_dirs: list[str] | str) -> str:
    results = _results([run_dirs] if isinstance(run_dirs, str) else run_dirs)
    lines = ["| dataset | model | modes (ours) | % HQ (ours) | seeds | published modes | published % HQ |",
             "|---|---|---|---|---|---|---|"]
    for r in rows([], results):
        pub = PUBLISHED.get((r["dataset"], r["label"]), [])
        pm = "; ".join(f"{m} ({s})" for s, m, _ in pub) or "—"
        ph = "; ".join(f"{h} ({s})" for s, _, h in pub) or "—"
        lines.append(f"| {r['dataset']} | {r['label']} | {r['modes'][0]:.1f} ± {r['modes'][1]:.1f} "
                     f"(se {r['modes_se']:.1f}) | {r['hq'][0]:.1f} ± {r['hq'][1]:.1f} (se {r['hq_se']:.1f}) "
                     f"| {r['n']} | {pm} | {ph} |")
    curve = _curve_results(results)
    if curve:
        lines += ["", "| step | dataset | model | modes | % HQ | seeds |", "|---|---|---|---|---|---|"]
        for step, step_results in curve.items():
            for r in rows([], step_results):
                lines.append(f"| {step} | {r['dataset']} | {r['label']} | {r['modes'][0]:.1f} ± {r['modes'][1]:.1f} "
                             f"| {r['hq'][0]:.1f} ± {r['hq'][1]:.1f} | {r['n']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    print(markdown(p.parse_args(argv).run_dirs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
