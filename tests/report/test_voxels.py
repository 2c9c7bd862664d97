"""Voxel renders for the leaderboard: a shape is drawn where its voxels project, shaded by face."""

import numpy as np
import pytest

from genbench.report.voxels import render_isometric, voxel_grid_png


def test_empty_grid_renders_white_and_a_cube_renders_a_centred_hexagon():
    empty = np.zeros((1, 1, 16, 16, 16), np.uint8)
    cube = empty.copy()
    cube[0, 0, 4:12, 4:12, 4:12] = 255
    out = render_isometric(np.concatenate([empty, cube]), size=48)
    assert out.shape == (2, 3, 48, 48) and out.dtype == np.uint8
    assert (out[0] == 255).all()
    drawn = (out[1] != 255).any(0)
    rows, cols = np.nonzero(drawn)
    # an axis-aligned cube seen along the diagonal is a hexagon centred in the view, as tall as wide·2/√3
    assert abs(rows.mean() - 23.5) < 1.5 and abs(cols.mean() - 23.5) < 1.5
    width, height = cols.max() - cols.min() + 1, rows.max() - rows.min() + 1
    assert height / width == pytest.approx(2 / np.sqrt(3), rel=0.1)
    # three visible faces, three distinct shades: the top is the brightest
    top = out[1, :, rows.min() + 2, int(round(cols.mean()))]
    side = out[1, :, rows.max() - 2, int(round(cols.mean())) - 4]
    assert top.sum() > side.sum()


def test_soft_occupancy_below_half_is_empty():
    x = np.full((1, 1, 8, 8, 8), 127, np.uint8)
    assert (render_isometric(x, size=16) == 255).all()
    x[:] = 128
    assert (render_isometric(x, size=16) != 255).any()


def test_grid_png_and_bad_input():
    png = voxel_grid_png(np.zeros((5, 1, 8, 8, 8), np.uint8), size=16, cols=4)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="uint8 N×1×D×H×W"):
        render_isometric(np.zeros((2, 1, 8, 8), np.uint8))
