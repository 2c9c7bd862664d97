"""cyclegan: the paper's losses, buffer and schedule against their formulas, the shared loop,
bit-exact resume (history buffers and lr schedule included) and both translation directions."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
from torch import nn

import baselines
from baselines import checkpoint
from baselines.cyclegan import SPEC, CycleGANConfig, HistoryBuffer, learning_rate, lsgan_loss
from baselines.spec import Batch
from genbench.data.dataset import Dataset, Split, compute_fingerprint
from genbench.errors import GenbenchError

TINY = dict(ngf=4, ndf=4, n_downsampling=1, n_blocks=1, d_layers=1, batch_size=4, pool_size=5,
            lr_constant_steps=2, lr_decay_steps=4, log_every=1, checkpoint_every=100)


def domains(ch_a: int = 1, ch_b: int = 1, n_a: int = 24, n_b: int = 20, size: int = 16) -> Dataset:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (n_a, ch_a, size, size), dtype=np.uint8)
    b = rng.integers(0, 256, (n_b, ch_b, size, size), dtype=np.uint8)
    splits = {"train": Split(b, labels=rng.integers(0, 10, n_b), inputs=a, paired=False,
                             input_labels=rng.integers(0, 10, n_a))}
    name = f"domains-{ch_a}-{ch_b}"
    return Dataset(name, "image", splits, compute_fingerprint(name, splits), n_classes=10)


def _tensors(path) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in checkpoint.read(path)[1].items()}


def _log(path) -> list[dict]:
    return [{k: v for k, v in json.loads(line).items() if k != "wall_time_s"}
            for line in (path / checkpoint.LOG_FILE).read_text().splitlines()]


def test_trains_through_the_shared_loop_and_resumes_bit_exactly(tmp_path):
    ds = domains()
    straight = baselines.train("cyclegan", ds, out_dir=tmp_path / "a", overrides=TINY, steps=7, progress=False)
    baselines.train("cyclegan", ds, out_dir=tmp_path / "b", overrides=TINY, steps=3, progress=False)
    resumed = baselines.train("cyclegan", ds, out_dir=tmp_path / "b", overrides=TINY, steps=7, progress=False)
    a, b = _tensors(straight), _tensors(resumed)
    assert a.keys() == b.keys()
    assert [k for k in a if not np.array_equal(a[k], b[k])] == []
    # The history buffers and the schedule's step counter are in the checkpoint; the buffers
    # filled (5 slots, 4 images a step) before the interruption and swapped images after it.
    assert {"pool_B.images", "pool_B.count", "pool_A.images", "pool_A.count", "schedule.step"} <= a.keys()
    assert int(a["pool_B.count"]) == 5 and int(a["schedule.step"]) == 7
    assert _log(straight) == _log(resumed)
    config = CycleGANConfig(**{**TINY, "steps": 7})
    assert [e["lr"] for e in _log(straight)] == pytest.approx([learning_rate(s, config) for s in range(7)])
    assert [e["lr"] for e in _log(straight)] == pytest.approx([2e-4, 2e-4, 2e-4, 1.5e-4, 1e-4, 0.5e-4, 0.0])
    optim = checkpoint.read(straight)[0]["optimizers"]
    assert optim["G"]["param_groups"][0]["lr"] == 0.0 and optim["D"]["param_groups"][0]["lr"] == 0.0


def test_translates_both_ways_at_any_size(tmp_path):
    ds = domains(3, 3)
    out = baselines.train("cyclegan", ds, out_dir=tmp_path, overrides=TINY, steps=2, progress=False)
    model = baselines.load(out, device="cpu")
    a, b = ds.split("train").inputs, ds.split("train").samples
    ab, ba = model.translate(a[:5]), model.translate(b[:3], inverse=True)
    assert ab.shape == (5, 3, 16, 16) and ba.shape == (3, 3, 16, 16) and ab.dtype == ba.dtype == np.uint8
    # Fully convolutional: any size, odd sides included (reflection padded, cropped back).
    big = np.random.default_rng(1).integers(0, 256, (2, 3, 23, 30), dtype=np.uint8)
    assert model.translate(big).shape == (2, 3, 23, 30) and model.translate(big, inverse=True).shape == (2, 3, 23, 30)
    np.testing.assert_array_equal(model.translate(a[:5], batch_size=2), ab)  # instance norm: per image
    with pytest.raises(GenbenchError, match="translate expects N×3×16×16 input"):
        model.translate(a[:2, :1])


def test_history_buffer_returns_the_new_image_half_the_time_once_full():
    size, shape = 50, (1, 2, 2)
    buffer = HistoryBuffer(size, shape)
    gen = torch.Generator().manual_seed(0)
    first = torch.arange(60, dtype=torch.float32)[:, None, None, None].expand(60, *shape)
    out = buffer.query(first[:50], gen)
    assert torch.equal(out, first[:50]) and int(buffer.count) == 50  # filling: the new images come back
    out = buffer.query(first[50:], gen)  # full from here on
    assert buffer.images.shape == (size, *shape) and int(buffer.count) == 50  # never more than 50 stored
    n, new_returned = 4000, 0
    for i in range(n):
        image = torch.full((1, *shape), 1000.0 + i)
        stored_before = set(buffer.images[:, 0, 0, 0].tolist())
        got = buffer.query(image, gen)
        value = float(got[0, 0, 0, 0])
        if value == 1000.0 + i:
            new_returned += 1
            assert set(buffer.images[:, 0, 0, 0].tolist()) == stored_before  # kept out of the buffer
        else:
            assert value in stored_before  # an old image, replaced by the new one
            assert 1000.0 + i in set(buffer.images[:, 0, 0, 0].tolist())
    share = new_returned / n
    assert abs(share - 0.5) < 4 * (0.25 / n) ** 0.5  # binomial(4000, ½): 4σ = 0.032
    assert HistoryBuffer(0, shape).query(first[:3], gen).shape == (3, *shape)  # size 0: no history


def test_learning_rate_is_constant_then_linear_to_zero():
    config = CycleGANConfig(lr=2e-4, lr_constant_steps=500, lr_decay_steps=500, steps=1000)
    assert learning_rate(0, config) == 2e-4
    assert learning_rate(500, config) == 2e-4  # the first half, steps 0..499, and the start of the decay
    assert learning_rate(750, config) == pytest.approx(1e-4)  # 3/4: half the rate
    assert learning_rate(999, config) == pytest.approx(2e-4 / 500)  # the last step
    assert learning_rate(1000, config) == 0.0 and learning_rate(5000, config) == 0.0
    assert learning_rate(3, CycleGANConfig(lr_constant_steps=3, lr_decay_steps=0)) == 2e-4
    assert learning_rate(4, CycleGANConfig(lr_constant_steps=3, lr_decay_steps=0)) == 0.0


def test_lsgan_loss_is_the_mean_squared_distance_to_the_label():
    logits = torch.tensor([[0.5, 2.0], [-1.0, 1.0]])
    assert float(lsgan_loss(logits, True)) == pytest.approx((0.25 + 1.0 + 4.0 + 0.0) / 4)
    assert float(lsgan_loss(logits, False)) == pytest.approx((0.25 + 4.0 + 1.0 + 1.0) / 4)


def _one_step(overrides: dict, ch_a: int = 1, ch_b: int = 1):
    """(nets before the step, batch, losses of one train_step)."""
    ds = domains(ch_a, ch_b)
    config = SPEC.default_config(ds)
    config = type(config)(**{**config.__dict__, **TINY, **overrides})
    torch.manual_seed(0)
    nets = SPEC.build(config)
    before = copy.deepcopy(nets)
    train = ds.split("train")
    batch = Batch(x=torch.as_tensor(train.samples[:4]).float() / 127.5 - 1,
                  cond=torch.as_tensor(train.inputs[:4]).float() / 127.5 - 1)
    losses = SPEC.train_step(nets, SPEC.make_optimizers(nets, config), batch, torch.Generator().manual_seed(0), config)
    return before, batch, losses


def test_cycle_loss_is_ten_times_l1_both_ways_when_the_gan_terms_are_off():
    before, batch, losses = _one_step(dict(lambda_gan=0.0, lambda_identity=0.0))
    a, b = batch.cond, batch.x
    G, F_ = before["G"], before["F"]
    with torch.no_grad():
        l1 = (F_(G(a)) - a).abs().mean() + (G(F_(b)) - b).abs().mean()
    assert float(losses["cycle"]) == pytest.approx(float(l1), rel=1e-5)
    assert float(losses["G"]) == pytest.approx(10 * float(l1), rel=1e-5)


def test_generator_and_discriminator_objectives_follow_the_paper():
    before, batch, losses = _one_step(dict(pool_size=0))  # no history: D sees this step's fakes
    with torch.no_grad():
        _check_objectives(before, batch, losses)


def _check_objectives(before, batch, losses):
    a, b = batch.cond, batch.x
    G, F_, D_A, D_B = before["G"], before["F"], before["D_A"], before["D_B"]
    fake_b, fake_a = G(a), F_(b)
    gan = ((D_B(fake_b) - 1) ** 2).mean() + ((D_A(fake_a) - 1) ** 2).mean()
    cycle = (F_(fake_b) - a).abs().mean() + (G(fake_a) - b).abs().mean()
    identity = (G(b) - b).abs().mean() + (F_(a) - a).abs().mean()
    assert float(losses["G"]) == pytest.approx(float(gan + 10 * cycle + 0.5 * 10 * identity), rel=1e-5)
    assert float(losses["identity"]) == pytest.approx(float(identity), rel=1e-5)
    # D (not yet updated) against the fakes of the generators before their update, halved.
    d_b = 0.5 * (((D_B(b) - 1) ** 2).mean() + (D_B(fake_b) ** 2).mean())
    d_a = 0.5 * (((D_A(a) - 1) ** 2).mean() + (D_A(fake_a) ** 2).mean())
    assert float(losses["D_B"]) == pytest.approx(float(d_b), rel=1e-5)
    assert float(losses["D_A"]) == pytest.approx(float(d_a), rel=1e-5)


def test_identity_loss_needs_equal_channel_counts(tmp_path):
    ds = domains(1, 3)
    config = SPEC.default_config(ds)
    assert config.lambda_identity == 0.0 and SPEC.default_config(domains(3, 3)).lambda_identity == 0.5
    out = baselines.train("cyclegan", ds, out_dir=tmp_path, overrides=TINY, steps=1, progress=False)
    model = baselines.load(out, device="cpu")
    a = ds.split("train").inputs[:2]
    assert model.translate(a).shape == (2, 3, 16, 16)
    assert model.translate(model.translate(a), inverse=True).shape == (2, 1, 16, 16)
    with pytest.raises(GenbenchError, match="identity loss needs the same channel count in both domains "
                                            r"\(A has 1, B has 3\); set lambda_identity=0"):
        baselines.train("cyclegan", ds, out_dir=tmp_path / "x", overrides={**TINY, "lambda_identity": 0.5},
                        steps=1, progress=False)


def test_the_paper_generator_and_the_digit_profiles():
    with torch.device("meta"):
        nets = SPEC.build(CycleGANConfig(data_shape=(3, 256, 256), cond_shape=(3, 256, 256)))
    convs = [(m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0], type(m).__name__)
             for m in nets["G"].modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert convs[:3] == [(3, 64, 7, 1, "Conv2d"), (64, 128, 3, 2, "Conv2d"), (128, 256, 3, 2, "Conv2d")]
    assert convs[3:21] == [(256, 256, 3, 1, "Conv2d")] * 18  # 9 residual blocks of two convs
    assert convs[21:] == [(256, 128, 3, 2, "ConvTranspose2d"), (128, 64, 3, 2, "ConvTranspose2d"),
                          (64, 3, 7, 1, "Conv2d")]
    assert sum(isinstance(m, nn.InstanceNorm2d) for m in nets["G"].modules()) == 1 + 2 + 18 + 2
    assert sum(isinstance(m, nn.ReflectionPad2d) for m in nets["G"].modules()) == 2 + 18
    d = [m for m in nets["D_B"].modules() if isinstance(m, nn.Conv2d)]
    assert len(d) == 5 and d[0].in_channels == 3  # 70×70 PatchGAN
    config = CycleGANConfig()
    assert (config.lambda_cycle, config.lambda_identity, config.pool_size, config.lr, config.beta1,
            config.batch_size) == (10.0, 0.5, 50, 2e-4, 0.5, 1)
    for profile in ("quick", "full"):
        values = SPEC.profile_values("image", profile)
        assert values["lr_constant_steps"] + values["lr_decay_steps"] == values["steps"]
        assert values["n_downsampling"] == 1 and values["d_layers"] == 1
    out = torch.zeros(2, 1, 28, 28)
    d_out = SPEC.build(CycleGANConfig(**{k: v for k, v in SPEC.profile_values("image", "quick").items()},
                                      data_shape=(1, 28, 28), cond_shape=(1, 28, 28)))["D_B"](out)
    assert d_out.shape == (2, 1, 12, 12)  # 16×16 patches on a 28×28 digit


@pytest.mark.parametrize("name, channels", [("mnist-uci", 1), ("mnist-mnistm", 3)])
def test_default_configs_for_the_shipped_digit_domains(name, channels):
    from genbench.data import load_dataset

    config = baselines.default_config("cyclegan", load_dataset(name), "quick")
    assert config.cond_shape == config.data_shape == (channels, 28, 28) and config.lambda_identity == 0.5
    assert (config.lr_constant_steps, config.lr_decay_steps, config.steps) == (600, 600, 1200)
