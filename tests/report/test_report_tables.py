"""The leaderboard as Markdown, CSV and booktabs LaTeX; the pairwise significance matrix and rank
intervals, checked against hand-computed tests."""

import csv
import io
import json
import math
import re

import pytest

from suite_fakes import FAKE_REGISTRIES_KW, SUITE_YAML, FakeBackend
from genbench.report import _table, pairwise, write_table
from genbench.report.tables import _latex_number, latex_escape, to_latex
from genbench.runner import Runner
from genbench.suite import Registries, parse_suite


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tables")
    suite = parse_suite(SUITE_YAML, str(tmp / "s.yaml"), registries=Registries(**FAKE_REGISTRIES_KW))
    Runner(suite, tmp / "run", backend=FakeBackend(), progress=False, echo=lambda s: None).run()
    return tmp / "run"


def _full(run_dir, tmp_path):
    from genbench.report import render_report

    render_report(run_dir, tmp_path)
    return {(r["label"], r["metric"]): r for r in json.loads((tmp_path / "summary.json").read_text())["rows"]}


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def test_csv_rounds_to_the_uncertainty_and_json_keeps_full_precision(run_dir, tmp_path):
    full = _full(run_dir, tmp_path)
    rows = list(csv.DictReader(io.StringIO(write_table(run_dir, tmp_path, "csv").read_text())))
    assert [r["model"] for r in rows] == ["real data", "good-gan", "fake-ae", "bad-gan"]  # ranked by fid
    for r in rows:
        for metric in ("fid", "is"):
            f = full[(r["model"], metric)]
            std_text = r[f"{metric}_std"]
            # two significant figures of the ±: strip leading zeros and the point, two digits remain
            assert len(std_text.replace(".", "").lstrip("0")) == 2, std_text
            assert _decimals(r[metric]) == _decimals(std_text)  # the value to the same decimal
            unit = 10.0 ** -_decimals(std_text) if "." in std_text else 10.0 ** (len(std_text) - 2)
            assert abs(float(r[metric]) - f["mean"]) <= unit / 2 + 1e-12  # correctly rounded
            assert abs(float(std_text) - f["std"]) <= unit / 2 + 1e-12
            assert f["mean"] != float(r[metric])  # summary.json is not rounded
    assert {r["model"]: (r["rank_best"], r["rank_worst"]) for r in rows}["good-gan"] == ("1", "1")


def test_markdown_table(run_dir, tmp_path):
    md = write_table(run_dir, tmp_path, "md").read_text()
    lines = [l for l in md.splitlines() if l.startswith("|")]
    assert lines[0] == "| model | rank | fid ↓ | is ↑ | psnr ↑ | ssim ↑ |"
    assert all(l.count("|") == 7 for l in lines)
    good = next(l for l in lines if l.startswith("| good-gan"))
    assert re.search(r"\| \*\*123\.40\d ± 0\.016\*\* \|", good)  # best fid in bold


def _latex_rows(tex: str) -> tuple[str, list[str]]:
    body = tex.split(r"\begin{tabular}", 1)[1]
    spec = re.match(r"\{(.*?)\}\n", body).group(1)
    rows = [l for l in body.splitlines() if l.endswith(r"\\")]
    return spec, rows


def test_latex_is_a_well_formed_booktabs_table(run_dir, tmp_path):
    tex = write_table(run_dir, tmp_path, "latex").read_text()
    for env in ("table", "tabular"):
        assert tex.count(rf"\begin{{{env}}}") == tex.count(rf"\end{{{env}}}") == 1
    assert tex.index(r"\toprule") < tex.index(r"\midrule") < tex.index(r"\bottomrule") < tex.index(r"\end{tabular}")
    # braces balance (escaped ones aside) and math mode opens and closes on every line
    plain = tex.replace(r"\{", "").replace(r"\}", "")
    assert plain.count("{") == plain.count("}")
    spec, rows = _latex_rows(tex)
    n_cols = len(re.sub(r"@\{.*?\}", "", spec))  # l, c, r letters; @{...} separators are not columns
    assert spec == "lc" + r"r@{\,}l" * 4 and n_cols == 10
    header, *body = rows
    # \multicolumn{2} headers count twice
    assert header.count("&") + header.count(r"\multicolumn{2}") == n_cols - 1
    assert all(r.count("&") == n_cols - 1 and r.count("$") % 2 == 0 for r in body)
    cells = {r.split(" & ")[0]: r.split(" & ") for r in body}
    assert cells["good-gan"][2].startswith(r"\textbf{123.40") and cells["good-gan"][3] == r"$\pm$\,0.016"
    assert cells["fake-ae"][6] == r"\textbf{30}" and cells["fake-ae"][7] == ""  # no spread: no ±
    assert cells["bad-gan"][1] == "3" and "textbf" not in cells["bad-gan"][2]
    assert r"\usepackage{booktabs}" in tex


def test_latex_escapes_labels_and_writes_exponents_in_math():
    assert latex_escape("gan_50%&#") == r"gan\_50\%\&\#"
    row = {"label": "my_gan", "real": False, "rank": None,
           "cells": {"kid": {"mean": 1.2e-4, "best": True, "mean_text": "1.234e-04", "std_text": "0.056e-04"}}}
    tex = to_latex([{"dataset": "d_1", "table": {"columns": [{"name": "kid", "direction": False}], "rows": [row],
                                                "significance": None}}])
    assert r"my\_gan & \textbf{$1.234\times10^{-4}$} & $\pm$\,$0.056\times10^{-4}$ \\" in tex
    assert r"\label{tab:d1}" in tex and _latex_number("-0.030") == "$-$0.030" and _latex_number("–") == "--" and r"\caption{d\_1:" in tex


def _cell(mean, std):
    return {"mean": mean, "std": std}


