"""The leaderboard in a real headless browser (Debian's chromium): it loads from disk with no
console errors and no network, clicking a header sorts the table, and the images render."""

import os

import pytest

from headless_chromium import Browser, find_chromium
from memo_backend import MemoBackend
from suite_fakes import SUITE_YAML
from genbench.report import render_report
from genbench.runner import Runner
from genbench.suite import parse_suite

CHROMIUM = find_chromium()
if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI=true but chromium is not installed: .ci/run must apt-get install chromium "
                           "(the leaderboard browser test cannot be skipped in CI)")
    pytest.skip("chromium not installed (apt-get install chromium); leaderboard browser test skipped",
                allow_module_level=True)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def leaderboard(tmp_path_factory):
    from genbench.suite import Registries
    from suite_fakes import FAKE_REGISTRIES_KW

    tmp = tmp_path_factory.mktemp("lb")
    reg = Registries(**FAKE_REGISTRIES_KW)
    # Two datasets (images and 2-D points) so both the grids and the scatter plots are exercised.
    text = SUITE_YAML.replace("dataset: digits", "datasets: [digits, toy]").replace(
        "  - model: fake-ae\n", "").replace("[fid, is, psnr, ssim]", "[fid, is, memorized]").replace("  n_reconstruct: 20\n", "  n_reconstruct: 20\n  every: 5\n").replace("seeds: [0, 1]\n", "seeds: [0]\n")
    suite = parse_suite(text, str(tmp / "s.yaml"), registries=reg)
    Runner(suite, tmp / "run", backend=MemoBackend(), progress=False, echo=lambda s: None).run()
    html = render_report(tmp / "run", tmp / "report")
    browser = Browser(CHROMIUM, str(tmp / "profile"))
    try:
        page = browser.open(html.resolve().as_uri())
        yield page
    finally:
        browser.close()


def _order(page, dataset):
    return page.eval(f"""Array.from(document.querySelectorAll('table.leaderboard[data-dataset="{dataset}"] tbody tr'))
                         .map(r => r.getAttribute('data-label'))""")


def _values(page, dataset, metric):
    return page.eval(f"""(() => {{
        const t = document.querySelector('table[data-dataset="{dataset}"]');
        const col = Array.from(t.tHead.rows[0].cells).findIndex(th => th.dataset.metric === '{metric}');
        return Array.from(t.tBodies[0].rows).map(r => parseFloat(r.cells[col].dataset.value));
    }})()""")


def _click(page, dataset, metric):
    page.eval(f"""document.querySelector('table[data-dataset="{dataset}"] th[data-metric="{metric}"]').click()""")


def test_loads_without_console_errors_or_network(leaderboard):
    assert leaderboard.problems() == []
    assert leaderboard.eval("performance.getEntriesByType('resource').filter(e => !e.name.startsWith('data:')).length") == 0
    assert leaderboard.eval("document.title").startswith("genbench · fake")


