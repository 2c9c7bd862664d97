"""Image-conditioned models: paired and unpaired data, the shared loop, resume and translate.

The models here are toys defined in the test (no image-to-image baseline exists yet): a 1×1 conv
followed by a nearest 2× upsampling, which can learn "invert the grey levels and upsample" exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import baselines
from baselines import checkpoint
from baselines.codec import DataCodec
from baselines.spec import Batch, ImageConditionConfig, ModelSpec
from baselines.training import _INPUTS, BatchReader, EpochOrder, train_model
from genbench.data.dataset import Dataset, Split, compute_fingerprint
from genbench.errors import GenbenchError
from genbench.sources import open_source

REPO = Path(__file__).resolve().parents[2]


@dataclass
class ToyConfig(ImageConditionConfig):
    lr: float = 0.05
    batch_size: int = 8
    steps: int = 6
    checkpoint_every: int = 100


class InvertUpsample(ModelSpec):
    """Learns target = upsample(255 − input): in tanh space, x = upsample(−cond)."""

    name = "toy-invert"
    paper = "test toy"
    kinds = ("image",)
    conditioning = "image"
    config_class = ToyConfig

    def build(self, config):
        return nn.ModuleDict({"G": nn.Conv2d(config.cond_shape[0], config.data_shape[0], 1)})

    def make_optimizers(self, nets, config):
        return {"G": torch.optim.Adam(nets["G"].parameters(), lr=config.lr)}

    def generate(self, nets, cond, z, config):
        return torch.tanh(F.interpolate(nets["G"](cond), size=config.data_shape[1:], mode="nearest"))

    def train_step(self, nets, opts, batch, gen, config):
        loss = (self.generate(nets, batch.cond, None, config) - batch.x).pow(2).mean()
        opts["G"].zero_grad(set_to_none=True)
        loss.backward()
        opts["G"].step()
        return {"loss": loss.detach()}


class UnpairedToy(InvertUpsample):
    """Reads two domains; its loss only matches grey-level means (enough to exercise the loop)."""

    name = "toy-unpaired"
    pairing = "unpaired"

    def train_step(self, nets, opts, batch, gen, config):
        loss = (self.generate(nets, batch.cond, None, config).mean() - batch.x.mean()).pow(2)
        opts["G"].zero_grad(set_to_none=True)
        loss.backward()
        opts["G"].step()
        return {"loss": loss.detach()}


def paired_dataset(n: int = 48, name: str = "pairs-tiny") -> Dataset:
    rng = np.random.default_rng(0)

    def split(m):
        small = rng.integers(30, 226, (m, 1, 4, 4), dtype=np.uint8)
        big = (255 - small).repeat(2, axis=2).repeat(2, axis=3)  # the independent oracle of the task
        return Split(big, inputs=small)

    splits = {"train": split(n), "test": split(8)}
    return Dataset(name, "image", splits, compute_fingerprint(name, splits))


def unpaired_dataset(n_a: int = 24, n_b: int = 40, name: str = "domains-tiny") -> Dataset:
    """Image i of each domain is filled with grey level i, so a batch tells which rows it holds."""
    a = np.arange(n_a, dtype=np.uint8)[:, None, None, None].repeat(4, 2).repeat(4, 3)
    b = (100 + np.arange(n_b, dtype=np.uint8))[:, None, None, None].repeat(8, 2).repeat(8, 3)
    splits = {"train": Split(b, inputs=a, paired=False)}
    return Dataset(name, "image", splits, compute_fingerprint(name, splits))


@pytest.fixture
def registered(monkeypatch):
    """``baselines.load`` finds specs by name: register the toys for the test's duration."""
    monkeypatch.setattr(baselines.MODELS, "_specs", dict(baselines.MODELS._specs))
    for spec in (InvertUpsample(), UnpairedToy()):
        baselines.MODELS.register(spec)
    return baselines.MODELS


def _tensors(path) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in checkpoint.read(path)[1].items()}


