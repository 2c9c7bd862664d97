"""End to end with the real baselines and evaluation core: a tiny toy2d suite through the CLI."""

import json

import pytest

from genbench.cli import main

pytestmark = pytest.mark.slow

TINY = """\
name: tiny-toy
datasets: [ring8]
seeds: [0]
steps: 5
models:
  - gan
evaluation:
  n: 200
  metrics: [modes]
"""


def test_tiny_toy_suite_runs_caches_and_gates(tmp_path, capsys):
    suite = tmp_path / "tiny.yaml"
    suite.write_text(TINY)
    run_dir, report_dir = tmp_path / "run", tmp_path / "report"
    argv = ["run", str(suite), "--device", "cpu", "--out", str(run_dir), "--report-dir", str(report_dir),
            "--cache-dir", str(tmp_path / "cache")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "2/2 jobs finished" in out and f"leaderboard: {(report_dir / 'index.html').resolve()}" in out

    gan = json.loads((run_dir / "jobs/ring8/gan/seed0/result.json").read_text())
    names = {m["name"] for m in gan["metrics"]}
    assert {"modes", "high_quality", "mode_kl"} <= names
    assert gan["protocol"]["dataset"]["name"] == "ring8" and gan["protocol"]["n_generated"] == 200
    assert gan["curves"]["step"][-1] == 5 and gan["steps"] == 5
    real = json.loads((run_dir / "jobs/ring8/real/seed0/result.json").read_text())
    real_modes = next(m for m in real["metrics"] if m["name"] == "modes")["value"]
    assert real_modes == 8  # 200 real ring8 samples cover all 8 modes
    html = (report_dir / "index.html").read_text()
    assert "real data" in html and "<svg" in html and 'data-metric="modes"' in html

    assert main(argv) == 0  # nothing changed: every job comes from the cache
    assert "[cached] ring8/gan/seed0" in capsys.readouterr().out

    summary = report_dir / "summary.json"
    assert main(["gate", "--baseline", str(summary), "--current", str(run_dir)]) == 0