def test_pairwise_matrix_and_rank_intervals_by_hand():
    # lower is better. a=10±1, b=12±1, c=13±0.5, d=30±0 (one seed, no metric std).
    rows = [{"label": l, "real": l == "real data", "cells": {"fid": _cell(m, s)}}
            for l, m, s in [("real data", 1.0, 0.1), ("a", 10.0, 1.0), ("b", 12.0, 1.0), ("c", 13.0, 0.5), ("d", 30.0, 0.0)]]
    sig = pairwise("ds", rows, "fid", False)
    assert sig["labels"] == ["a", "b", "c", "d"]  # the real-data ceiling is not a contender
    m = sig["matrix"]
    # a vs b: Δ = -2, σ_Δ = √2 = 1.414, |Δ| = 2 < 2.83: within noise
    assert m["a"]["b"]["delta"] == -2.0 and math.isclose(m["a"]["b"]["sigma"], math.sqrt(2))
    assert m["a"]["b"]["verdict"] == "within noise" and not m["a"]["b"]["significant"]
    # a vs c: Δ = -3, σ_Δ = √1.25 = 1.118, 2σ = 2.24 < 3: a significantly better
    assert m["a"]["c"]["verdict"] == "better" and m["c"]["a"]["verdict"] == "worse" and m["a"]["c"]["significant"]
    # b vs c: Δ = -1, σ_Δ = 1.118: within noise
    assert m["b"]["c"]["verdict"] == "within noise"
    # everyone vs d: Δ ≤ -17, σ_Δ ≤ 1: significant
    assert all(m[x]["d"]["verdict"] == "better" for x in "abc")
    assert m["a"]["b"]["text"] == "-2.0" and m["b"]["a"]["text"] == "+2.0"  # rounded to σ_Δ = 1.4
    # rank intervals: best = 1 + #significantly better, worst = N − #significantly worse
    assert sig["ranks"] == {"a": {"lo": 1, "hi": 2}, "b": {"lo": 1, "hi": 3}, "c": {"lo": 2, "hi": 3},
                            "d": {"lo": 4, "hi": 4}}


def test_pairwise_without_any_noise_makes_no_claim():
    rows = [{"label": l, "real": False, "cells": {"modes": _cell(v, None)}} for l, v in [("x", 8.0), ("y", 7.0)]]
    sig = pairwise("ring", rows, "modes", True)
    assert sig["matrix"]["x"]["y"]["verdict"] == "no noise estimate" and not sig["matrix"]["x"]["y"]["significant"]
    assert sig["ranks"] == {"x": {"lo": 1, "hi": 2}, "y": {"lo": 1, "hi": 2}}


def test_table_carries_rank_intervals(run_dir):
    from genbench.results import load_run

    run = load_run(run_dir)
    t = _table(run.results, "digits", ["fid", "is"], "fid")
    assert t["rank_by"] == "fid" and t["significance"]["labels"] == ["good-gan", "fake-ae", "bad-gan"]
    assert [r.get("rank") for r in t["rows"]] == [None, {"lo": 1, "hi": 1}, {"lo": 2, "hi": 2}, {"lo": 3, "hi": 3}]


def test_report_command_formats(run_dir, tmp_path, capsys):
    from genbench.cli import main

    assert main(["report", str(run_dir), "--out", str(tmp_path), "--format", "latex", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "leaderboard (latex):" in out and (tmp_path / "leaderboard.tex").is_file()
    assert (tmp_path / "leaderboard.csv").is_file() and not (tmp_path / "index.html").exists()
    with pytest.raises(SystemExit):
        main(["report", str(run_dir), "--format", "pdf"])


def test_metric_curves_mean_band_and_best_step_by_hand():
    from genbench.report import _metric_curves

    def res(seed, fids, walls):
        return {"job": {"dataset": "d", "label": "m", "seed": seed},
                "metric_curve": {"step": [10, 20, 30], "train_wall_s": walls,
                                 "metrics": {"fid": {"value": fids, "std": [0.1, 0.1, 0.1]}}}}

    # two seeds: fid 5/7 at step 10, 2/4 at 20 (the best), 3/5 at 30 (final)
    mc = _metric_curves([res(0, [5.0, 2.0, 3.0], [1.0, 2.0, 3.0]), res(1, [7.0, 4.0, 5.0], [3.0, 4.0, 5.0])], "d", "fid")
    (row,) = mc["rows"]
    sd = math.sqrt(2.0)  # sample std of two values 2 apart
    assert row["best_step"] == 20 and row["final_step"] == 30
    assert row["best"] == f"3.0 ± {sd:.1f}" and row["final"] == f"4.0 ± {sd:.1f}"
    # band: mean ± seed std drawn as a polygon; wall axis runs from the mean walls 2 to 4
    assert mc["by_step"].count("<polygon") == 1 and ">2</text>" in mc["by_wall"] and ">4</text>" in mc["by_wall"]
    assert _metric_curves([{"job": {"dataset": "d", "label": "m", "seed": 0}}], "d", "fid") is None


def test_page_json_dump_leaves_out_the_memorisation_pixels():
    from genbench.report import _without_pictures

    pic = {"shape": [1, 1, 2, 2], "uint8_base64": "AAAAAA=="}
    r = {"metrics": [{"name": "memorized", "params": {"examples": [{"sample": 0, "images": pic}]}}],
         "protocol": {"metric_params": {"memorized": {"examples": [{"images": pic, "train": [3]}]}}}}
    out = _without_pictures(r)
    assert "uint8_base64" not in json.dumps(out) and out["protocol"]["metric_params"]["memorized"]["examples"][0]["train"] == [3]
    assert r["metrics"][0]["params"]["examples"][0]["images"] is pic  # the result itself is untouched