def test_paired_model_learns_the_task_resumes_bit_exactly_and_translates(registered, tmp_path):
    ds, spec = paired_dataset(), registered["toy-invert"]
    config = spec.default_config(ds)
    assert config.cond_shape == (1, 4, 4) and config.data_shape == (1, 8, 8)
    straight = train_model(spec, ds, out_dir=tmp_path / "a", config=config, steps=150, progress=False)
    train_model(spec, ds, out_dir=tmp_path / "b", config=config, steps=70, progress=False)
    resumed = train_model(spec, ds, out_dir=tmp_path / "b", config=config, steps=150, progress=False)
    a, b = _tensors(straight), _tensors(resumed)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)

    model = baselines.load(straight, device="cpu")
    assert model.can_translate and model.conditioning == "image"
    test = ds.split("test")
    out = model.translate(test.inputs)
    assert out.shape == (8, 1, 8, 8) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - test.samples.astype(int)).mean() < 6  # learnt 255 − x, upsampled
    np.testing.assert_array_equal(out, model.translate(test.inputs, batch_size=3))
    losses = [json.loads(x)["loss"] for x in (straight / checkpoint.LOG_FILE).read_text().splitlines()]
    assert losses[-1] < losses[0] / 10
    with pytest.raises(GenbenchError, match=r"translate expects N×1×4×4 input, got shape \(2, 1, 8, 8\)"):
        model.translate(test.samples[:2])
    with pytest.raises(GenbenchError, match="conditions on images: translate input images"):
        model.sample(4)
    with pytest.raises(GenbenchError, match="conditions on images and has nothing to sample from"):
        open_source(straight)
    translated = np.concatenate(list(open_source(straight, inputs=test).batches(8, batch_size=5)))
    np.testing.assert_array_equal(translated, out)


def test_paired_batches_hold_each_targets_own_input():
    ds, spec = paired_dataset(), InvertUpsample()
    config = spec.default_config(ds)
    train = ds.split("train")
    codec = DataCodec.fit("image", spec.image_range, train.samples)
    read = BatchReader(spec, config, train, codec, 0, torch.device("cpu"))
    for step in (0, 5, 11):
        batch = read(step)
        idx = EpochOrder(len(train), config.batch_size, 0).indices(step).numpy()
        np.testing.assert_array_equal(codec.decode(batch.x), train.samples[idx])
        np.testing.assert_array_equal(codec.decode(batch.cond), train.inputs[idx])


def _rows(batch: Batch, codec) -> tuple[list[int], list[int]]:
    """(input-domain rows, target-domain rows) of a batch, read back from the grey levels."""
    return ([int(v) for v in codec.decode(batch.cond)[:, 0, 0, 0]],
            [int(v) - 100 for v in codec.decode(batch.x)[:, 0, 0, 0]])


def test_unpaired_domains_are_two_independent_reproducible_streams():
    spec = UnpairedToy()

    def streams(ds, seed, steps=6):
        config = spec.default_config(ds)
        train = ds.split("train")
        codec = DataCodec.fit("image", spec.image_range, train.samples)
        read = BatchReader(spec, config, train, codec, seed, torch.device("cpu"))
        rows = [_rows(read(s), codec) for s in range(steps)]
        return [r for a, _ in rows for r in a], [r for _, b in rows for r in b]

    a, b = streams(unpaired_dataset(), 0)
    assert (a, b) == streams(unpaired_dataset(), 0)  # reproducible
    assert sorted(a[:24]) == list(range(24)) and sorted(a[24:48]) == list(range(24))  # epochs of domain A
    assert sorted(b[:40]) == list(range(40))  # an epoch of domain B
    assert a[:24] != b[:24] and a[:24] != a[24:48]  # orders differ between domains and epochs
    # Domain A's order is its own stream: it does not depend on domain B's size, only on the seed.
    a_other_b, b_other = streams(unpaired_dataset(n_b=56), 0)
    assert a_other_b == a and b_other[:40] != b
    assert streams(unpaired_dataset(), 1)[0] != a
    # ... and it is the input stream's seeded order, not the data stream's.
    expected = torch.cat([EpochOrder(24, 8, 0, _INPUTS).indices(s) for s in range(6)]).tolist()
    assert a == expected


