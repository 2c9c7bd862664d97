"""Session fixtures over baseline_fixtures' tiny datasets."""

from __future__ import annotations

import pytest
from baseline_fixtures import make_images, make_points

from genbench.data.dataset import Dataset


@pytest.fixture(scope="session")
def points_ds() -> Dataset:
    return make_points()


@pytest.fixture(scope="session")
def images_ds() -> Dataset:
    return make_images()
