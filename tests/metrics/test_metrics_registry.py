"""The metric registry is the one list: every layer (evaluate, `genbench metrics`, results, report,
gate, suite validation) agrees with it; a third-party metric registered through an entry point
is computed by evaluate(); fid_inf is computable; KID has a real spread for small n (defect 14)."""

from __future__ import annotations

import importlib.metadata
import textwrap

import numpy as np
import pytest
from registry_plugins import rediscover
import torch
from torch_fidelity.metric_kid import kid_features_to_metric

from genbench import evaluate as ev
from genbench import gate, results, suite
from genbench.cli import main
from genbench.data import load_dataset
from genbench.errors import GenbenchError
from genbench.evaluate import evaluate, parse_metrics
from genbench.features import get_extractor
from genbench.features.base import iter_batches
from genbench.metrics import fid_infinity, registry
from genbench.metrics.builtin import kid_subset_size
from genbench.report import _group_columns, _table
from genbench.sources.arrays import ArraySource
from genbench.stats import dataset_features

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")

ARROW = {True: "↑", False: "↓", None: ""}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.getbasetemp() / "genbench-eval-cache"  # shared with test_evaluate


@pytest.fixture(scope="module")
def digits():
    return load_dataset("mnist-5k").split("test").samples


def _fake_results(columns):
    """Two labels' job results with one number per column, as the runner writes them."""
    return [{"job": {"id": f"{label}-0", "dataset": "d", "label": label, "model": label, "seed": 0},
             "metrics": [{"name": c, "value": v, "std": None} for c in columns], "provenance": {}}
            for label, v in (("a", 1.0), ("b", 2.0))]


# ---------------------------------------------------------------- every layer agrees


