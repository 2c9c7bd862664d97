"""The mode-collapse table of a ``suites/toy2d-paper.yaml`` run, next to the published numbers.

    python scripts/mode_collapse_table.py /tmp/h8run            # markdown on stdout

Modes and % high-quality samples per (dataset, model): mean ± std over seeds (ddof 1) and the
standard error (std/√n) that PacGAN's Table 1 prints. The published rows are typed from PacGAN
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
LABELS = ("gan", "pacgan2", "unrolled-gan", "minibatch-gan")


def rows(run_dir: str) -> list[dict]:
    run = load_run(run_dir)
    agg = aggregate(metrics_frame(run.results))
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


def markdown(run_dir: str) -> str:
    lines = ["| dataset | model | modes (ours) | % HQ (ours) | seeds | published modes | published % HQ |",
             "|---|---|---|---|---|---|---|"]
    for r in rows(run_dir):
        pub = PUBLISHED.get((r["dataset"], r["label"]), [])
        pm = "; ".join(f"{m} ({s})" for s, m, _ in pub) or "—"
        ph = "; ".join(f"{h} ({s})" for s, _, h in pub) or "—"
        lines.append(f"| {r['dataset']} | {r['label']} | {r['modes'][0]:.1f} ± {r['modes'][1]:.1f} "
                     f"(se {r['modes_se']:.1f}) | {r['hq'][0]:.1f} ± {r['hq'][1]:.1f} (se {r['hq_se']:.1f}) "
                     f"| {r['n']} | {pm} | {ph} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dir")
    print(markdown(p.parse_args(argv).run_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
