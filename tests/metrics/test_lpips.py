"""genbench's LPIPS equals the lpips package's LPIPS(net="vgg", v0.1) given the same weights.

The lpips package ships its lin weights; the VGG-16 backbone is not available offline, so both
networks get the same randomly initialised backbone (``pnet_rand=True``), written to a file in
torchvision's key layout for genbench to read. Skipped where the dev oracle is not installed.
"""

from __future__ import annotations

import os

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
