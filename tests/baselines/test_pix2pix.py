"""pix2pix: the shared loop trains and resumes it bit-exactly, it translates, and its losses are the paper's."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import baselines
from baselines import checkpoint
from baselines.image_nets import receptive_field
from baselines.pix2pix import SPEC, noise_shapes
from baselines.spec import Batch
from genbench.data.dataset import Dataset
from baseline_fixtures import cut_dataset
from genbench.errors import GenbenchError

TINY = {"ngf": 4, "ndf": 4, "batch_size": 8, "log_every": 1, "checkpoint_every": 100}


@pytest.fixture(scope="module")
def edges_tiny() -> Dataset:
    return cut_dataset("mnist-edges", {"train": 48, "test": 8})


def _tensors(path) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in checkpoint.read(path)[1].items()}


def _config(ds, **overrides):
    return dataclasses.replace(SPEC.default_config(ds), **{**TINY, **overrides})


def test_trains_resumes_bit_exactly_and_translates(edges_tiny, tmp_path):
    config = _config(edges_tiny)
    straight = baselines.train("pix2pix", edges_tiny, out_dir=tmp_path / "a", config=config, steps=4, progress=False)
    baselines.train("pix2pix", edges_tiny, out_dir=tmp_path / "b", config=config, steps=2, progress=False)
    resumed = baselines.train("pix2pix", edges_tiny, out_dir=tmp_path / "b", config=config, steps=4, progress=False)
    a, b = _tensors(straight), _tensors(resumed)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert any(k.startswith("D.") for k in a) and any("running_mean" in k for k in a)

    model = baselines.load(straight, device="cpu")
    inputs = edges_tiny.split("test").inputs
    out = model.translate(inputs, seed=3)
    assert out.shape == (8, 1, 28, 28) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, model.translate(inputs, seed=3, batch_size=3))  # no batch dependence
    assert not np.array_equal(out, model.translate(inputs, seed=4))  # dropout is the noise, also at test time
    with pytest.raises(GenbenchError, match=r"translate expects N×1×28×28 input"):
        model.translate(inputs[:, :, :14, :14])


def test_patch_size_and_dropout_layers_for_28x28(edges_tiny):
    config = SPEC.default_config(edges_tiny, "quick")
    assert config.d_layers == 1 and receptive_field(config.d_layers) == 16
    assert SPEC.default_config(edges_tiny, "full").lambda_l1 == 100.0
    nets = SPEC.build(config)
    pair = torch.zeros(2, 2, 28, 28)
    assert nets["D"](pair).shape == (2, 1, 12, 12)  # 12×12 overlapping 16×16 patches
    # The paper's CD layers sit at 2×2, 4×4 and 8×8 (of the 28 → 32 padded U-Net down to 1×1).
    assert [s[1:] for s in noise_shapes(config)] == [(2, 2), (4, 4), (8, 8)]
    z = SPEC.latent(2, torch.Generator().manual_seed(0), config)
    assert z.shape == (2, sum(c * h * w for c, h, w in noise_shapes(config)))
    assert 0.4 < float(z.mean()) < 0.6 and set(z.unique().tolist()) == {0.0, 1.0}
    with pytest.raises(GenbenchError, match="same size"):
        SPEC.build(dataclasses.replace(config, cond_shape=(1, 14, 14)))


def _batch(seed=0, n=8):
    g = torch.Generator().manual_seed(seed)
    return Batch(x=torch.rand(n, 1, 28, 28, generator=g) * 2 - 1, cond=torch.rand(n, 1, 28, 28, generator=g) * 2 - 1)


def test_l1_only_update_is_adam_on_100_times_l1(edges_tiny):
    """lambda_gan = 0: G's step is exactly Adam(2e-4, β=(0.5, 0.999)) on 100·|G(x) − y|₁; D is untouched."""
    config = _config(edges_tiny, lambda_gan=0.0)
    torch.manual_seed(0)
    nets = SPEC.build(config)
    reference = copy.deepcopy(nets)
    opts = SPEC.make_optimizers(nets, config)
    batch = _batch()
    losses = SPEC.train_step(nets, opts, batch, torch.Generator().manual_seed(7), config)
    assert set(losses) == {"loss_g", "loss_l1"}

    masks = SPEC.latent(8, torch.Generator().manual_seed(7), config)  # the step's first draw
    fake = reference["G"](batch.cond, SPEC._masks(masks, config))
    loss = 100.0 * F.l1_loss(fake, batch.x)
    opt = torch.optim.Adam(reference["G"].parameters(), lr=2e-4, betas=(0.5, 0.999))
    loss.backward()
    opt.step()
    assert float(losses["loss_g"]) == pytest.approx(float(loss.detach()), rel=1e-6)
    for (name, p), q in zip(nets["G"].named_parameters(), reference["G"].parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-7, msg=name)
    for p, q in zip(nets["D"].state_dict().values(), reference["D"].state_dict().values()):
        assert torch.equal(p, q)


def test_adversarial_losses_are_halved_bce_for_d_and_bce_plus_100_l1_for_g(edges_tiny):
    config = _config(edges_tiny)
    torch.manual_seed(1)
    nets = SPEC.build(config)
    before = copy.deepcopy(nets)
    batch = _batch(1)
    losses = SPEC.train_step(nets, SPEC.make_optimizers(nets, config), batch, torch.Generator().manual_seed(5), config)

    x, y = batch.cond, batch.x
    with torch.no_grad():
        fake = before["G"](x, SPEC._masks(SPEC.latent(8, torch.Generator().manual_seed(5), config), config))
        d_real, d_fake = before["D"](torch.cat([x, y], 1)), before["D"](torch.cat([x, fake], 1))
    # −log σ(l) and −log(1 − σ(l)), written out
    loss_d = 0.5 * (-torch.log(torch.sigmoid(d_real)).mean() - torch.log(1 - torch.sigmoid(d_fake)).mean())
    assert float(losses["loss_d"]) == pytest.approx(float(loss_d), rel=1e-5)
    l1 = (fake - y).abs().mean()
    assert float(losses["loss_l1"]) == pytest.approx(float(l1), rel=1e-6)
    assert float(losses["loss_g"]) == pytest.approx(100 * float(l1) + float(losses["loss_g_gan"]), rel=1e-6)
