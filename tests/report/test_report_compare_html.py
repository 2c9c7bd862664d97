"""``genbench compare A B --html``: one self-contained page, deltas coloured by the gate's rule,
the changed models' samples side by side."""

import re

from suite_fakes import FAKE_REGISTRIES_KW, SUITE_YAML, FakeBackend
from genbench.cli import main
from genbench.runner import Runner
from genbench.suite import Registries, parse_suite


def _runs(tmp_path):
    reg = Registries(**FAKE_REGISTRIES_KW)
    for name, text in (("a", SUITE_YAML), ("b", SUITE_YAML.replace("{quality: 0.1}", "{quality: 0.6}"))):
        Runner(parse_suite(text, f"{name}.yaml", registries=reg), tmp_path / name, backend=FakeBackend(),
               progress=False, echo=lambda s: None).run()


def test_compare_html_colours_deltas_and_pairs_changed_samples(tmp_path, capsys):
    _runs(tmp_path)
    out = tmp_path / "cmp.html"
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--html", str(out)]) == 0
    assert f"compare page: {out.resolve()}" in capsys.readouterr().out
    html = out.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    verdicts = dict(((l, m), v) for l, m, v in re.findall(
        r'data-label="([^"]+)" data-metric="([^"]+)" data-verdict="([^"]+)"', html))
    # quality 0.1 → 0.6 lowers bad-gan's fid far beyond its 1 % noise; good-gan is the same model
    assert verdicts[("bad-gan", "fid")] == "better" and verdicts[("good-gan", "fid")] == "within noise"
    assert re.search(r'<tr class="better" data-dataset="digits" data-label="bad-gan" data-metric="fid"', html)
    # only the changed model's samples are paired: A and B grids side by side
    pairs = re.findall(r'<div class="pair" data-label="([^"]+)"', html)
    assert pairs == ["bad-gan"]
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) == 2


def test_compare_html_from_summary_files_has_no_samples(tmp_path):
    from genbench.report import render_report

    _runs(tmp_path)
    render_report(tmp_path / "a", tmp_path / "ra")
    out = tmp_path / "cmp.html"
    assert main(["compare", str(tmp_path / "ra/summary.json"), str(tmp_path / "b"), "--html", str(out)]) == 0
    html = out.read_text()
    assert 'data-verdict="better"' in html and '<p class="muted">no samples</p>' in html  # A is a summary
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--html", str(tmp_path / "ra/summary.json/x.html")]) == 2  # a file is in the way
