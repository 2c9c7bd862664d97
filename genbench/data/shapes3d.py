"""``shapes3d``: procedurally generated 32³ voxel shapes of ten primitive classes, for 3D-GAN.

Wu et al. (2016) train on ShapeNet/ModelNet voxelisations, which genbench cannot ship; this
dataset keeps what their evaluation needs (labelled 3-D shapes with intra-class variety) and is
built in seconds from a fixed seed, so every machine gets the same bytes and fingerprint.

Each sample is one primitive (``CLASSES``: cube, sphere, cylinder, cone, torus, pyramid,
octahedron, tube, cross, hemisphere), defined as an implicit inside-test in local coordinates
(bounding radius about 1), then scaled by s ~ U[0.45, 0.85], rotated by a uniformly random 3-D
rotation (normalised Gaussian quaternion) and shifted by t ~ U[-(0.95 - s), 0.95 - s]³, in a cube
[-1, 1]³ sampled at the 32³ voxel centres. Classes are equally frequent in every split (sizes are
multiples of 10). Random numbers come from the legacy ``RandomState`` (numpy freezes its stream),
one seed per split, so the fingerprint is stable across numpy versions.

Value convention: ``uint8`` N×1×32×32×32 occupancy, 0 = empty, 255 = occupied. 0/255 rather than
0/1 so voxels flow through genbench's uint8 paths unchanged: a model's codec maps 0..255 to
[0, 1] (occupancy probability) and back with the same rounding as images, a generator's soft
occupancy survives as 0..255 grades, and pixel-space diagnostics read 255 as "full".
"""

from __future__ import annotations

import numpy as np

from genbench.data.dataset import Dataset, Split, compute_fingerprint

NAME = "shapes3d"
RESOLUTION = 32
CLASSES = ("cube", "sphere", "cylinder", "cone", "torus", "pyramid", "octahedron", "tube", "cross", "hemisphere")
SIZES = {"train": 4000, "val": 500, "test": 1000}  # 5,500 × 32 KiB ≈ 180 MB
SEEDS = {"train": 3000, "val": 3001, "test": 3002}
SCALE_RANGE = (0.45, 0.85)


def _inside(label: int, p: np.ndarray) -> np.ndarray:
    """Inside-test of class ``label`` for local coordinates ``p`` (..., 3) → bool (...)."""
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    r2 = x * x + y * y
    if label == 0:  # cube
        return np.abs(p).max(-1) <= 0.57
    if label == 1:  # sphere
        return r2 + z * z <= 0.8**2
    if label == 2:  # cylinder
        return (r2 <= 0.5**2) & (np.abs(z) <= 0.7)
    if label == 3:  # cone: apex at z = 0.75, base disc of radius 0.65 at z = -0.75
        return (np.abs(z) <= 0.75) & (np.sqrt(r2) <= 0.65 * (0.75 - z) / 1.5)
    if label == 4:  # torus: major radius 0.62, tube radius 0.26
        return (np.sqrt(r2) - 0.62) ** 2 + z * z <= 0.26**2
    if label == 5:  # square pyramid: base half-side 0.7 at z = -0.6, apex at z = 0.75
        return (z >= -0.6) & (z <= 0.75) & (np.maximum(np.abs(x), np.abs(y)) <= 0.7 * (0.75 - z) / 1.35)
    if label == 6:  # octahedron
        return np.abs(p).sum(-1) <= 0.95
    if label == 7:  # tube: hollow cylinder, radii 0.3..0.58
        return (r2 >= 0.3**2) & (r2 <= 0.58**2) & (np.abs(z) <= 0.65)
    if label == 8:  # cross: three orthogonal bars of half-length 0.85, half-width 0.2
        a = np.abs(p)
        bar = lambda i: (a[..., i] <= 0.85) & (np.delete(a, i, axis=-1).max(-1) <= 0.2)  # noqa: E731
        return bar(0) | bar(1) | bar(2)
    if label == 9:  # hemisphere: radius 0.85, flat face at z = -0.35
        return (z >= -0.35) & (r2 + (z + 0.35) ** 2 <= 0.85**2)
    raise ValueError(f"shapes3d has no class {label}")


def _rotations(q: np.ndarray) -> np.ndarray:
    """Unit quaternions (n, 4) → rotation matrices (n, 3, 3)."""
    w, x, y, z = q.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], 1)


def voxel_centres(resolution: int = RESOLUTION) -> np.ndarray:
    """(R³, 3) float64 coordinates of the voxel centres in [-1, 1]³, axis order (D, H, W) = (z, y, x)."""
    c = (np.arange(resolution) + 0.5) / resolution * 2.0 - 1.0
    zz, yy, xx = np.meshgrid(c, c, c, indexing="ij")
    return np.stack([xx.ravel(), yy.ravel(), zz.ravel()], 1)


def draw_poses(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labels (n,), rotations (n, 3, 3), scales (n,) and shifts (n, 3) of ``n`` shapes from one seed."""
    rs = np.random.RandomState(seed)
    labels = np.arange(n, dtype=np.int64) % len(CLASSES)
    rs.shuffle(labels)
    q = rs.standard_normal((n, 4))
    q /= np.sqrt(q[:, 0] ** 2 + q[:, 1] ** 2 + q[:, 2] ** 2 + q[:, 3] ** 2)[:, None]
    scale = rs.uniform(*SCALE_RANGE, size=n)
    shift = rs.uniform(-1.0, 1.0, size=(n, 3)) * (0.95 - scale)[:, None]
    return labels, _rotations(q), scale, shift


def sample_shapes(n: int, seed: int, resolution: int = RESOLUTION) -> Split:
    """``n`` voxel shapes (n a multiple of 10: every class equally often) from one seed."""
    k = len(CLASSES)
    if n % k:
        raise ValueError(f"shapes3d: n={n} is not a multiple of the {k} classes")
    labels, rot, scale, shift = draw_poses(n, seed)
    centres = voxel_centres(resolution)
    out = np.zeros((n, 1, resolution, resolution, resolution), dtype=np.uint8)
    flat = out.reshape(n, -1)
    for i in range(n):
        # world = s·R·local + t  ⇒  local = Rᵀ(world − t)/s. Written as elementwise products and
        # sums (no einsum/BLAS, whose summation order varies by CPU), so every machine gets the
        # same bits, hence the same voxels and fingerprint.
        d = (centres - shift[i]) / scale[i]
        local = d[:, :1] * rot[i, 0] + d[:, 1:2] * rot[i, 1] + d[:, 2:] * rot[i, 2]
        flat[i] = _inside(int(labels[i]), local).astype(np.uint8) * np.uint8(255)
    return Split(samples=out, labels=labels)


def build_shapes3d(sizes: dict[str, int] | None = None, resolution: int = RESOLUTION) -> Dataset:
    """The dataset; other ``sizes``/``resolution`` exist for tests (their fingerprint differs)."""
    sizes = dict(SIZES if sizes is None else sizes)
    splits = {split: sample_shapes(n, SEEDS[split], resolution) for split, n in sizes.items()}
    return Dataset(
        name=NAME,
        kind="voxels",
        splits=splits,
        fingerprint=compute_fingerprint(NAME, splits),
        n_classes=len(CLASSES),
        source=(f"procedural {resolution}³ voxels, classes {', '.join(CLASSES)}; scale U{SCALE_RANGE}, uniform "
                f"random rotation, shift inside [-0.95, 0.95]³; RandomState seeds {dict((s, SEEDS[s]) for s in sizes)}"),
    )


def load_shapes3d() -> Dataset:
    return build_shapes3d()
