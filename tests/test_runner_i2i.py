"""The suite runner on image-to-image tasks: translate (cached) → evaluate by the dataset's task.

The models are fakes (no training: each maps its inputs by a fixed rule that the test can
score by hand); the datasets are real mnist-5k test digits made into each task, so the real
metric code, the real mnist-classifier and the real feature cache are exercised.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from i2i_fakes import DATASETS, HOLE, N_TEST, SUITE, digits as _digits, run as _run, suite as _suite
from genbench.metrics import registry
from genbench.metrics.image_quality import psnr_per_image
from genbench.results import load_run, summarize


def _result(tmp_path, dataset, label="oracle"):
    return json.loads((tmp_path / "run" / "jobs" / dataset / label / "seed0" / "result.json").read_text())


def _metrics(res):
    return {m["name"]: m for m in res["metrics"]}


def test_translation_job_is_cached_scored_by_its_task_and_records_the_protocol(tmp_path):
    suite = _suite(tmp_path, "[fake-edges, fake-hole]")
    summary, backend = _run(tmp_path, suite)
    assert summary.ok, [o.error for o in summary.failed]
    assert [o.job.label for o in summary.outcomes] == ["oracle", "oracle"]  # no real-data row for tasks
    assert all(o.ran == ["train", "translate", "evaluate"] for o in summary.outcomes)

    xs, ys, _, _ = _digits()
    edges = _result(tmp_path, "fake-edges")
    m = _metrics(edges)
    # the oracle inverts the edge map exactly: identical pairs
    assert m["psnr"]["value"] is None and m["psnr"]["params"]["identical_pairs"] == N_TEST  # +inf → null
    assert m["l1"]["value"] == 0.0 and m["ssim"]["value"] == pytest.approx(1.0)
    assert m["task_accuracy"]["params"]["classifier"] == "mnist-classifier"
    assert m["task_accuracy"]["value"] > 0.9 and "fid" in m
    p = edges["protocol"]
    assert p["task"] == {"kind": "translation", "scale": None, "hole": None, "classifier": "mnist-classifier"}
    assert p["n_translated"] == N_TEST and p["classifier"]["name"] == "mnist-classifier"
    assert set(p["skipped"]) == {"hole", "inverse", "cycle_psnr", "source_only_accuracy"}
    assert "real_row" in p and edges["keys"].keys() == {"train", "translate", "evaluate"}
    with np.load(tmp_path / "run" / edges["samples"]) as z:
        np.testing.assert_array_equal(z["samples"], xs[:N_TEST])
        np.testing.assert_array_equal(z["indices"], np.arange(N_TEST))

    hole = _metrics(_result(tmp_path, "fake-hole"))
    # the fake leaves the hole black: hole PSNR by hand, and the whole image's l1 = hole l1 × 14²/28²
    t, l, h, w = HOLE
    target_hole = xs[:N_TEST, :, t:t + h, l:l + w].astype(float)
    mse = (target_hole ** 2).reshape(N_TEST, -1).mean(axis=1)
    assert hole["psnr_hole"]["value"] == pytest.approx(np.mean(10 * np.log10(255.0 ** 2 / mse)))
    assert hole["l1_hole"]["value"] == pytest.approx(target_hole.mean() / 255)
    assert hole["l1"]["value"] == pytest.approx(hole["l1_hole"]["value"] * (h * w) / (28 * 28))
    assert hole["psnr"]["value"] > hole["psnr_hole"]["value"]  # the rest of the image is exact
    # pair metrics' ± is the standard error of the mean over images, the spread kept in params
    assert hole["l1"]["std"] == pytest.approx(hole["l1"]["params"]["per_image_std"] / math.sqrt(N_TEST))

    # rerun: nothing recomputed, nothing translated or scored again
    before = (len(backend.translated), len(backend.calls))
    again, _ = _run(tmp_path, suite, backend)
    assert again.ok and all(o.ran == [] for o in again.outcomes)
    assert (len(backend.translated), len(backend.calls)) == before


def test_unpaired_task_scores_both_directions_cycle_and_source_only(tmp_path):
    summary, backend = _run(tmp_path, _suite(tmp_path, "fake-unpaired"))
    assert summary.ok, [o.error for o in summary.failed]
    res = _result(tmp_path, "fake-unpaired")
    m = _metrics(res)
    assert {"fid", "task_accuracy", "fid_ba", "task_accuracy_ba", "cycle_psnr", "source_only_accuracy"} <= set(m)
    assert set(res["protocol"]["skipped"]) == {"psnr", "ssim", "l1", "hole"}
    # translated: A (60 inputs) forward, B (70 targets) back, and the 60 outputs round the cycle
    assert sorted(backend.translated) == sorted([("oracle", "fake-unpaired", False, 60),
                                                 ("oracle", "fake-unpaired", True, 70),
                                                 ("oracle", "fake-unpaired", True, 60)])
    # cycle: A → clip(255 − A + 3) → 255 − that = max(A − 3, 0) ... for A ≤ 252; by hand:
    a = DATASETS["fake-unpaired"].split("test").inputs.astype(np.int64)
    cyc = 255 - np.clip(255 - a + 3, 0, 255)
    expected = psnr_per_image(a.astype(float), cyc.astype(float), 255.0).mean()
    assert m["cycle_psnr"]["value"] == pytest.approx(expected)
    # B → A with 255 − x restores the source digits exactly: the MNIST classifier reads them well,
    # far better than it reads the untranslated (inverted) B digits — the source-only reference
    assert m["task_accuracy_ba"]["value"] > 0.9
    assert m["source_only_accuracy"]["value"] < m["task_accuracy_ba"]["value"]
    assert registry.higher_is_better("source_only_accuracy") is None  # a reference, not ranked


@pytest.fixture
def sr_psnr_ssim(monkeypatch):
    """psnr/ssim with the SR parameters the protocol sets (``y_channel``, ``crop_border``), as the
    image-quality metrics declare them once they support the SR protocol: crop, then score (these
    digits are grey, where the Y channel is the grey level itself)."""
    if "y_channel" in registry.METRICS["psnr"].params:
        return  # the real ones support it
    monkeypatch.setattr(registry.METRICS, "_specs", dict(registry.METRICS._specs))
    for name in ("psnr", "ssim"):
        spec = registry.METRICS[name]

        def compute(x, *, y_channel, crop_border, _orig=spec.compute):
            c = crop_border
            t, o = x.pairs
            return _orig(dataclasses.replace(x, pairs=(t[..., c:-c, c:-c], o[..., c:-c, c:-c])))

        registry.METRICS._specs[name] = dataclasses.replace(spec, params={"y_channel": False, "crop_border": 0},
                                                            compute=compute)


def test_sr_task_crops_the_scale_records_the_mode_and_skips_fid_on_few_images(tmp_path, sr_psnr_ssim):
    text = SUITE.format(datasets="fake-sr", extra="").replace("[psnr, ssim, l1, hole,", "[psnr, ssim,")
    summary, _ = _run(tmp_path, _suite(tmp_path, None, text=text))
    assert summary.ok, [o.error for o in summary.failed]
    res = _result(tmp_path, "fake-sr")
    m = _metrics(res)
    assert m["psnr"]["params"]["y_channel"] is True and m["psnr"]["params"]["crop_border"] == 2
    # trained on 16×16 patches, scored on the whole 28×28 test digits
    assert DATASETS["fake-sr"].image_shape == (1, 16, 16)
    ds = DATASETS["fake-sr"].split("test")
    up = ds.inputs.repeat(2, axis=2).repeat(2, axis=3)
    assert up.shape[2:] == (28, 28)
    by_hand = psnr_per_image(ds.samples[..., 2:-2, 2:-2].astype(float), up[..., 2:-2, 2:-2].astype(float), 255.0)
    assert m["psnr"]["value"] == pytest.approx(by_hand.mean())
    assert res["protocol"]["sr_mode"] == "y" and "fewer than 50" in res["protocol"]["skipped"]["fid"]
    assert "fid" not in m


def test_sr_protocol_needs_the_metric_parameters_it_sets(tmp_path):
    if "y_channel" in registry.METRICS["psnr"].params:
        pytest.skip("psnr takes y_channel/crop_border: the SR protocol is served")
    text = SUITE.format(datasets="fake-sr", extra="").replace("[psnr, ssim, l1, hole,", "[psnr,")
    summary, _ = _run(tmp_path, _suite(tmp_path, None, text=text))
    (failed,) = summary.failed
    assert "metric 'psnr' takes no parameter y_channel, crop_border" in failed.error


def test_wrong_shape_translator_output_is_a_one_line_error_naming_the_job(tmp_path, sr_psnr_ssim):
    summary, _ = _run(tmp_path, _suite(tmp_path, "fake-sr", extra="  - broken\n"))
    (failed,) = summary.failed
    assert failed.job.label == "broken"
    assert failed.error == ("fake-sr/broken/seed0: broken (broken): translating 4 images gave uint8 4×1×14×14, "
                            "expected uint8 4×1×28×28")
    assert "\n" not in failed.error


def test_models_and_tasks_must_fit_before_anything_runs(tmp_path):
    from genbench.errors import GenbenchError

    suite = _suite(tmp_path, "fake-edges", extra="  - fake-gan\n")
    with pytest.raises(GenbenchError, match="dataset 'fake-edges' is a translation task, but model 'fake-gan'"):
        _run(tmp_path, suite)


def test_summary_protocol_carries_the_task_and_the_gate_refuses_another(tmp_path):
    from genbench.gate import protocol_differences

    _run(tmp_path, _suite(tmp_path, "fake-edges"))
    summary = summarize(load_run(tmp_path / "run"))
    proto = summary["protocols"]["fake-edges"]
    assert proto["task"]["kind"] == "translation" and proto["classifier"]["name"] == "mnist-classifier"
    other = json.loads(json.dumps(summary))
    other["protocols"]["fake-edges"]["task"]["kind"] = "inpainting"
    (diff,) = protocol_differences(summary, other)
    assert "image-to-image task" in diff
    assert protocol_differences(summary, summary) == []


# ---------------------------------------------------------------- a real image-conditioned model


def test_a_real_image_conditioned_baseline_runs_through_the_real_backend(tmp_path, monkeypatch):
    """baselines' train → load → translate(seed=…) behind GenbenchBackend, on a tiny paired task:
    a 1×1 conv + nearest 2× upsampling that learns 'invert the grey levels and upsample'."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    import baselines
    from baselines.spec import ImageConditionConfig, ModelSpec
    from genbench.data.dataset import Dataset, Split, Task, compute_fingerprint
    from genbench.runner import GenbenchBackend, Runner
    from genbench.suite import Registries, parse_suite

    @dataclasses.dataclass
    class Config(ImageConditionConfig):
        lr: float = 0.05
        batch_size: int = 8
        steps: int = 100
        checkpoint_every: int = 1000

    class Invert(ModelSpec):
        name, paper, kinds, conditioning, config_class = "toy-i2i", "test toy", ("image",), "image", Config

        def build(self, config):
            return nn.ModuleDict({"G": nn.Conv2d(1, 1, 1)})

        def make_optimizers(self, nets, config):
            return {"G": torch.optim.Adam(nets["G"].parameters(), lr=config.lr)}

        def generate(self, nets, cond, z, config):
            return torch.tanh(F.interpolate(nets["G"](cond), scale_factor=2, mode="nearest"))

        def train_step(self, nets, opts, batch, gen, config):
            loss = (self.generate(nets, batch.cond, None, config) - batch.x).pow(2).mean()
            opts["G"].zero_grad(set_to_none=True)
            loss.backward()
            opts["G"].step()
            return {"loss": loss.detach()}

    monkeypatch.setattr(baselines.MODELS, "_specs", dict(baselines.MODELS._specs))
    baselines.MODELS.register(Invert())
    rng = np.random.default_rng(0)

    def split(m):
        small = rng.integers(30, 226, (m, 1, 8, 8), dtype=np.uint8)
        return Split((255 - small).repeat(2, axis=2).repeat(2, axis=3), inputs=small)

    splits = {"train": split(64), "test": split(12)}
    ds = Dataset("inv-tiny", "image", splits, compute_fingerprint("inv-tiny", splits), task=Task("translation"))

    class Backend(GenbenchBackend):
        def load_dataset(self, name, *, data_root):
            return ds

    text = ("name: real-i2i\ndataset: inv-tiny\nseeds: [0]\nsteps: 80\nmodels: [toy-i2i]\n"
            "evaluation: {n: 100, split: test, metrics: [psnr, ssim, l1, task_accuracy]}\n")
    suite = parse_suite(text, str(tmp_path / "s.yaml"), registries=Registries(models=("toy-i2i",), datasets=("inv-tiny",)))
    summary = Runner(suite, tmp_path / "run", backend=Backend(), device="cpu", progress=False,
                     echo=lambda s: None).run()
    assert summary.ok, [o.error for o in summary.failed]
    res = _result(tmp_path, "inv-tiny", "toy-i2i")
    m = _metrics(res)
    assert m["psnr"]["value"] > 25 and m["l1"]["value"] < 0.03  # it learnt 255 − x, upsampled
    assert res["protocol"]["skipped"] == {"task_accuracy": "dataset 'inv-tiny''s task names no classifier"}
    with np.load(tmp_path / "run" / res["samples"]) as z:
        assert z["samples"].shape == (12, 1, 16, 16) and z["example_inputs"].shape == (8, 1, 8, 8)