def test_images_render(leaderboard):
    sizes = leaderboard.eval("Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    assert len(sizes) == 6  # good-gan, bad-gan, real data on the image dataset: samples and neighbours
    assert all(c and w > 0 and h > 0 for c, w, h in sizes), sizes
    # the toy dataset gets scatter plots with one cross per mode centre, and training curves
    n_scatter = leaderboard.eval("document.querySelectorAll('#ds-toy svg.scatter').length")
    crosses = leaderboard.eval("document.querySelector('#ds-toy svg.scatter g[stroke]').children.length")
    dots = leaderboard.eval("document.querySelector('#ds-toy svg.scatter path.samples').getTotalLength() >= 0")
    assert n_scatter == 3 and crosses == 4 and dots
    assert leaderboard.eval("document.querySelectorAll('svg.curves polyline').length") >= 4


def test_clicking_headers_sorts_the_table(leaderboard):
    # Initially ranked by fid, lower is better: the real-data ceiling first.
    fid = _values(leaderboard, "digits", "fid")
    assert fid == sorted(fid) and _order(leaderboard, "digits")[0] == "real data"
    _click(leaderboard, "digits", "is")  # higher is better: first click puts the best first
    is_ = _values(leaderboard, "digits", "is")
    assert is_ == sorted(is_, reverse=True) and len(set(is_)) == 3
    assert leaderboard.eval("document.querySelector('table[data-dataset=\"digits\"] th[data-metric=\"is\"]').getAttribute('aria-sort')") == "descending"
    _click(leaderboard, "digits", "is")  # second click reverses
    assert _values(leaderboard, "digits", "is") == sorted(is_)
    _click(leaderboard, "digits", "fid")
    assert _order(leaderboard, "digits") == ["real data", "good-gan", "bad-gan"]
    assert _order(leaderboard, "toy") == ["real data", "good-gan", "bad-gan"]  # other table untouched
    assert leaderboard.problems() == []


def _box(page, selector):
    """Width and height of the first element matching ``selector`` as laid out (0, 0 if absent)."""
    return page.eval(f"""(() => {{ const e = document.querySelector({selector!r});
        if (!e) return [0, 0]; const r = e.getBoundingClientRect(); return [r.width, r.height]; }})()""")


def test_significance_matrix_and_rank_intervals_render(leaderboard):
    w, h = _box(leaderboard, 'table.significance[data-dataset="digits"]')
    assert w > 50 and h > 20
    verdicts = leaderboard.eval("""Array.from(document.querySelectorAll('table.significance[data-dataset="digits"] td[data-verdict]'))
                                   .map(td => [td.parentElement.dataset.label, td.dataset.verdict, td.textContent.trim(),
                                               getComputedStyle(td).backgroundColor])""")
    # one seed, fid with its own spread: good-gan (quality 0.95) beats bad-gan (0.1) far beyond noise
    by_row = {row: (v, text, bg) for row, v, text, bg in verdicts}
    assert by_row["good-gan"][0] == "better" and by_row["good-gan"][1].startswith("-") and by_row["good-gan"][1].endswith("*")
    assert by_row["bad-gan"][0] == "worse" and by_row["good-gan"][2] != by_row["bad-gan"][2]  # coloured differently
    ranks = leaderboard.eval("""Array.from(document.querySelectorAll('table[data-dataset="digits"].leaderboard tbody tr'))
                                .map(r => [r.dataset.label, r.querySelector('td.rank-interval').textContent.trim()])""")
    assert dict(ranks) == {"real data": "–", "good-gan": "1", "bad-gan": "2"}


def test_memorization_panel_renders(leaderboard):
    cards = leaderboard.eval("""Array.from(document.querySelectorAll('#ds-digits .card.memo')).map(c => [c.dataset.label,
        c.querySelector('b').textContent, (c.querySelector('img.neighbours') || {}).naturalWidth || 0,
        (c.querySelector('img.neighbours') || {}).naturalHeight || 0, c.getBoundingClientRect().height])""")
    by = {label: (text, w, h, box) for label, text, w, h, box in cards}
    assert set(by) == {"real data", "good-gan", "bad-gan"}
    # the real-data row is drawn from the training split: every sample is a copy
    assert by["real data"][0] == "1"
    # 6 examples × (sample + 3 neighbours) of 8×8 with 2-px padding, drawn at scale 1
    assert all(w == 4 * 10 + 2 and h == 6 * 10 + 2 and box > 50 for _, w, h, box in by.values()), by
    assert float(by["bad-gan"][0].split(" ")[0]) < 0.5  # noisy samples are far from every training digit
    n_toy = leaderboard.eval("document.querySelectorAll('#ds-toy .card.memo').length")
    assert n_toy == 3  # 2-D data: the statistic without pictures


def test_metric_curves_render(leaderboard):
    charts = leaderboard.eval("""Array.from(document.querySelectorAll('.metric-curves[data-dataset="digits"] svg.metric-curve'))
        .map(svg => [svg.getAttribute('aria-label'), svg.querySelectorAll('polyline.line').length,
                     svg.querySelectorAll('circle').length, svg.getBoundingClientRect().width,
                     Array.from(svg.querySelectorAll('polyline.line')).map(l => l.getTotalLength())])""")
    assert [c[0] for c in charts] == ["fid vs step", "fid vs training wall time"]
    # two models × 4 scored steps (5, 10, 15 and the final 20), each line actually drawn
    assert all(n_lines == 2 and n_dots == 8 and w > 100 and min(lengths) > 10 for _, n_lines, n_dots, w, lengths in charts)
    best = leaderboard.eval("""Array.from(document.querySelectorAll('.metric-curves[data-dataset="digits"] table.best-step tbody tr'))
        .map(r => Array.from(r.cells).map(c => c.textContent.trim()))""")
    assert [r[0] for r in best] == ["good-gan", "bad-gan"] and all(r[1].endswith("@20") for r in best)
    assert leaderboard.problems() == []


def test_compare_page_renders(tmp_path):
    from suite_fakes import FAKE_REGISTRIES_KW, FakeBackend
    from genbench.report.compare import render_compare
    from genbench.suite import Registries

    reg = Registries(**FAKE_REGISTRIES_KW)
    for name, text in (("a", SUITE_YAML), ("b", SUITE_YAML.replace("{quality: 0.1}", "{quality: 0.6}"))):
        Runner(parse_suite(text, f"{name}.yaml", registries=reg), tmp_path / name, backend=FakeBackend(),
               progress=False, echo=lambda s: None).run()
    page_path = render_compare(str(tmp_path / "a"), str(tmp_path / "b"), tmp_path / "cmp.html")
    browser = Browser(CHROMIUM, str(tmp_path / "profile"))
    try:
        page = browser.open(page_path.resolve().as_uri())
        assert page.problems() == []
        colour = page.eval("""getComputedStyle(document.querySelector('tr[data-label="bad-gan"][data-metric="fid"] td.delta')).backgroundColor""")
        grey = page.eval("""getComputedStyle(document.querySelector('tr[data-label="good-gan"][data-metric="fid"] td.delta')).backgroundColor""")
        assert colour == "rgb(212, 237, 218)" and grey != colour  # green: better beyond noise
        imgs = page.eval("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
        assert len(imgs) == 2 and all(c and w > 0 for c, w in imgs)
    finally:
        browser.close()