def test_every_layer_agrees_with_the_registry(capsys):
    metrics, columns = list(registry.METRICS), list(registry.COLUMNS)
    assert columns == [c for m in metrics for c in registry.METRICS[m].column_names]
    # evaluate: accepts exactly the registered names, and can compute each of them
    assert parse_metrics(metrics) == metrics
    with pytest.raises(GenbenchError, match="valid metrics are " + ", ".join(metrics) + "$"):
        parse_metrics("no-such-metric")
    assert all(callable(s.compute) for s in registry.METRICS.values())
    # `genbench metrics`: one row per metric with its columns and directions, its kinds and inputs
    assert main(["metrics"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.strip().splitlines()[1:]}
    assert list(rows) == metrics
    for name, spec in registry.METRICS.items():
        assert " ".join(c.name + ARROW[c.higher_is_better] for c in spec.columns) in rows[name]
        for kind in spec.kinds:
            assert f"{kind}: {'+'.join(spec.inputs_for(kind))}" in rows[name]
    # results' summary, the report's table and the gate: each column's direction is the registry's
    run = results.RunResults(run_dir=None, suite={"name": "s"}, results=_fake_results(columns))
    summary = {r["metric"]: r["higher_is_better"] for r in results.summarize(run)["rows"]}
    table = {c["name"]: c["direction"] for c in _table(run.results, "d", columns, columns[0])["columns"]}
    for c in columns:
        want = registry.COLUMNS[c].higher_is_better
        assert summary[c] is want and table[c] is want and gate.higher_is_better(c) is want, c
        assert ev._better(c) == {True: "higher", False: "lower", None: ""}[want]
    # the report's columns of a suite's metric, and the suite's accepted names and columns
    for m in metrics:
        assert _group_columns(m) == registry.columns_of([m])
        assert suite.Evaluation(metrics=(m,)).columns == registry.columns_of([m])
    assert set(suite.Registries(models=(), datasets=()).metrics) == set(metrics)


def test_declarations_are_checked():
    col = registry.Column("x", "x", True)
    with pytest.raises(ValueError, match="invalid declaration"):
        registry.MetricSpec("x", "x", (col,), ("image",), ("colours",))
    with pytest.raises(ValueError, match="invalid declaration"):
        registry.MetricSpec("x", "x", (col,), ("image",), {"points": ("points",)})
    with pytest.raises(ValueError, match="registered twice"):
        registry.register_metric(registry.MetricSpec("fid", "again", (col,), ("image",), ("features",)))
    with pytest.raises(ValueError, match="already belongs"):
        registry.register_metric(registry.MetricSpec("x", "x", (registry.Column("kid", "", False),), ("image",), ("features",)))
    assert "x" not in registry.METRICS and registry.COLUMNS["kid"].higher_is_better is False
    assert registry.METRICS["modes"].inputs_for("points") == ("points",)
    assert registry.METRICS["modes"].inputs_for("image") == ("probabilities",)


# ---------------------------------------------------------------- a third-party metric


PLUGIN = '''
import numpy as np
from genbench.metrics.registry import Column, MetricSpec
from genbench.metrics.result import MetricResult


def mean_ink(inputs, *, scale):
    """Mean pixel value of the generated images, times scale."""
    return [MetricResult("ink", float(inputs.samples.mean()) * scale, params={"scale": scale})]


SPEC = MetricSpec("ink", "Mean pixel value of the samples", (Column("ink", "mean ink", None),),
                  ("image",), ("pixels",), params={"scale": 2.0}, compute=mean_ink)
'''


@pytest.fixture
def ink_plugin(tmp_path, monkeypatch):
    """A package that registers metric ``ink`` through the ``genbench.metrics`` entry point."""
    (tmp_path / "genbench_ink_plugin.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = importlib.metadata.EntryPoint(name="ink", value="genbench_ink_plugin:SPEC", group=registry.ENTRY_POINT_GROUP)
    rediscover(monkeypatch, registry.METRICS, [ep])


def test_a_third_party_metric_registered_by_entry_point_is_computed_by_evaluate(ink_plugin, digits, capsys):
    assert list(registry.METRICS).count("ink") == 1  # read on the first lookup
    assert list(registry.METRICS).count("ink") == 1 and registry.higher_is_better("ink") is None
    x = digits[:60]
    res = evaluate(x, dataset="mnist-5k", metrics="ink,parzen", n=60, device="cpu", progress=False)
    assert res["ink"].value == pytest.approx(2.0 * x.mean(), rel=1e-12)  # oracle: numpy on the same pixels
    assert res.protocol["metric_params"]["ink"] == {"scale": 2.0} and res.protocol["extractor"] is None
    assert [m.name for m in res.metrics] == ["parzen", "ink"]  # registry order
    assert main(["metrics"]) == 0 and "Mean pixel value" in capsys.readouterr().out
    assert _group_columns("ink") == ("ink",)
    with pytest.raises(GenbenchError, match="'ink' cannot be computed here: it scores images, and these are 2-D points"):
        evaluate(np.zeros((10, 2), np.float32), dataset="ring8", metrics="ink", n=10)


def test_a_broken_plugin_warns_and_does_not_break_genbench(monkeypatch, caplog):
    ep = importlib.metadata.EntryPoint(name="bad", value="genbench_no_such_module:SPEC", group=registry.ENTRY_POINT_GROUP)
    rediscover(monkeypatch, registry.METRICS, [ep])
    assert "bad" not in registry.METRICS and "fid" in registry.METRICS
    assert "could not load metric plug-in 'bad'" in caplog.text


def test_a_metric_returning_an_undeclared_column_is_an_error(digits, monkeypatch):
    spec = registry.MetricSpec("liar", "", (registry.Column("liar", "", True),), ("image",), ("pixels",),
                               compute=lambda x: [ev.MetricResult("fid", 0.0)])
    monkeypatch.setattr(registry.METRICS, "_specs", dict(registry.METRICS._specs))
    registry.register_metric(spec)
    with pytest.raises(GenbenchError, match="'liar' returned fid, not among its declared columns liar"):
        evaluate(digits[:10], dataset="mnist-5k", metrics="liar", n=10, progress=False)


# ---------------------------------------------------------------- fid_inf, pairs


def test_fid_inf_is_computed_by_evaluate(digits, cache_dir):
    res = evaluate(digits[:600], dataset="mnist-5k", split="train", metrics="fid_inf,fid", n=600,
                   extractor="mnist-classifier", device="cpu", progress=False, cache_dir=cache_dir)
    assert [m.name for m in res.metrics] == ["fid", "fid_inf"]
    ext = get_extractor("mnist-classifier")
    real = dataset_features(load_dataset("mnist-5k"), "train", ext, n=600, device="cpu", progress=False)
    fake = ext.extract(iter_batches(digits[:600], 250), device="cpu", progress=False)
    direct = fid_infinity(fake.features, real.features, seed=0)
    assert res["fid_inf"].value == pytest.approx(direct.value, rel=1e-9)
    assert res["fid_inf"].params["sizes"][0] == 300 and res["fid_inf"].params["n_real"] == 600


class _Translator(ArraySource):
    """A sample source that can also translate images: adds fixed noise, clipped."""

    def translate(self, images):
        noise = np.random.default_rng(1).integers(-20, 21, size=images.shape)
        return np.clip(images.astype(int) + noise, 0, 255).astype(np.uint8)


def test_pair_metrics_score_a_translating_source_and_refuse_a_plain_one(digits):
    src = _Translator(digits[:40])
    res = evaluate(src, dataset="mnist-5k", metrics="ssim,psnr", n=40, device="cpu", progress=False)
    targets = load_dataset("mnist-5k").split("test").samples[:40]
    same = ev.evaluate_reconstructions(targets, src.translate(targets))
    assert [m.to_dict() for m in res.metrics] == [m.to_dict() for m in same]
    assert res.protocol["n_generated"] == 40 and res.protocol["extractor"] is None
    with pytest.raises(GenbenchError, match="'psnr' cannot be computed here: .*samples, not translations"):
        evaluate(digits[:40], dataset="mnist-5k", metrics="psnr", n=40)


def test_model_metrics_are_refused_on_a_sample_set_with_where_to_score_them(digits):
    for name in ("ppl", "truncation_sweep", "edit_accuracy"):
        with pytest.raises(GenbenchError, match=f"'{name}' cannot be computed here: it is scored from the trained "
                                                "model itself .* use genbench run"):
            evaluate(digits[:40], dataset="mnist-5k", metrics=name, n=40)


# ---------------------------------------------------------------- defect 14: KID's spread


def test_kid_subset_size_rule():
    assert kid_subset_size(1000, 1000) == 500 and kid_subset_size(300, 250) == 125
    assert kid_subset_size(2000, 5000) == 1000 and kid_subset_size(50_000, 50_000) == 1000
    assert kid_subset_size(3, 3) == 2


@pytest.mark.slow
def test_kid_at_n_1000_has_a_spread_and_equals_torch_fidelity(digits, cache_dir):
    """The mnist suite's n = 1000: subsets of all 1000 gave std 0 (a gate saw no noise)."""
    res = evaluate(digits, dataset="mnist-5k", split="train", metrics="kid", n=1000, extractor="mnist-classifier",
                   device="cpu", progress=False, cache_dir=cache_dir)
    kid = res["kid"]
    assert kid.params["subset_size"] == 500 and kid.params["subsets"] == 100
    assert kid.std > 1e-3 * abs(kid.value) and kid.std > 1e-9
    # oracle: torch-fidelity on the same features with the same subsets (RandomState(seed) draws)
    ext = get_extractor("mnist-classifier")
    real = dataset_features(load_dataset("mnist-5k"), "train", ext, n=1000, device="cpu", progress=False)
    fake = ext.extract(iter_batches(digits, 250), device="cpu", progress=False)
    ref = kid_features_to_metric(torch.from_numpy(real.features), torch.from_numpy(fake.features), kid_subsets=100,
                                 kid_subset_size=500, rng_seed=0, verbose=False)
    assert kid.value == pytest.approx(ref["kernel_inception_distance_mean"], rel=1e-6)
    assert kid.std == pytest.approx(ref["kernel_inception_distance_std"], rel=1e-6)
