"""genbench's LPIPS equals the lpips package's LPIPS(net="vgg", v0.1) given the same weights.

The lpips package ships its lin weights; the VGG-16 backbone is not available offline, so both
networks get the same randomly initialised backbone (``pnet_rand=True``), written to a file in
torchvision's key layout for genbench to read. Skipped where the dev oracle is not installed.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from genbench.errors import GenbenchError
from genbench.metrics import lpips as L


@pytest.mark.slow  # builds VGG-16 twice
def test_matches_the_reference_package_on_colour_and_grey_images(tmp_path, monkeypatch):
    ref = pytest.importorskip("lpips")
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = ref.LPIPS(net="vgg", pnet_rand=True, verbose=False)
    backbone = {f"features.{k}": v for s in range(1, 6) for k, v in getattr(net.net, f"slice{s}").state_dict().items()}
    torch.save(backbone, tmp_path / "vgg.pth")
    monkeypatch.setenv(L.LIN_ENV, os.path.join(os.path.dirname(ref.__file__), "weights", "v0.1", "vgg.pth"))
    monkeypatch.setenv(L.VGG_ENV, str(tmp_path / "vgg.pth"))
    mine = L.load_lpips()
    g = torch.Generator().manual_seed(1)
    x0, x1 = torch.rand(3, 3, 32, 32, generator=g) * 2 - 1, torch.rand(3, 3, 32, 32, generator=g) * 2 - 1
    grey0, grey1 = torch.rand(3, 1, 28, 28, generator=g) * 2 - 1, torch.rand(3, 1, 28, 28, generator=g) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(mine(x0, x1), net(x0, x1).view(-1), atol=1e-6)
        assert torch.allclose(mine(grey0, grey1), net(grey0.expand(-1, 3, -1, -1), grey1.expand(-1, 3, -1, -1)).view(-1),
                              atol=1e-6)
        assert torch.equal(mine(x0, x0), torch.zeros(3))
    assert mine.identity["name"] == "lpips-vgg-v0.1" and len(mine.identity["lin_sha256"]) == 64


def test_missing_weights_are_a_clear_error_and_nothing_is_downloaded(tmp_path, monkeypatch):
    monkeypatch.delenv(L.LIN_ENV, raising=False)
    with pytest.raises(GenbenchError, match=r"\$GENBENCH_LPIPS_WEIGHTS is not set"):
        L.find_weights()
    (tmp_path / "lin.pth").write_bytes(b"x")
    monkeypatch.setenv(L.LIN_ENV, str(tmp_path / "lin.pth"))
    monkeypatch.setenv(L.VGG_ENV, str(tmp_path / "absent.pth"))
    with pytest.raises(GenbenchError, match="backbone weights not found"):
        L.find_weights()


# ---------------------------------------------------------------------------- the `lpips` metric


def test_lpips_metric_without_weights_is_refused_before_anything_runs(tmp_path, monkeypatch, capsys):
    """Optional, never downloaded: a suite or `eval --targets` asking for it without the weights
    fails at validation, in one line naming both files and where they go."""
    from PIL import Image

    from genbench.cli import main
    from genbench.suite import Registries, SuiteError, parse_suite

    monkeypatch.delenv(L.LIN_ENV, raising=False)
    monkeypatch.setenv(L.VGG_ENV, str(tmp_path / "absent-vgg16.pth"))
    text = "name: s\ndataset: d\nmodels: [m]\nevaluation:\n  metrics: [psnr, lpips]\n"
    with pytest.raises(SuiteError) as exc:
        parse_suite(text, "s.yaml", registries=Registries(models=("m",), datasets=("d",)))
    msg = str(exc.value)
    assert msg.startswith("s.yaml:5: evaluation.metrics[1]: metric 'lpips' cannot run on this machine: LPIPS weights "
                          "not found: $GENBENCH_LPIPS_WEIGHTS is not set") and "\n" not in msg
    assert "weights/v0.1/vgg.pth" in msg and f"{tmp_path / 'absent-vgg16.pth'}" in msg and "never downloads" in msg

    for d in ("out", "hr"):
        (tmp_path / d).mkdir()
        Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / d / "a.png")
    code = main(["eval", str(tmp_path / "out"), "--targets", str(tmp_path / "hr"), "--metrics", "psnr,lpips"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "metric 'lpips' cannot run on this machine: LPIPS weights not found" in err


@pytest.mark.slow  # builds VGG-16 twice
def test_lpips_metric_equals_the_reference_package_with_the_same_weights(tmp_path, monkeypatch, capsys):
    """The registered metric (mean over pairs) and `eval --targets` per image against lpips 0.1.4's
    LPIPS(net="vgg") with its bundled lin weights and one random VGG-16 backbone given to both."""
    import hashlib
    import json

    from PIL import Image

    from genbench.cli import main
    from genbench.metrics.registry import METRICS, MetricInputs

    ref = pytest.importorskip("lpips")
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = ref.LPIPS(net="vgg", pnet_rand=True, verbose=False)
    backbone = {f"features.{k}": v for s in range(1, 6) for k, v in getattr(net.net, f"slice{s}").state_dict().items()}
    torch.save(backbone, tmp_path / "vgg.pth")
    lin = os.path.join(os.path.dirname(ref.__file__), "weights", "v0.1", "vgg.pth")
    monkeypatch.setenv(L.LIN_ENV, lin)
    monkeypatch.setenv(L.VGG_ENV, str(tmp_path / "vgg.pth"))

    rng = np.random.default_rng(0)
    targets = rng.integers(0, 256, (5, 3, 32, 32), dtype=np.uint8)
    outputs = np.clip(targets.astype(int) + rng.integers(-40, 41, targets.shape), 0, 255).astype(np.uint8)

    def oracle(a, b):
        with torch.no_grad():
            return net(torch.from_numpy(a).float() / 127.5 - 1, torch.from_numpy(b).float() / 127.5 - 1).view(-1).numpy()

    expected = oracle(targets, outputs)
    [r] = METRICS["lpips"].compute(MetricInputs(kind="image", pairs=(targets, outputs)))
    assert r.name == "lpips" and r.value == pytest.approx(float(expected.mean()), abs=1e-6)
    assert r.std == pytest.approx(float(expected.std()), abs=1e-6) and r.params["n"] == 5
    sha = {k: hashlib.sha256(open(p, "rb").read()).hexdigest() for k, p in (("lin", lin), ("vgg", tmp_path / "vgg.pth"))}
    assert r.params["weights"] == {"name": "lpips-vgg-v0.1", "lin_sha256": sha["lin"], "vgg16_sha256": sha["vgg"]}

    for d, images in (("hr", targets), ("out", outputs)):
        (tmp_path / d).mkdir()
        for i, img in enumerate(images):
            Image.fromarray(img.transpose(1, 2, 0)).save(tmp_path / d / f"{i}.png")
    code = main(["eval", str(tmp_path / "out"), "--targets", str(tmp_path / "hr"), "--metrics", "lpips",
                 "--device", "cpu", "--json", str(tmp_path / "r.json")])
    assert code == 0, capsys.readouterr().err
    d = json.loads((tmp_path / "r.json").read_text())
    per_image = [d["protocol"]["per_image"][str(i)]["lpips"] for i in range(5)]
    np.testing.assert_allclose(per_image, expected, atol=1e-6)
    [m] = d["metrics"]
    assert m["name"] == "lpips" and m["params"]["weights"]["vgg16_sha256"] == sha["vgg"]

    # a suite's translation protocol scores it too, on the task's (target, output) pairs
    from baseline_fixtures import cut_dataset
    from genbench.translations import Translations, evaluate_translations

    ds = cut_dataset("mnist-edges", {"train": 2, "test": 4})
    targets = ds.split("test").samples
    outputs = np.clip(targets.astype(int) + rng.integers(-60, 61, targets.shape), 0, 255).astype(np.uint8)
    ev = evaluate_translations(Translations(outputs=outputs, indices=np.arange(4)), ds, split="test",
                               metrics=["l1", "lpips"], extractor=None, device="cpu")
    m = {r["name"]: r for r in ev["metrics"]}
    assert m["lpips"]["value"] == pytest.approx(float(oracle(targets, outputs).mean()), abs=1e-6)
