"""Voxel samples as pictures: shaded isometric views of the occupied voxels, numpy only.

3D-GAN's figures show generated shapes as rendered solids; a leaderboard of voxel models needs the
same to be read at a glance. Each shape is ray-cast orthographically from the (+x, +y, +z) corner
(x = W, y = H, z = D, with D drawn upwards): the first occupied voxel along a pixel's ray is shown,
Lambert-shaded by the surface normal there (the negative gradient of the occupancy, box-blurred
over 3³ so that a staircase of voxels shades as the surface it approximates), on white. A voxel
is occupied when its value is at least 128 (occupancy probability ≥ 0.5, 3D-GAN's threshold).
"""

from __future__ import annotations

import numpy as np

from genbench.report.figures import image_grid_png

OCCUPIED = 128  # uint8 occupancy 0..255: ≥ 128 is p ≥ 0.5
_LIGHT = np.array([0.35, 0.55, 0.76])  # (x, y, z): from above, front-right of the viewer
_COLOUR = np.array([90.0, 140.0, 210.0])  # the solid's base colour (RGB), scaled by the shade


def _normals(occ: np.ndarray) -> np.ndarray:
    """Unit outward normals (D, H, W, 3) as (x, y, z) of a boolean occupancy grid."""
    f = np.pad(occ.astype(np.float32), 1)
    for axis in range(3):  # 3-voxel box blur along each axis
        f = (np.roll(f, 1, axis) + f + np.roll(f, -1, axis)) / 3.0
    gz, gy, gx = np.gradient(f)
    n = -np.stack([gx, gy, gz], -1)[1:-1, 1:-1, 1:-1]
    return n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-6)


def render_isometric(voxels: np.ndarray, size: int = 64) -> np.ndarray:
    """uint8 ``N×1×D×H×W`` occupancy → uint8 ``N×3×size×size`` shaded isometric views."""
    voxels = np.asarray(voxels)
    if voxels.ndim != 5 or voxels.shape[1] != 1 or voxels.dtype != np.uint8:
        raise ValueError(f"voxels must be uint8 N×1×D×H×W, got {voxels.dtype} {voxels.shape}")
    n, _, depth, height, width = voxels.shape
    side = max(depth, height, width)
    # orthonormal view: looking along -d from the (+,+,+) corner; screen right r, screen up u
    d = -np.ones(3) / np.sqrt(3.0)
    r = np.array([1.0, -1.0, 0.0]) / np.sqrt(2.0)
    u = np.cross(r, d)
    u /= np.linalg.norm(u)
    if u[2] < 0:
        u = -u
    half = side * np.sqrt(3.0) / 2  # the cube's projection fits in [-half, half]²
    coords = (np.arange(size) + 0.5) / size * 2 * half - half
    su, sv = np.meshgrid(coords, -coords)  # row 0 at the top
    centre = np.array([width, height, depth]) / 2.0
    start = centre + su[..., None] * r + sv[..., None] * u - d * (side * 1.8)  # (size, size, 3) as (x, y, z)
    step = 0.25
    ts = np.arange(int(side * 3.6 / step)) * step
    points = start[None] + ts[:, None, None, None] * d  # (T, size, size, 3)
    idx = np.floor(points).astype(np.int64)
    inside = ((idx >= 0) & (idx < np.array([width, height, depth]))).all(-1)
    ix, iy, iz = (np.clip(idx[..., k], 0, m - 1) for k, m in enumerate((width, height, depth)))
    light = _LIGHT / np.linalg.norm(_LIGHT)
    out = np.full((n, 3, size, size), 255, dtype=np.uint8)
    for i in range(n):
        occ = voxels[i, 0] >= OCCUPIED  # (D, H, W)
        hit = inside & occ[iz, iy, ix]
        any_hit = hit.any(0)
        first = np.argmax(hit, axis=0)  # (size, size): the first step inside an occupied voxel
        at = tuple(np.take_along_axis(a, first[None], 0)[0] for a in (iz, iy, ix))
        normal = _normals(occ)[at]  # (size, size, 3)
        shade = 0.35 + 0.65 * np.clip(normal @ light, 0.0, 1.0)
        rgb = np.clip(_COLOUR[:, None, None] * shade[None] + 30.0, 0, 255)
        out[i] = np.where(any_hit[None], rgb, 255).astype(np.uint8)
    return out


def voxel_grid_png(voxels: np.ndarray, *, max_shapes: int = 16, size: int = 64, cols: int = 4) -> bytes:
    """The first ``max_shapes`` voxel samples as a grid of isometric views, PNG bytes."""
    return image_grid_png(render_isometric(np.asarray(voxels)[:max_shapes], size=size), scale=1, cols=cols)
