"""The inpainting baselines: ``context-encoder`` (Pathak 2016) and ``gan-inpainting`` (Yeh 2017)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import baselines
from baselines import checkpoint
from baselines.context_encoder import SPEC as CE
from baselines.gan_inpainting import SPEC as GI
from baselines.gan_inpainting import importance_weights, poisson_blend, structure_loss
from baselines.inpainting import known_mask
from baselines.spec import Batch
from baselines.training import train_model
from genbench.data.dataset import Dataset, Split, Task, compute_fingerprint
from genbench.data.hole import punch_hole
from genbench.data.mnist5k import load_mnist5k
from genbench.errors import GenbenchError

INSIDE = np.zeros((28, 28), bool)
INSIDE[7:21, 7:21] = True  # the centre hole, written independently of the code's HOLE


@pytest.fixture(scope="module")
def digits() -> Dataset:
    """48 train / 8 test real digits with the centre hole, as mnist-hole builds them."""
    source = load_mnist5k()
    splits = {}
    for name, n in (("train", 48), ("test", 8)):
        x, y = source.split(name).samples[:n], source.split(name).labels[:n]
        splits[name] = Split(x, y, inputs=punch_hole(x))
    return Dataset("hole-tiny", "image", splits, compute_fingerprint("hole-tiny", splits), n_classes=10,
                   task=Task("inpainting", hole=(7, 7, 14, 14), classifier="mnist-classifier"))


TINY = {
    "context-encoder": dict(width=4, bottleneck=8, batch_size=8, log_every=1, checkpoint_every=2),
    "gan-inpainting": dict(g_width=4, d_width=4, z_dim=4, batch_size=8, log_every=1, checkpoint_every=2,
                           inpaint_steps=5),
}


def _config(name, ds, **extra):
    spec = baselines.get_spec(name)
    return baselines.config.apply_overrides(spec.default_config(ds, "quick"), {**TINY[name], **extra})


def _tensors(path) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in checkpoint.read(path)[1].items()}


@pytest.mark.parametrize("name", ["context-encoder", "gan-inpainting"])
def test_trains_resumes_bit_exactly_and_keeps_the_known_pixels(name, digits, tmp_path):
    config = _config(name, digits)
    assert config.hole == (7, 7, 14, 14) and config.cond_shape == (1, 28, 28)
    spec = baselines.get_spec(name)
    straight = train_model(spec, digits, out_dir=tmp_path / "a", config=config, steps=4, progress=False)
    train_model(spec, digits, out_dir=tmp_path / "b", config=config, steps=2, progress=False)
    resumed = train_model(spec, digits, out_dir=tmp_path / "b", config=config, steps=4, progress=False)
    a, b = _tensors(straight), _tensors(resumed)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)

    model = baselines.load(straight, device="cpu")
    test = digits.split("test")
    out = model.translate(test.inputs, seed=3)
    assert out.shape == test.inputs.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[:, :, ~INSIDE], test.inputs[:, :, ~INSIDE])
    assert np.any(out[:, :, INSIDE] != 128)  # the hole was filled
    np.testing.assert_array_equal(out, model.translate(test.inputs, seed=3))  # reproducible from the seed


def test_gan_inpainting_without_blending_keeps_the_known_pixels(digits, tmp_path):
    config = _config("gan-inpainting", digits, poisson_blend=False)
    path = train_model(GI, digits, out_dir=tmp_path / "m", config=config, steps=2, progress=False)
    test = digits.split("test")
    out = baselines.load(path, device="cpu").translate(test.inputs)
    np.testing.assert_array_equal(out[:, :, ~INSIDE], test.inputs[:, :, ~INSIDE])


def test_gan_inpainting_trains_exactly_dcgan_on_the_targets(digits, tmp_path):
    config = _config("gan-inpainting", digits)
    ours = train_model(GI, digits, out_dir=tmp_path / "gi", config=config, steps=3, progress=False)
    targets = {k: Split(v.samples, v.labels) for k, v in digits.splits.items()}
    plain = Dataset("targets", "image", targets, compute_fingerprint("targets", targets), n_classes=10)
    theirs = train_model(baselines.get_spec("dcgan"), plain, out_dir=tmp_path / "dc", config=GI.dcgan_config(config),
                         steps=3, progress=False)
    a, b = _tensors(ours), _tensors(theirs)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_gan_inpainting_uses_a_given_dcgan_checkpoint(digits, tmp_path):
    config = _config("gan-inpainting", digits)
    targets = {k: Split(v.samples, v.labels) for k, v in digits.splits.items()}
    plain = Dataset("targets", "image", targets, compute_fingerprint("targets", targets), n_classes=10)
    dc = train_model(baselines.get_spec("dcgan"), plain, out_dir=tmp_path / "dc", config=GI.dcgan_config(config),
                     steps=2, progress=False)
    given = dataclasses.replace(config, generator=str(dc))
    path = train_model(GI, digits, out_dir=tmp_path / "gi", config=given, steps=0, progress=False)
    theirs = {k: v for k, v in _tensors(dc).items() if not k.startswith("optim.")}
    ours = {k: v for k, v in _tensors(path).items() if not k.startswith("optim.")}
    assert ours.keys() == theirs.keys() and all(np.array_equal(ours[k], theirs[k]) for k in ours)
    assert baselines.load(path, device="cpu").config.generator == str(dc)  # recorded
    with pytest.raises(GenbenchError, match="nothing to train, run it with --steps 0"):
        train_model(GI, digits, out_dir=tmp_path / "gi2", config=given, steps=1, progress=False)
    with pytest.raises(GenbenchError, match="other networks; set g_width=4"):
        train_model(GI, digits, out_dir=tmp_path / "gi3", config=dataclasses.replace(given, g_width=6), steps=0,
                    progress=False)


def test_importance_weights_match_a_hand_computation():
    mask = torch.ones(1, 1, 4, 4)
    mask[0, 0, 1, 1:3] = 0  # two unknown pixels, (1, 1) and (1, 2)
    # each known pixel: unknown pixels in its 3×3 window / 9; the hole itself weighs 0
    expected = torch.tensor([[1, 2, 2, 1], [1, 0, 0, 1], [1, 2, 2, 1], [0, 0, 0, 0]], dtype=torch.float32) / 9
    torch.testing.assert_close(importance_weights(mask, 3)[0, 0], expected)
    # Yeh's window 7 on the centre hole (rows/cols 7..20): 7×7 windows centred on known pixels
    w = importance_weights(known_mask((7, 7, 14, 14), (1, 28, 28)), 7)[0, 0]
    assert float(w[6, 14]) == pytest.approx(3 * 7 / 49)  # rows 7..9 of the window unknown, all 7 columns
    assert float(w[6, 6]) == pytest.approx(3 * 3 / 49)  # the corner: rows 7..9 × cols 7..9
    assert float(w[3, 14]) == 0 and float(w[14, 14]) == 0  # too far from the hole; inside it


@pytest.fixture
def tiny_gan(digits):
    config = _config("gan-inpainting", digits, g_width=8, d_width=8, z_dim=8)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        nets = GI.build(config).eval()
        for m in nets["G"].modules():  # wider than DCGAN's N(0, 0.02), so that G(z) depends on z
            if isinstance(m, (torch.nn.Linear, torch.nn.ConvTranspose2d)):
                torch.nn.init.normal_(m.weight, 0.0, 0.3)
    known = torch.as_tensor(digits.split("test").inputs).float() / 127.5 - 1.0
    return nets, config, known


def test_z_optimisation_lowers_the_contextual_loss(tiny_gan):
    nets, config, known = tiny_gan
    z0 = GI.latent(len(known), torch.Generator().manual_seed(1), config)
    weights = importance_weights(known_mask(config.hole, config.data_shape), config.window)
    before = GI.objective(nets, z0[:, 0], known, weights, config)["contextual"].detach()
    z = GI.optimise_z(nets, z0, known, config, steps=40)
    after = GI.objective(nets, z, known, weights, config)["contextual"].detach()
    assert float(z.abs().max()) <= 1.0  # clipped to [−1, 1]
    assert bool((after < before).all()) and float(after.mean()) < 0.95 * float(before.mean())


def test_best_of_n_starts_from_the_lowest_objective(tiny_gan):
    nets, config, known = tiny_gan
    config = dataclasses.replace(config, best_of=5, structure_weight=0.5)
    z = GI.latent(len(known), torch.Generator().manual_seed(2), config)
    assert z.shape == (len(known), 5, config.z_dim)
    weights = importance_weights(known_mask(config.hole, config.data_shape), config.window)
    chosen, index = GI.initial_z(nets, z, known, weights, config)
    with torch.no_grad():  # each candidate scored on its own
        losses = torch.stack([GI.objective(nets, z[:, k], known, weights, config)["total"] for k in range(5)], 1)
    np.testing.assert_array_equal(index.numpy(), losses.argmin(1).numpy())
    assert len(set(index.tolist())) > 1  # not always the first candidate
    torch.testing.assert_close(chosen, z[torch.arange(len(known)), losses.argmin(1)])


def test_poisson_blending_recovers_an_image_from_a_shifted_copy():
    # Δ(x + c) = Δx and the boundary is x's own: the unique solution inside the hole is x
    x = torch.rand(2, 1, 12, 12, generator=torch.Generator().manual_seed(0)) * 2 - 1
    hole = (3, 4, 5, 6)
    out = poisson_blend(x, x + 0.3, hole)
    torch.testing.assert_close(out, x, atol=1e-6, rtol=0)


def test_context_encoder_joint_loss_weights(digits):
    config = _config("context-encoder", digits)
    assert (config.rec_weight, config.overlap, config.overlap_weight) == (0.999, 1, 10.0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        nets = CE.build(config)
    train = digits.split("train")
    batch = Batch(torch.as_tensor(train.samples[:8]).float() / 127.5 - 1,
                  torch.as_tensor(train.inputs[:8]).float() / 127.5 - 1)
    pred = nets["G"](batch.cond)
    assert pred.shape == (8, 1, 16, 16)  # the 14×14 hole and a 1-pixel band
    parts = CE.generator_losses(nets, pred, CE.crop_region(batch.x, config), config)
    weights = np.full((16, 16), 10.0)
    weights[1:15, 1:15] = 1.0
    real = batch.x[:, :, 6:22, 6:22].numpy()
    l2 = float((weights * (pred.detach().numpy() - real) ** 2).mean())
    assert float(parts["loss_l2"].detach()) == pytest.approx(l2, rel=1e-5)
    assert float(parts["loss_g"].detach()) == pytest.approx(0.999 * l2 + 0.001 * float(parts["loss_adv"].detach()), rel=1e-5)


def test_inpainting_models_refuse_other_tasks_and_misfit_holes(digits):
    sr = dataclasses.replace(digits, task=Task("sr", scale=2))
    with pytest.raises(GenbenchError, match="inpaints, but dataset 'hole-tiny' is a sr task"):
        CE.default_config(sr)
    config = dataclasses.replace(_config("context-encoder", digits), hole=(20, 20, 10, 10))
    with pytest.raises(GenbenchError, match=r"does not fit inside 28×28 images"):
        CE.build(config)


def test_structure_loss_compares_image_gradients():
    ones = torch.ones(1, 1, 3, 3)
    spike = torch.zeros(1, 1, 3, 3)
    spike[0, 0, 1, 1] = 1.0  # differences +1, −1 along its row and along its column
    assert float(structure_loss(torch.zeros_like(spike), spike, ones, ones)) == pytest.approx(4.0)
    assert float(structure_loss(spike + 0.5, spike, ones, ones)) == pytest.approx(0.0)  # same gradients
    hole = ones.clone()
    hole[0, 0, 1, 1] = 0.0  # every difference touching the unknown centre is left out
    assert float(structure_loss(torch.zeros_like(spike), spike, ones, hole)) == 0.0
