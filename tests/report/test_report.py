"""The HTML leaderboard file itself: self-contained, ranked, with the real-data row and figures."""

import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from suite_fakes import SUITE_YAML, FakeBackend
from genbench.formatting import value_std as fmt_value
from genbench.report import render_report
from genbench.report.figures import image_grid_png, scatter_svg
from genbench.runner import Runner
from genbench.suite import parse_suite


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    from genbench.suite import Registries
    from suite_fakes import FAKE_REGISTRIES_KW

    tmp = tmp_path_factory.mktemp("rep")
    suite = parse_suite(SUITE_YAML, str(tmp / "s.yaml"), registries=Registries(**FAKE_REGISTRIES_KW))
    Runner(suite, tmp / "run", backend=FakeBackend(dataset_warnings=("fell back (fake)",)), progress=False,
           echo=lambda s: None).run()
    html_path = render_report(tmp / "run", tmp / "out")
    return html_path.read_text(), json.loads((tmp / "out/summary.json").read_text())


def test_html_is_self_contained(rendered):
    html, _ = rendered
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "external resource referenced"
    assert "@import" not in html and "<link" not in html
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert len(srcs) == 4 and all(s.startswith("data:image/png;base64,") for s in srcs)
    img = Image.open(io.BytesIO(base64.b64decode(srcs[0].split(",", 1)[1])))
    assert img.size[0] > 0 and img.mode == "L"


def test_table_ranked_with_real_row_directions_and_warning(rendered):
    html, summary = rendered
    labels = re.findall(r'<tr class="(?:real|model)" data-label="([^"]+)"', html)
    fid = {r["label"]: r["mean"] for r in summary["rows"] if r["metric"] == "fid"}
    assert labels == sorted(fid, key=fid.get)  # ranked by fid, lower first
    assert labels[0] == "real data"
    assert 'data-metric="fid" data-better="lower"' in html and 'data-metric="is" data-better="higher"' in html
    assert "fell back (fake)" in html  # the dataset warning is shown, not buried
    assert "Protocol" in html and "fake-extractor" in html


def test_summary_has_protocol_and_noise(rendered):
    _, summary = rendered
    assert summary["format"] == "genbench-summary/1" and summary["suite"] == "fake"
    proto = summary["protocols"]["digits"]
    assert proto["n"] == 50 and proto["extractor"]["name"] == "fake-extractor" and len(proto["dataset"]["sha256"]) == 64
    row = next(r for r in summary["rows"] if r["label"] == "good-gan" and r["metric"] == "fid")
    assert row["n_seeds"] == 2 and row["noise"] == row["std"] and row["higher_is_better"] is False


def test_image_grid_layout():
    imgs = np.zeros((5, 3, 4, 6), np.uint8)
    imgs[:, 0] = 255  # red
    png = Image.open(io.BytesIO(image_grid_png(imgs, scale=1, pad=2)))
    # 5 images → 3 columns × 2 rows of 6×4 with 2-px gaps
    assert png.size == (3 * 8 + 2, 2 * 6 + 2) and png.mode == "RGB"
    assert png.getpixel((2, 2)) == (255, 0, 0) and png.getpixel((0, 0)) == (255, 255, 255)
    with pytest.raises(ValueError, match="uint8 N×C×H×W"):
        image_grid_png(np.zeros((2, 8, 8), np.uint8))


def test_scatter_counts_points_outside_the_frame():
    means = np.array([[0.0, 0.0], [1.0, 1.0]])
    svg = scatter_svg(np.array([[0.5, 0.5], [100.0, 0.0]]), means)
    assert svg.count("h0") == 1 and "1 of 2 points outside the frame" in svg and svg.count("<path") == 3


def test_value_formatting():
    assert fmt_value(12.3456, 0.5) == "12.35 ± 0.50"
    assert fmt_value(None, None) == "–" and fmt_value(3.0, None) == "3"
    assert fmt_value(0.0001234, 0.0) == "1.23e-04"
    assert fmt_value(3.763, 1.58e-15) == "3.763" and fmt_value(1.0, 5.95e-8) == "1"  # float-noise spread is not shown as uncertainty


def test_report_and_compare_commands_on_run_directories(tmp_path, capsys):
    from genbench.cli import main
    from genbench.suite import Registries
    from suite_fakes import FAKE_REGISTRIES_KW

    reg = Registries(**FAKE_REGISTRIES_KW)
    for name, text in (("a", SUITE_YAML), ("b", SUITE_YAML.replace("{quality: 0.1}", "{quality: 0.6}"))):
        suite = parse_suite(text, f"{name}.yaml", registries=reg)
        Runner(suite, tmp_path / name, backend=FakeBackend(), progress=False, echo=lambda s: None).run()
    assert main(["report", str(tmp_path / "a"), "--out", str(tmp_path / "rep")]) == 0
    assert f"leaderboard: {(tmp_path / 'rep/index.html').resolve()}" in capsys.readouterr().out
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    lines = {tuple(line.split()[:3]): line for line in out.splitlines() if line.startswith("digits")}
    assert lines[("digits", "bad-gan", "fid")].rstrip().endswith("better")  # quality 0.1 → 0.6 lowers fid
    assert lines[("digits", "good-gan", "fid")].rstrip().endswith("within noise")  # unchanged model
    with pytest.raises(SystemExit):
        main(["report"])
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "not a genbench run directory" in capsys.readouterr().err


def test_ties_are_all_best_and_broken_by_the_next_column():
    from genbench.report import _table

    def res(label, modes, hq):
        return {"job": {"dataset": "ring8", "label": label, "model": label, "seed": 0},
                "metrics": [{"name": "modes", "value": modes, "std": None}, {"name": "high_quality", "value": hq, "std": None}]}

    results = [res("gan", 8, 0.3), res("minibatch-gan", 8, 0.15), res("real data", 8, 0.98), res("unrolled-gan", 1, 0.0)]
    table = _table(results, "ring8", ["modes", "high_quality"], "modes")
    assert [r["label"] for r in table["rows"]] == ["real data", "gan", "minibatch-gan", "unrolled-gan"]
    best = {r["label"]: r["cells"]["modes"]["best"] for r in table["rows"]}
    assert best == {"real data": False, "gan": True, "minibatch-gan": True, "unrolled-gan": False}
