"""IcGAN: encoders learn from G's own (z, y); editing encodes, swaps y and decodes; tiny training
through the shared loop resumes bit-exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from baseline_fixtures import make_images

import baselines
from baselines import checkpoint
from baselines.icgan import SPEC, ICGANConfig, edit, encode
from baselines.spec import Batch
from genbench.errors import GenbenchError

TINY = dict(batch_size=8, g_width=4, d_width=4, enc_width=4, z_dim=4, log_every=1, checkpoint_every=100)


def _setup(**kw):
    config = ICGANConfig(data_shape=(1, 28, 28), n_classes=10, batch_size=8, g_width=4, d_width=4, enc_width=4,
                         z_dim=4, **kw)
    torch.manual_seed(0)
    nets = SPEC.build(config)
    return config, nets, SPEC.make_optimizers(nets, config)


@pytest.mark.parametrize("ey_data", ["generated", "real"])
def test_encoder_losses_use_the_z_and_y_that_made_the_generated_images(ey_data):
    config, nets, opts = _setup(ey_data=ey_data)
    x, y = torch.rand(8, 1, 28, 28) * 2 - 1, torch.tensor([0, 1, 2, 3, 4, 5, 6, 7])
    gen_seed = 11
    # the oracle: replay the step's draws from the same generator and compute the losses by hand
    gen = torch.Generator().manual_seed(gen_seed)
    z = SPEC.latent(8, gen, config)
    with torch.no_grad():
        fake = SPEC.generate(nets, y, z, config)
        expected_ez = F.mse_loss(nets["E_z"](fake), z)
        expected_ey = F.cross_entropy(nets["E_y"](fake if ey_data == "generated" else x), y)
    e_before = [p.detach().clone() for p in nets["E_z"].parameters()]
    g_before = [p.detach().clone() for p in nets["G"].parameters()]
    losses = SPEC.encoder_step(nets, opts, Batch(x, y), torch.Generator().manual_seed(gen_seed), config)
    torch.testing.assert_close(losses["loss_ez"], expected_ez)
    torch.testing.assert_close(losses["loss_ey"], expected_ey)
    assert any(not torch.equal(a, b) for a, b in zip(e_before, nets["E_z"].parameters()))  # encoders learn
    assert all(torch.equal(a, b) for a, b in zip(g_before, nets["G"].parameters()))  # G is fixed here


def test_one_step_updates_d_g_and_the_encoders():
    config, nets, opts = _setup()
    counts = {k: 0 for k in opts}
    for name, opt in opts.items():
        real = opt.step
        opt.step = lambda *a, _real=real, _n=name, **k: (counts.__setitem__(_n, counts[_n] + 1), _real(*a, **k))[1]
    losses = SPEC.train_step(nets, opts, Batch(torch.rand(8, 1, 28, 28) * 2 - 1, torch.arange(8)),
                             torch.Generator().manual_seed(0), config)
    assert counts == {"D": 1, "G": 1, "E": 1}
    assert set(losses) == {"loss_d", "loss_g", "loss_ez", "loss_ey"}


def test_generator_and_discriminator_see_y_as_one_hot():
    config, nets, _ = _setup()
    nets.eval()
    z = torch.zeros(2, 4)
    g_in = []
    nets["G"].register_forward_hook(lambda m, args, out: g_in.append(args[0]))
    SPEC.generate(nets, torch.tensor([3, 9]), z, config)
    torch.testing.assert_close(g_in[0][:, 4:], F.one_hot(torch.tensor([3, 9]), 10).float())
    d_in = []
    nets["D"].register_forward_hook(lambda m, args, out: d_in.append(args[0]))
    SPEC.discriminate(nets, torch.zeros(2, 1, 28, 28), torch.tensor([3, 9]), config)
    assert d_in[0].shape == (2, 11, 28, 28) and bool((d_in[0][0, 4] == 1).all()) and float(d_in[0][0, 1:].sum()) == 784


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    ds = make_images(48)
    out = tmp_path_factory.mktemp("icgan")
    a = baselines.train("icgan", ds, out_dir=out / "a", overrides=TINY, steps=3, progress=False)
    return ds, a, out


def test_tiny_training_resumes_bit_exactly(trained):
    ds, a, out = trained
    baselines.train("icgan", ds, out_dir=out / "b", overrides=TINY, steps=1, progress=False)
    b = baselines.train("icgan", ds, out_dir=out / "b", overrides=TINY, steps=3, progress=False)
    ta, tb = checkpoint.read(a)[1], checkpoint.read(b)[1]
    assert ta.keys() == tb.keys()
    assert any(k.startswith("E_z.") for k in ta) and any(k.startswith("optim.E.") for k in ta)
    assert [k for k in ta if not torch.equal(ta[k], tb[k])] == []


def test_edit_encodes_swaps_y_and_decodes(trained):
    ds, a, _ = trained
    model = baselines.load(a, device="cpu")
    images = ds.split("test").samples
    targets = np.array([0, 1, 2, 3, 4, 5, 6, 7])
    edited = edit(model, images, targets)
    assert edited.shape == images.shape and edited.dtype == np.uint8
    # the oracle: G(E_z(x), onehot(target)) computed from the networks directly
    z, logits = encode(model, images)
    expected = model.codec.decode(SPEC.generate(model.nets, torch.as_tensor(targets), z, model.config))
    np.testing.assert_array_equal(edited, expected)
    np.testing.assert_array_equal(edit(model, images, targets, batch_size=3), edited)
    recon = edit(model, images)  # y unchanged: E_y's class
    expected_recon = model.codec.decode(SPEC.generate(model.nets, logits.argmax(1), z, model.config))
    np.testing.assert_array_equal(recon, expected_recon)
    with pytest.raises(GenbenchError, match="one integer target class per image"):
        edit(model, images, targets[:3])
    with pytest.raises(GenbenchError, match=r"target classes must be in 0\.\.9"):
        edit(model, images, targets + 5)
    with pytest.raises(GenbenchError, match="icgan expects uint8"):
        edit(model, images[:, :, :14], targets)


def test_edit_refuses_another_model(points_ds, tmp_path):
    o = dict(batch_size=8, g_hidden=(8,), d_hidden=(8,), z_dim=2)
    model = baselines.load(baselines.train("gan", points_ds, out_dir=tmp_path, overrides=o, steps=1, progress=False))
    with pytest.raises(GenbenchError, match="edit needs a trained 'icgan' model, got 'gan'"):
        edit(model, np.zeros((1, 1, 28, 28), np.uint8), np.array([1]))


def test_ey_data_is_validated(trained, tmp_path):
    ds = trained[0]
    with pytest.raises(GenbenchError, match="ey_data must be one of"):
        baselines.train("icgan", ds, out_dir=tmp_path, overrides={**TINY, "ey_data": "both"}, steps=1, progress=False)
