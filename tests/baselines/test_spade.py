"""SPADE: spatially-adaptive normalisation, hinge + feature-matching losses, and the shared loop."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import baselines
from baselines import checkpoint
from baselines.codec import DataCodec
from baselines.spade import SPADE, SPEC, decode_labels, hinge_d_loss, hinge_g_loss
from baselines.spec import Batch
from genbench.data.dataset import Dataset
from baseline_fixtures import cut_dataset
from genbench.errors import GenbenchError

TINY = {"ngf": 2, "ndf": 4, "spade_hidden": 4, "batch_size": 4, "log_every": 1, "checkpoint_every": 100}


@pytest.fixture(scope="module")
def labels_tiny() -> Dataset:
    return cut_dataset("mnist-labels", {"train": 24, "test": 6})


def _tensors(path) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in checkpoint.read(path)[1].items()}


def test_trains_resumes_bit_exactly_and_translates(labels_tiny, tmp_path):
    config = dataclasses.replace(SPEC.default_config(labels_tiny), **TINY)
    straight = baselines.train("spade", labels_tiny, out_dir=tmp_path / "a", config=config, steps=3, progress=False)
    baselines.train("spade", labels_tiny, out_dir=tmp_path / "b", config=config, steps=1, progress=False)
    resumed = baselines.train("spade", labels_tiny, out_dir=tmp_path / "b", config=config, steps=3, progress=False)
    a, b = _tensors(straight), _tensors(resumed)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert any(k.endswith("._u") for k in a)  # spectral norm's power-iteration state is checkpointed

    model = baselines.load(straight, device="cpu")
    inputs = labels_tiny.split("test").inputs
    out = model.translate(inputs)
    assert out.shape == (6, 1, 28, 28) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, model.translate(inputs, batch_size=4))


def test_quick_profile_geometry(labels_tiny):
    config = SPEC.default_config(labels_tiny, "quick")
    assert (config.n_up, config.d_layers, config.num_d, config.lambda_fm) == (2, 2, 2, 10.0)
    assert (config.lr_g, config.lr_d, config.beta1, config.beta2) == (1e-4, 4e-4, 0.0, 0.999)
    nets = SPEC.build(config)
    assert nets["G"].start == (7, 7)
    logits = [scale[-1] for scale in nets["D"](torch.zeros(1, 12, 28, 28))]
    assert len(logits) == 2 and logits[1].shape[-1] < logits[0].shape[-1]  # the second scale is coarser
    with pytest.raises(GenbenchError, match="one-channel uint8 label map"):
        SPEC.build(dataclasses.replace(config, cond_shape=(3, 28, 28)))
    with pytest.raises(GenbenchError, match="divisible by 8"):
        SPEC.build(dataclasses.replace(config, n_up=3))


def test_the_model_decodes_the_label_map_it_is_given():
    maps = np.array([[[[0, 20, 40], [200, 180, 0]]]], np.uint8)  # classes 0, 1, 2 / 10, 9, 0
    onehot = decode_labels(DataCodec("image", "tanh").encode(maps, torch.device("cpu")), SPEC.config_class())
    assert onehot.shape == (1, 11, 2, 3) and torch.equal(onehot.sum(1), torch.ones(1, 2, 3))
    assert onehot.argmax(1).tolist() == [[[0, 1, 2], [10, 9, 0]]]


def _onehot(index: torch.Tensor, classes: int = 11) -> torch.Tensor:
    return F.one_hot(index, classes).permute(0, 3, 1, 2).float()


def test_spade_modulates_only_where_the_label_map_changes():
    torch.manual_seed(0)
    spade = SPADE(3, 11, 4).eval()  # running statistics: mean 0, var 1
    x = torch.randn(1, 3, 12, 12)
    labels = torch.full((1, 12, 12), 3)
    changed = labels.clone()
    changed[0, 2:4, 2:4] = 7  # one 2×2 region gets another class
    gamma_a, beta_a = spade.modulation(_onehot(labels), (12, 12))
    gamma_b, beta_b = spade.modulation(_onehot(changed), (12, 12))
    out_a, out_b = spade(x, _onehot(labels)), spade(x, _onehot(changed))
    # out = BN(x)·(1 + γ) + β, with BN in eval mode at its initial statistics
    torch.testing.assert_close(out_a, x / (1 + 1e-5) ** 0.5 * (1 + gamma_a) + beta_a)
    # Two 3×3 convolutions: a change reaches 2 pixels beyond the region and no further.
    near = torch.zeros(12, 12, dtype=torch.bool)
    near[0:6, 0:6] = True
    for a, b in ((gamma_a, gamma_b), (beta_a, beta_b), (out_a, out_b)):
        moved = (a - b).abs().amax(dim=(0, 1)) > 0
        assert moved[2:4, 2:4].all() and not moved[~near].any()
    # A label map at a coarser resolution is resized (nearest) to the layer: the same γ, β.
    coarse = _onehot(labels[:, ::2, ::2])
    torch.testing.assert_close(spade.modulation(coarse, (12, 12))[0], gamma_a)


def test_hinge_losses_match_their_formula_on_hand_computed_values():
    real = torch.tensor([2.0, 0.5, -1.0])
    fake = torch.tensor([-2.0, 0.0, 1.0])
    # max(0, 1 − real) = [0, 0.5, 2] → 2.5/3; max(0, 1 + fake) = [0, 1, 2] → 1
    assert float(hinge_d_loss(real, fake)) == pytest.approx(2.5 / 3 + 1.0)
    assert float(hinge_g_loss(fake)) == pytest.approx(1.0 / 3)


def test_generator_loss_is_hinge_plus_ten_times_feature_matching(labels_tiny):
    config = dataclasses.replace(SPEC.default_config(labels_tiny), **TINY)
    torch.manual_seed(2)
    nets = SPEC.build(config)
    before = copy.deepcopy(nets)
    codec = DataCodec("image", "tanh")
    train = labels_tiny.split("train")
    batch = Batch(codec.encode(train.samples[:4], torch.device("cpu")), codec.encode(train.inputs[:4], torch.device("cpu")))
    losses = SPEC.train_step(nets, SPEC.make_optimizers(nets, config), batch, torch.Generator(), config)

    segmap = decode_labels(batch.cond, config)
    fake = before["G"](segmap)
    d_fake = before["D"](torch.cat([segmap, fake], 1))
    d_real = before["D"](torch.cat([segmap, batch.x], 1))
    gan = -(d_fake[0][-1].mean() + d_fake[1][-1].mean()).detach() / 2
    fm = sum((f - r).abs().mean() for s in range(2) for f, r in zip(d_fake[s][:-1], d_real[s][:-1])).detach() * 10 / 2
    assert float(losses["loss_g_gan"]) == pytest.approx(float(gan), rel=1e-4, abs=1e-6)
    assert float(losses["loss_fm"]) == pytest.approx(float(fm), rel=1e-4)
    assert float(losses["loss_g"]) == pytest.approx(float(gan + fm), rel=1e-4)
    assert float(losses["loss_d"]) > 0


@pytest.mark.parametrize("name, problem", [
    ("mnist-edges", r"dataset 'mnist-edges-tiny' has inputs with \d+ other grey level\(s\) \(e\.g\. \d+\): they are not label maps"),
    ("photos-sr4", r"dataset 'photos-sr4-tiny' has uint8 inputs of shape 3×\d+×\d+"),
])
def test_input_that_is_not_a_label_map_is_refused_in_one_line(name, problem):
    ds = cut_dataset(name, {"train": 4, "test": 2})
    with pytest.raises(GenbenchError, match=r"^spade needs one-channel uint8 label maps .*e\.g\. mnist-labels\), but "
                       + problem) as exc:
        baselines.default_config("spade", ds, "quick")
    assert "\n" not in str(exc.value)


def test_suite_with_spade_on_edges_fails_at_validation(tmp_path):
    from genbench.suite import SuiteError, load_suite

    (tmp_path / "s.yaml").write_text("name: s\ndataset: mnist-edges\nmodels: [spade]\nevaluation: {metrics: [l1]}\n")
    with pytest.raises(SuiteError, match=r"s.yaml:\d+: models\[0\].model: spade needs one-channel uint8 label maps.*"
                                         r"'mnist-edges'"):
        load_suite(tmp_path / "s.yaml")
