"""The suite runner on a text-to-image model: samples are drawn one per caption of the evaluation
split and scored with caption consistency (real stackgan, tiny config, real captioned-digits)."""

from __future__ import annotations

import json

import numpy as np

from genbench.data import load_dataset
from genbench.data.captioned import decode_caption
from genbench.features import get_extractor, iter_batches
from genbench.runner import Runner
from genbench.suite import load_suite

SUITE = """
name: text-tiny
dataset: captioned-digits
seeds: [0]
models:
  - model: stackgan
    overrides: {z_dim: 4, word_dim: 4, text_dim: 8, c_dim: 4, d_text_dim: 4, g_width: 4, d_width: 4,
                n_residual: 1, batch_size: 8, stage1_steps: 2}
evaluation:
  n: 60
  split: test
  extractor: mnist-classifier
  metrics: [caption_consistency, stage1]
rank_by: caption_consistency
steps: 4
"""


def _vocabulary():
    return load_dataset("captioned-digits").vocabulary


def test_a_text_model_is_sampled_from_the_split_captions_and_scored_by_caption_consistency(tmp_path):
    path = tmp_path / "text.yaml"
    path.write_text(SUITE)
    summary = Runner(load_suite(path), tmp_path / "run", progress=False).run()
    assert summary.ok, [o.error for o in summary.failed]
    job = tmp_path / "run" / "jobs" / "captioned-digits" / "stackgan" / "seed0"
    result = json.loads((job / "result.json").read_text())
    with np.load(job / result["samples"].split("/")[-1]) as z:
        samples, captions = z["samples"], z["captions"]
    test = load_dataset("captioned-digits").split("test")
    np.testing.assert_array_equal(captions, test.captions[:60])  # one sample per test caption, in order
    # Oracle: the classifier's argmax against the test digits' labels (what each caption names).
    feats = get_extractor("mnist-classifier").extract(iter_batches(samples, 30), total=len(samples))
    expected = float(np.mean(np.argmax(feats.probs, axis=1) == test.labels[:60]))
    (metric,) = [m for m in result["metrics"] if m["name"] == "caption_consistency"]
    assert metric["value"] == expected
    # FID/IS per stage: Stage I's images for the same captions and latents, from the same checkpoint
    import baselines
    from baselines.stackgan import with_stage
    from genbench.evaluate import evaluate

    ckpt = tmp_path / "run" / result["checkpoint"]
    one = with_stage(baselines.load(ckpt), 1).sample_captions(test.captions[:60], 0)
    direct = {m.name: m.value for m in evaluate(one, dataset="captioned-digits", metrics=["fid", "is"], n=60,
                                                extractor="mnist-classifier", progress=False).metrics}
    by_name = {m["name"]: m["value"] for m in result["metrics"]}
    assert by_name["fid_stage1"] == direct["fid"] and by_name["is_stage1"] == direct["is"]
    feats1 = get_extractor("mnist-classifier").extract(iter_batches(one, 30), total=len(one))
    assert by_name["caption_consistency_stage1"] == float(np.mean(np.argmax(feats1.probs, axis=1) == test.labels[:60]))
    # The paper figure: caption → real digit | Stage I | Stage II, the caption's text as the row label
    (figure,) = result["paper_figures"]["figures"]
    assert figure["columns"] == ["real digit", "Stage I (14×14)", "Stage II (28×28)"]
    assert figure["rows"][0] == decode_caption(test.captions[0], _vocabulary())
    with np.load(job / result["paper_figures"]["file"].split("/")[-1], allow_pickle=False) as z:
        np.testing.assert_array_equal(z[figure["images"]][:, 0], test.samples[:4])