def test_unpaired_model_trains_and_resumes_bit_exactly(registered, tmp_path):
    ds, spec = unpaired_dataset(), registered["toy-unpaired"]
    straight = train_model(spec, ds, out_dir=tmp_path / "a", steps=7, progress=False)
    train_model(spec, ds, out_dir=tmp_path / "b", steps=4, progress=False)
    resumed = train_model(spec, ds, out_dir=tmp_path / "b", steps=7, progress=False)
    a, b = _tensors(straight), _tensors(resumed)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert baselines.load(resumed).translate(ds.split("train").inputs[:3]).shape == (3, 1, 8, 8)


def test_image_models_refuse_data_they_cannot_read(tmp_path):
    with pytest.raises(GenbenchError, match="needs \\(input, target\\) pairs but dataset 'domains-tiny'"):
        InvertUpsample().default_config(unpaired_dataset())
    with pytest.raises(GenbenchError, match="has no input images"):
        plain = {"train": Split(np.zeros((8, 1, 8, 8), np.uint8))}
        InvertUpsample().default_config(Dataset("plain", "image", plain, compute_fingerprint("plain", plain)))
    with pytest.raises(GenbenchError, match="paired split has 3 inputs for 4 targets"):
        Split(np.zeros((4, 1, 8, 8), np.uint8), inputs=np.zeros((3, 1, 4, 4), np.uint8))
    spec = InvertUpsample()
    config = spec.default_config(paired_dataset())
    other = type(config)(**{**config.__dict__, "cond_shape": (1, 2, 2)})
    with pytest.raises(GenbenchError, match=r"config is for input images of shape \(1, 2, 2\)"):
        train_model(spec, paired_dataset(), out_dir=tmp_path, config=other, steps=1, progress=False)
    with pytest.raises(GenbenchError, match="batch_size 30 is larger than the input domain \\(24 samples\\)"):
        train_model(UnpairedToy(), unpaired_dataset(), out_dir=tmp_path / "u", overrides={"batch_size": 30},
                    steps=1, progress=False)


def test_contract_problems_name_the_mistake():
    from baselines.gan import GANSpec
    from baselines.spec import contract_problem

    class NoCondShape(GANSpec):
        conditioning = "image"

    class Sideways(InvertUpsample):
        pairing = "sideways"

    assert contract_problem(InvertUpsample()) is None and contract_problem(UnpairedToy()) is None
    assert "must subclass baselines.spec.ImageConditionConfig" in contract_problem(NoCondShape())
    assert "pairing 'sideways' is not one of paired, unpaired" == contract_problem(Sideways())
    assert all(contract_problem(baselines.get_spec(name)) is None for name in baselines.MODELS)


def test_fingerprints_without_inputs_are_unchanged_and_pairing_counts():
    from genbench.data import load_dataset

    # Recorded before splits could hold inputs: the gate baseline's mnist-5k and ring8's then value.
    baseline = json.loads((REPO / "reports" / "baselines" / "mnist.json").read_text())
    assert load_dataset("mnist-5k").fingerprint.to_dict() == baseline["protocols"]["mnist-5k"]["dataset"]
    assert load_dataset("ring8").fingerprint.sha256 == "caaee949b8f03a622cd310159804730a945ce78f21cd2cc91e8e905768501831"
    x, a = np.zeros((4, 1, 8, 8), np.uint8), np.ones((4, 1, 4, 4), np.uint8)
    plain, paired, unpaired = ({"train": Split(x)}, {"train": Split(x, inputs=a)},
                               {"train": Split(x, inputs=a, paired=False)})
    prints = {compute_fingerprint("d", s).sha256 for s in (plain, paired, unpaired)}
    assert len(prints) == 3
    assert Dataset("d", "image", paired, compute_fingerprint("d", paired)).pairing == "paired"
    assert Dataset("d", "image", unpaired, compute_fingerprint("d", unpaired)).pairing == "unpaired"
    assert Dataset("d", "image", plain, compute_fingerprint("d", plain)).pairing is None
