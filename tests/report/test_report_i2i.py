"""The leaderboard of an image-to-image run: input | output | target rows, the task, the arrows."""

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from i2i_fakes import DATASETS, run, suite
from genbench.report import render_report, write_table
from genbench.report.translations import comparison_png, region


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("i2i-report")
    summary, _ = run(tmp, suite(tmp, "[fake-edges, fake-unpaired]", extra="  - broken\n"))
    assert summary.ok, [o.error for o in summary.failed]
    return render_report(tmp / "run", tmp / "out").read_text(), tmp


def _figure(html, label):
    m = re.search(r'<div class="card i2i" data-label="' + re.escape(label) + r'">.*?<img src="data:image/png;base64,([^"]+)"',
                  html, re.S)
    return Image.open(io.BytesIO(base64.b64decode(m.group(1))))


def test_report_shows_input_output_target_rows_per_model(html):
    page, _ = html
    assert "<h3>input | output | target</h3>" in page  # fake-edges (paired)
    assert "<h3>input A | A → B | A → B → A</h3>" in page  # fake-unpaired, the model has an inverse
    assert page.count('class="card i2i"') == 4  # two models on two datasets
    img = _figure(page, "oracle")
    # 4 example rows × 3 columns of 28×28 digits zoomed ×5 (140 px), 3-px gaps
    assert img.size == (3 * 143 + 3, 4 * 143 + 3)
    # row 0: input (the inverted digit), output (= target, the oracle is exact), target
    edges = DATASETS["fake-edges"].split("test")
    grid = np.asarray(img)
    cell = lambda r, c: grid[3 + r * 143:3 + r * 143 + 140:5, 3 + c * 143:3 + c * 143 + 140:5]  # noqa: E731
    np.testing.assert_array_equal(cell(0, 0), edges.inputs[0, 0])
    np.testing.assert_array_equal(cell(0, 1), edges.samples[0, 0])
    np.testing.assert_array_equal(cell(0, 2), edges.samples[0, 0])


def test_report_states_the_task_protocol_and_directions(html):
    page, tmp = html
    assert "Image-to-image task: <b>translation</b>" in page and "task classifier mnist-classifier" in page
    assert "Real-data row: none for image-to-image tasks" in page
    assert 'data-metric="l1" data-better="lower"' in page and 'data-metric="task_accuracy" data-better="higher"' in page
    assert 'data-metric="source_only_accuracy" data-better=""' in page
    assert "Not scored: <code>hole</code>" in page  # the edges task has no hole, and says so
    md = write_table(tmp / "run", tmp / "out", "md").read_text()
    assert "l1 ↓" in md and "cycle_psnr ↑" in md
    # the oracle's outputs equal their targets: PSNR +∞ (stored as null), shown and ranked as such
    assert "| oracle | 1 | **∞** |" in md
    assert r"\textbf{$\infty$}" in write_table(tmp / "run", tmp / "out", "latex").read_text()
    assert 'data-value="Infinity"' in page


def test_sr_crop_is_a_fixed_centre_region_zoomed_by_nearest_neighbour():
    assert region(28, 28) == (0, 0, 28) and region(200, 120) == (76, 36, 48)
    lr = np.arange(2 * 100 * 60, dtype=np.uint8).reshape(2, 1, 100, 60)  # ×2 SR: input 100×60, output 200×120
    hr = np.zeros((2, 1, 200, 120), np.uint8)
    png, zoom = comparison_png([lr, hr, hr])
    assert zoom == 3
    img = np.asarray(Image.open(io.BytesIO(png)))
    first = img[3:3 + 48 * 3:3, 3:3 + 48 * 3:3]  # the input cell, un-zoomed
    # the input's pixels repeated ×2 to the output's size, then the centre crop (rows 76.., cols 36..)
    np.testing.assert_array_equal(first, lr[0, 0].repeat(2, 0).repeat(2, 1)[76:124, 36:84])
