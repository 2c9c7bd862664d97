"""Test-session isolation: no network, no user caches, no real data or weights on this machine.

Every test sees an empty feature cache, an empty MNIST data root (so ``mnist`` falls back to
the embedded ``mnist-5k`` deterministically) and an empty torch hub directory, and genbench is
told it is offline, so an online CI machine behaves exactly like an offline one.
"""

import sys
from pathlib import Path

import pytest
import torch

# Shared test helpers (fake backends, tiny datasets, a headless browser) live in tests/helpers,
# importable from every test folder by their own module names.
sys.path.insert(0, str(Path(__file__).parent / "helpers"))

from suite_fakes import FAKE_REGISTRIES_KW, SUITE_YAML  # noqa: E402

from genbench.suite import Registries  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _isolated_environment(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv("GENBENCH_OFFLINE", "1")
    patch.setenv("GENBENCH_CACHE", str(tmp_path_factory.mktemp("genbench-cache")))
    patch.setenv("GENBENCH_DATA", str(tmp_path_factory.mktemp("genbench-data")))
    patch.setenv("TORCH_HOME", str(tmp_path_factory.mktemp("torch-home")))
    patch.delenv("GENBENCH_INCEPTION_WEIGHTS", raising=False)
    yield
    patch.undo()


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Unit tests use small tensors, where torch's thread pool costs more than it gains, and on a
    shared, oversubscribed CPU its spinning threads made them 3-40× slower (measured: KID on
    200×128 features 32 s with 2 threads, 0.8 s with 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def registries():
    """Suite registries with fake models and datasets: no torch models, no data."""
    return Registries(**FAKE_REGISTRIES_KW)


@pytest.fixture
def suite_file(tmp_path):
    p = tmp_path / "fake.yaml"
    p.write_text(SUITE_YAML)
    return p
