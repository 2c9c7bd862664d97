"""stackgan: conditioning augmentation and its KL, the matching-aware discriminator loss, the
Stage I → Stage II schedule, bit-exact resume through the shared loop, and caption sampling."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import baselines
from baselines import checkpoint
from baselines.stackgan import ConditioningAugmentation, conditioning_kl, matching_aware_d_loss, with_stage
from genbench.data.dataset import Dataset
from baseline_fixtures import cut_dataset
from genbench.errors import GenbenchError

TINY = dict(z_dim=4, word_dim=4, text_dim=8, c_dim=4, d_text_dim=4, g_width=4, d_width=4, n_residual=1,
            batch_size=8, stage1_steps=2, log_every=1, checkpoint_every=100)


@pytest.fixture(scope="module")
def captioned_tiny() -> Dataset:
    """48 train / 8 test digits of captioned-digits, captions and vocabulary kept."""
    return cut_dataset("captioned-digits", {"train": 48, "test": 8})


def test_conditioning_kl_matches_the_closed_form():
    mu = torch.tensor([[1.0, 0.0, -2.0], [0.5, -1.0, 0.0]])
    sigma = torch.tensor([[1.0, 2.0, 0.5], [0.5, 1.0, 3.0]])
    # KL(N(μ, σ²) ‖ N(0, I)) = ½ Σ (μ² + σ² − 1 − log σ²) per row, then the batch mean
    rows = [0.5 * sum(m * m + s * s - 1 - math.log(s * s) for m, s in zip(mr, sr))
            for mr, sr in zip(mu.tolist(), sigma.tolist())]
    got = conditioning_kl(mu, torch.log(sigma ** 2))
    assert float(got) == pytest.approx(sum(rows) / 2, rel=1e-6)
    assert float(conditioning_kl(torch.zeros(4, 3), torch.zeros(4, 3))) == 0.0


def test_conditioning_augmentation_draws_mu_plus_sigma_eps():
    ca = ConditioningAugmentation(text_dim=2, c_dim=2)
    with torch.no_grad():
        ca.fc.weight.zero_()
        ca.fc.bias.copy_(torch.tensor([1.0, -1.0, math.log(4.0), 0.0]))  # μ = (1, −1), σ² = (4, 1)
    eps = torch.tensor([[0.5, 2.0]])
    c, mu, logvar = ca(torch.zeros(1, 2), eps)
    torch.testing.assert_close(c, torch.tensor([[1.0 + 2.0 * 0.5, -1.0 + 1.0 * 2.0]]))
    torch.testing.assert_close(mu, torch.tensor([[1.0, -1.0]]))


def test_matching_aware_d_loss_has_the_three_terms():
    # A fake D that reads a logit table by (image id, text id): real images 0..2, fakes 3..5.
    table = torch.tensor([[2.0, -1.0, 0.5], [0.3, 1.5, -0.2], [-0.7, 0.4, 1.0],
                          [0.1, -0.3, 0.6], [0.8, -1.2, 0.2], [-0.4, 0.9, -1.5]])
    d = lambda images, text: table[images, text]  # noqa: E731
    real, fake, text = torch.tensor([0, 1, 2]), torch.tensor([3, 4, 5]), torch.tensor([0, 1, 2])
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    T = table.tolist()
    real_right = sum(math.log(sig(T[i][i])) for i in range(3)) / 3
    real_wrong = sum(math.log(1 - sig(T[i][(i - 1) % 3])) for i in range(3)) / 3  # captions rolled by one
    fake_right = sum(math.log(1 - sig(T[3 + i][i])) for i in range(3)) / 3
    expected = -(real_right + 0.5 * (real_wrong + fake_right))
    assert float(matching_aware_d_loss(d, real, fake, text)) == pytest.approx(expected, rel=1e-6)


def _tensors(path) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in checkpoint.read(path)[1].items()}


def test_stage_one_then_stage_two_and_bit_exact_resume(captioned_tiny, tmp_path):
    ds = captioned_tiny
    init = baselines.train("stackgan", ds, out_dir=tmp_path / "init", overrides=TINY, steps=0, progress=False)
    mid = baselines.train("stackgan", ds, out_dir=tmp_path / "mid", overrides=TINY, steps=2, progress=False)
    straight = baselines.train("stackgan", ds, out_dir=tmp_path / "a", overrides=TINY, steps=4, progress=False)
    baselines.train("stackgan", ds, out_dir=tmp_path / "b", overrides=TINY, steps=1, progress=False)
    resumed = baselines.train("stackgan", ds, out_dir=tmp_path / "b", overrides=TINY, steps=4, progress=False)
    a, b, t0, t2 = _tensors(straight), _tensors(resumed), _tensors(init), _tensors(mid)
    assert a.keys() == b.keys() and not [k for k in a if not np.array_equal(a[k], b[k])]
    log = [json.loads(x) for x in (straight / checkpoint.LOG_FILE).read_text().splitlines()]
    assert [e["stage"] for e in log] == [1.0, 1.0, 2.0, 2.0]
    strip = lambda entries: [{k: v for k, v in e.items() if k != "wall_time_s"} for e in entries]  # noqa: E731
    assert strip(log) == strip([json.loads(x) for x in (resumed / checkpoint.LOG_FILE).read_text().splitlines()])
    nets = lambda prefixes: [k for k in a if k.startswith(prefixes) and not k.startswith("opt")]  # noqa: E731
    stage_one, stage_two = nets(("text.", "CA1.", "G1.", "D1.")), nets(("CA2.", "G2.", "D2."))
    assert stage_one and stage_two
    # Stage I moves in steps 1-2 and is frozen afterwards (BatchNorm statistics included) ...
    assert any(not np.array_equal(t0[k], t2[k]) for k in stage_one)
    assert all(np.array_equal(t2[k], a[k]) for k in stage_one)
    # ... while Stage II waits for step 3.
    assert all(np.array_equal(t0[k], t2[k]) for k in stage_two)
    assert any(not np.array_equal(t2[k], a[k]) for k in stage_two)
    assert int(a["clock.steps_done"]) == 4


def test_samples_follow_the_captions_and_either_stage(captioned_tiny, tmp_path):
    ds = captioned_tiny
    path = baselines.train("stackgan", ds, out_dir=tmp_path, overrides=TINY, steps=3, progress=False)
    model = baselines.load(path)
    captions = ds.split("test").captions[:4]
    two = model.sample_captions(captions, seed=1, batch_size=3)
    assert two.shape == (4, 1, 28, 28) and two.dtype == np.uint8
    np.testing.assert_array_equal(two, model.sample_captions(captions, seed=1))
    one = with_stage(model, 1).sample_captions(captions, seed=1)
    assert one.shape == (4, 1, 28, 28) and not np.array_equal(one, two)
    # Same latent codes, other captions: other outputs (the text reaches both stages); compared in
    # model space, as the barely trained nets' outputs all round to grey.
    z = model.spec.latent(4, torch.Generator().manual_seed(0), model.config)
    cap = torch.as_tensor(captions)
    with torch.no_grad():
        for stage in (1, 2):
            config = with_stage(model, stage).config
            out = model.spec.generate(model.nets, cap, z, config)
            assert not torch.equal(out, model.spec.generate(model.nets, cap.roll(1, 0), z, config))
    with pytest.raises(GenbenchError, match="conditions on captions: sample it with"):
        model.sample(4)
    with pytest.raises(GenbenchError, match=r"expected N×8 token ids"):
        model.sample_captions(captions[:, :5])
    with pytest.raises(GenbenchError, match=r"token ids must lie in 0\.\.23"):
        model.sample_captions(captions + 30)


def test_captions_for_a_dataset_without_them_is_a_one_line_error(images_ds, tmp_path):
    with pytest.raises(GenbenchError, match="model 'stackgan' conditions on captions but dataset 'digits-tiny' has none"):
        baselines.default_config("stackgan", images_ds)
    with pytest.raises(GenbenchError, match="conditions on captions but dataset 'digits-tiny' has none"):
        baselines.train("stackgan", images_ds, out_dir=tmp_path, overrides=TINY, steps=1, progress=False)


def test_a_non_text_model_refuses_captions(images_ds, tmp_path):
    path = baselines.train("dcgan", images_ds, out_dir=tmp_path, steps=1, progress=False,
                           overrides=dict(g_width=4, d_width=4, z_dim=4, batch_size=8))
    with pytest.raises(GenbenchError, match="does not condition on captions"):
        baselines.load(path).sample_captions(np.ones((2, 8), np.int64))
