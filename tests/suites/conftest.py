import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_backend import FAKE_REGISTRIES_KW  # noqa: E402

from genbench.suite import Registries  # noqa: E402

SUITE_YAML = """\
name: fake
description: A fake suite for tests.
dataset: digits
seeds: [0, 1]
steps: 20
models:
  - model: fake-gan
    label: good-gan
    overrides: {quality: 0.95}
  - model: fake-gan
    label: bad-gan
    overrides: {quality: 0.1}
  - model: fake-ae
evaluation:
  n: 50
  split: test
  real_split: train
  extractor: fake-extractor
  metrics: [fid, is, psnr, ssim]
  n_reconstruct: 20
profiles:
  quick:
    seeds: [0, 1]
  full:
    seeds: [0, 1, 2]
    steps: 1000
    evaluation: {n: 100}
    models:
      bad-gan: {steps: 5}
"""


@pytest.fixture
def registries():
    return Registries(**FAKE_REGISTRIES_KW)


@pytest.fixture
def suite_file(tmp_path):
    p = tmp_path / "fake.yaml"
    p.write_text(SUITE_YAML)
    return p
