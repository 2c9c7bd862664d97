"""The suite runner's model metrics (perceptual path length, truncation sweep, edit accuracy) and
paper figures, on tiny checkpoints of the scaled-architecture models (a few training steps)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genbench.runner import Runner
from genbench.suite import load_suite

SUITE = """
name: model-metrics-tiny
dataset: mnist-5k
seeds: [0]
steps: 2
models:
  - {model: progan, overrides: {channels: 8, z_dim: 8, fade_images: 8, stabilise_images: 8, batch_size: 8}}
  - {model: stylegan, overrides: {channels: 8, z_dim: 8, w_dim: 8, mapping_layers: 2, batch_size: 8}}
  - {model: biggan, overrides: {batch_size: 8, g_width: 4, d_width: 4, z_dim: 12, shared_dim: 8}}
  - {model: icgan, overrides: {batch_size: 8, g_width: 4, d_width: 4, enc_width: 4, z_dim: 4}}
evaluation:
  n: 40
  split: test
  extractor: mnist-classifier
  metrics: [fid, ppl, truncation_sweep, edit_accuracy]
  params:
    ppl: {n: 8, batch_size: 8, distance: pixel-l2}
    truncation_sweep: {psis: [1.0, 0.5]}
    edit_accuracy: {n: 20}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mm")
    path = tmp / "suite.yaml"
    path.write_text(SUITE)
    summary = Runner(load_suite(path), tmp / "run", progress=False, cache_dir=str(tmp / "cache")).run()
    assert summary.ok, [o.error for o in summary.failed]
    return tmp / "run"


def _result(run, label):
    return json.loads((run / "jobs" / "mnist-5k" / label / "seed0" / "result.json").read_text())


def _metric(result, name):
    return next((m for m in result["metrics"] if m["name"] == name), None)


def test_each_model_metric_is_scored_or_recorded_as_not_applicable_with_its_reason(run):
    progan, stylegan, biggan, icgan = (_result(run, m) for m in ("progan", "stylegan", "biggan", "icgan"))
    # path length: Z for the unconditional models, W only for the style-based one
    for col in ("ppl_z_full", "ppl_z_end"):
        assert _metric(progan, col)["value"] > 0 and _metric(stylegan, col)["value"] > 0
    assert _metric(stylegan, "ppl_w_full")["params"]["space"] == "w"
    assert "no intermediate latent space W" in progan["not_applicable"]["ppl_w_full"]
    assert "class-conditioned" in biggan["not_applicable"]["ppl_z_full"]
    p = _metric(stylegan, "ppl_z_full")["params"]
    assert (p["n"], p["epsilon"], p["distance"]) == (8, 1e-4, "pixel-l2 (squared, images in [-1, 1])")
    # truncation: the two models with the trick; the others say why not
    for r in (stylegan, biggan):
        assert _metric(r, "truncation_best_fid")["params"]["psi_grid"] == [1.0, 0.5]
    assert "no truncation trick" in progan["not_applicable"]["truncation_best_fid"]
    # editing: only icgan
    assert 0 <= _metric(icgan, "edit_accuracy")["value"] <= 1 and _metric(icgan, "edit_psnr") is not None
    assert "no encoder" in stylegan["not_applicable"]["edit_accuracy"]
    assert _metric(progan, "edit_accuracy") is None


def test_the_sweep_at_psi_1_is_the_untruncated_fid_of_the_suite(run):
    for label in ("stylegan", "biggan"):
        r = _result(run, label)
        curve = _metric(r, "truncation_best_fid")["params"]["curve"]
        assert curve["fid"][curve["psi"].index(1.0)] == pytest.approx(_metric(r, "fid")["value"], rel=1e-9)
        assert _metric(r, "truncation_best_fid")["value"] == min(curve["fid"])


def test_paper_figures_are_stored_as_plain_arrays_with_their_labels(run):
    expected = {"progan": ["stages"], "stylegan": ["style-mixing", "truncation"], "biggan": ["truncation"],
                "icgan": ["edits"]}
    for label, names in expected.items():
        r = _result(run, label)
        figs = r["paper_figures"]["figures"]
        assert [f["name"] for f in figs] == names
        with np.load(run / r["paper_figures"]["file"], allow_pickle=False) as z:
            for f in figs:
                a = z[f["images"]]
                assert a.dtype == np.uint8 and a.shape[:2] == (len(f["rows"]), len(f["columns"]))
    icgan = _result(run, "icgan")["paper_figures"]["figures"][0]
    assert icgan["columns"] == ["source", "reconstruction"] + [f"→ {c}" for c in range(10)]


def test_the_leaderboard_draws_the_figures_the_truncation_curves_and_what_does_not_apply(run, tmp_path):
    from genbench.report import render_report

    html = render_report(run, tmp_path / "report").read_text()
    for label, figure in (("progan", "stages"), ("stylegan", "style-mixing"), ("stylegan", "truncation"),
                          ("biggan", "truncation"), ("icgan", "edits")):
        assert f'data-label="{label}" data-figure="{figure}"' in html
    assert "Truncation trade-off" in html and "FID vs ψ" in html and "FID vs IS over ψ" in html
    assert "has no intermediate latent space W" in html  # progan's ppl_w_* are shown as not applicable
    assert "coarse from B (4²–8²)" in html and "fine from B (32²)" in html


def test_the_table_marks_what_does_not_apply_as_n_a_with_the_reason(run, tmp_path):
    from genbench.report import write_table

    md = write_table(run, tmp_path, "md").read_text()
    progan_row = next(line for line in md.splitlines() if line.startswith("| progan"))
    assert "n/a" in progan_row  # its ppl_w_* and truncation columns
    from genbench.report import render_report

    html = render_report(run, tmp_path / "r").read_text()
    assert 'class="not-applicable" title="model &#39;progan&#39; has no intermediate latent space W' in html
