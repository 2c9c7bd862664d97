import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from suite_fakes import FAKE_REGISTRIES_KW, SUITE_YAML  # noqa: E402

from genbench.suite import Registries  # noqa: E402



@pytest.fixture
def registries():
    return Registries(**FAKE_REGISTRIES_KW)


@pytest.fixture
def suite_file(tmp_path):
    p = tmp_path / "fake.yaml"
    p.write_text(SUITE_YAML)
    return p
