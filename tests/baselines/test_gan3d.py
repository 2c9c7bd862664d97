"""3dgan (Wu et al. 2016): the adaptive D update, training/resume on voxels, and refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

import baselines
from baselines import checkpoint
from baselines.gan3d import GAN3DConfig, discriminator_accuracy
from baselines.spec import Batch
from baselines.training import build_networks, step_generator
from genbench.data.dataset import Dataset, Split, compute_fingerprint
from genbench.errors import GenbenchError

SPEC = baselines.get_spec("3dgan")
TINY = {"g_widths": [8, 4], "d_widths": [4, 8], "batch_size": 8, "checkpoint_every": 2, "log_every": 1}


def _voxels(n: int = 40, side: int = 16) -> Dataset:
    """Tiny voxel data: random axis-aligned boxes, 0/255, two classes (small and large)."""
    rs = np.random.RandomState(0)
    x = np.zeros((n, 1, side, side, side), np.uint8)
    labels = np.arange(n) % 2
    for i in range(n):
        a = rs.randint(1, 4, 3)
        b = a + (4 if labels[i] == 0 else 9)
        x[i, 0, a[0]:b[0], a[1]:b[1], a[2]:b[2]] = 255
    splits = {"train": Split(x, labels.astype(np.int64)), "test": Split(x[:10], labels[:10].astype(np.int64))}
    return Dataset("tiny-voxels", "voxels", splits, compute_fingerprint("tiny-voxels", splits), n_classes=2)


class MeanD(nn.Module):
    """logit = w · (mean occupancy − 0.75): with all-full real shapes and sigmoid(≈0) fakes,
    w > 0 classifies the whole batch right (accuracy 1), w < 0 wrong (accuracy 0)."""

    def __init__(self, w: float):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x):
        return self.w * (x.flatten(1).mean(1) - 0.75)


def _step_with_d(w: float):
    config = SPEC.config_class(**{**TINY, "data_shape": (1, 16, 16, 16)})
    nets = build_networks(SPEC, config, 0)
    nets["D"] = MeanD(w)
    opts = SPEC.make_optimizers(nets, config)
    before = {k: v.clone() for k, v in nets.state_dict().items()}
    x = torch.ones(8, 1, 16, 16, 16)  # real: every voxel occupied
    losses = SPEC.train_step(nets, opts, Batch(x), step_generator(0, 0, torch.device("cpu")), config)
    after = nets.state_dict()
    return losses, before, after


def test_d_is_skipped_when_its_batch_accuracy_exceeds_0_8_and_updated_otherwise():
    losses, before, after = _step_with_d(10.0)  # right on every sample: accuracy 1 > 0.8
    assert float(losses["d_accuracy"]) == 1.0 and float(losses["d_updated"]) == 0.0
    assert torch.equal(before["D.w"], after["D.w"])
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("G."))  # G still learns

    losses, before, after = _step_with_d(-10.0)  # wrong on every sample: accuracy 0 <= 0.8
    assert float(losses["d_accuracy"]) == 0.0 and float(losses["d_updated"]) == 1.0
    assert not torch.equal(before["D.w"], after["D.w"])


def test_discriminator_accuracy_counts_real_above_and_fake_below_zero():
    acc = discriminator_accuracy(torch.tensor([1.0, -1.0, 2.0, 3.0]), torch.tensor([-1.0, 1.0, -2.0, -0.5]))
    assert float(acc) == 6 / 8


def test_paper_settings_and_architecture():
    c = GAN3DConfig()
    assert (c.z_dim, c.lr_g, c.lr_d, c.beta1, c.batch_size, c.d_accuracy_threshold) == (200, 0.0025, 1e-5, 0.5, 100, 0.8)
    nets = SPEC.build(c)
    convs = [m for m in nets["G"].modules() if isinstance(m, nn.ConvTranspose3d)]
    assert [m.out_channels for m in convs] == [512, 256, 128, 1] and all(m.kernel_size == (4, 4, 4) for m in convs)
    z = torch.rand(2, 200)
    with torch.no_grad():
        out = SPEC.generate(nets.eval(), None, z, c)
    assert out.shape == (2, 1, 32, 32, 32) and float(out.min()) >= 0 and float(out.max()) <= 1  # sigmoid
    assert nets["D"](out).shape == (2,)
    assert any(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.2 for m in nets["D"].modules())


def test_trains_resumes_bit_exact_and_samples_uint8_voxels(tmp_path):
    ds = _voxels()
    full = baselines.train("3dgan", ds, out_dir=tmp_path / "a", overrides=TINY, steps=4, progress=False)
    baselines.train("3dgan", ds, out_dir=tmp_path / "b", overrides=TINY, steps=2, progress=False)
    resumed = baselines.train("3dgan", ds, out_dir=tmp_path / "b", overrides=TINY, steps=4, progress=False)
    _, ta = checkpoint.read(full)
    _, tb = checkpoint.read(resumed)
    assert ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta)
    log = [json.loads(line) for line in (full / checkpoint.LOG_FILE).read_text().splitlines()]
    assert [e["step"] for e in log] == [1, 2, 3, 4] and all("d_updated" in e for e in log)
    model = baselines.load(full)
    samples = model.sample(5, seed=1)
    assert samples.shape == (5, 1, 16, 16, 16) and samples.dtype == np.uint8
    assert np.array_equal(samples, model.sample(5, seed=1))


def test_voxel_model_refuses_images_and_image_model_refuses_voxels(images_ds):
    with pytest.raises(GenbenchError, match="model '3dgan' does not support image data.*supports: voxels"):
        SPEC.default_config(images_ds)
    with pytest.raises(GenbenchError, match="model 'dcgan' does not support voxels data"):
        baselines.get_spec("dcgan").default_config(_voxels())


def test_wrong_voxel_sides_are_one_line_errors():
    odd = Split(np.zeros((10, 1, 12, 12, 12), np.uint8))
    ds = Dataset("odd", "voxels", {"train": odd}, compute_fingerprint("odd", {"train": odd}))
    with pytest.raises(GenbenchError, match="voxel side of 4·2\\^k"):
        baselines.check_config("3dgan", ds, SPEC.default_config(ds))
    with pytest.raises(GenbenchError, match="needs 1 g_widths"):
        SPEC.build(GAN3DConfig(data_shape=(1, 8, 8, 8)))
