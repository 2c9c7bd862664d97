"""Test-session isolation: no network, no user caches, no real data or weights on this machine.

Every test sees an empty feature cache, an empty MNIST data root (so ``mnist`` falls back to
the embedded ``mnist-5k`` deterministically) and an empty torch hub directory, and genbench is
told it is offline, so an online CI machine behaves exactly like an offline one.
"""

import pytest


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
