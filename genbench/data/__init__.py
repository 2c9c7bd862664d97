"""Datasets by name: ``load_dataset("mnist-5k")`` → :class:`Dataset` with train/val/test splits.

``DATASETS`` is the one dataset registry: name → :class:`DatasetSpec` (kind, description, loader,
default extractor). The built-ins live in one module per family: ``mnist`` (IDX files /
torchvision download, falls back loudly to ``mnist-5k``), ``mnist5k`` (embedded asset),
``stacked`` (three digits in R, G, B) and ``toy2d`` (ring8, grid25). Third-party packages add a
``DatasetSpec`` with ``register_dataset`` or under the entry-point group ``genbench.datasets``.
Loaders import their module only when called, so listing datasets reads no data. Every call
builds fresh arrays, so callers may modify what they get.

A *family* entry (``resolve`` set) names datasets by a pattern rather than one name: ``folder:PATH?size=N``
(any folder of images) and ``srN:PATH`` (an SR test folder), :mod:`genbench.data.folder`;
:func:`dataset_spec` resolves a name through the registered names, then the families.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from genbench.data.dataset import SPLITS, Dataset, Fingerprint, ModeSpec, Split, Task, compute_fingerprint
from genbench.errors import GenbenchError
from genbench.registry import Registry

__all__ = [
    "DATASETS",
    "DEFAULT_IMAGE_EXTRACTOR",
    "ENTRY_POINT_GROUP",
    "DatasetSpec",
    "Dataset",
    "Fingerprint",
    "ModeSpec",
    "SPLITS",
    "Split",
    "Task",
    "compute_fingerprint",
    "dataset_spec",
    "default_data_root",
    "expand_dataset_pattern",
    "load_dataset",
    "register_dataset",
]

ENTRY_POINT_GROUP = "genbench.datasets"

# The extractor an image dataset is measured with unless its spec names another; 2-D point
# datasets have none (their metrics work on the points themselves).
DEFAULT_IMAGE_EXTRACTOR = "inception-v3-fid"
_KINDS = ("image", "points", "voxels")  # Dataset.kind


@dataclass(frozen=True)
class DatasetSpec:
    """Everything genbench needs to know about a dataset before (and for) loading it.

    ``loader(data_root)`` builds the :class:`Dataset`; it should import heavy code inside itself,
    so that listing datasets stays cheap. ``extractor`` is the feature extractor the field uses
    for it (None for an image dataset means ``DEFAULT_IMAGE_EXTRACTOR``; points have none).
    ``sample_shape`` and ``n_classes``, when declared, are what a model's default config reads:
    suite validation builds every model's config from them without loading the data (None: the
    validation loads the dataset to find out).
    """

    name: str
    kind: str  # "image", "points" or "voxels"
    description: str
    loader: Callable[[str | os.PathLike | None], Dataset]
    extractor: str | None = None
    sample_shape: tuple[int, ...] | None = None
    n_classes: int | None = None
    # A family of datasets (``folder:PATH?size=N``): name → the spec of that member, or None when
    # the name is not of the family's form (a malformed one of its form is a GenbenchError).
    resolve: Callable[[str], "DatasetSpec | None"] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or self.name.split() != [self.name]:
            raise ValueError(f"dataset name {self.name!r}: a non-empty string without spaces")
        if self.kind not in _KINDS:
            raise ValueError(f"dataset {self.name!r}: kind {self.kind!r} is not one of {', '.join(_KINDS)}")
        if not callable(self.loader):
            raise ValueError(f"dataset {self.name!r}: loader is not callable")
        if self.kind == "points" and self.extractor is not None:
            raise ValueError(f"dataset {self.name!r}: 2-D points have no feature extractor")
        if self.kind == "image" and self.extractor is None:
            object.__setattr__(self, "extractor", DEFAULT_IMAGE_EXTRACTOR)


# Built-ins below; third-party specs from the entry points, read on the first lookup.
DATASETS: Registry[DatasetSpec] = Registry("dataset", DatasetSpec, ENTRY_POINT_GROUP)


def register_dataset(spec: DatasetSpec) -> DatasetSpec:
    """Add ``spec`` (what a third-party package calls, or names under ``genbench.datasets``)."""
    return DATASETS.register(spec)


def default_data_root():
    """Where ``mnist`` looks for ``MNIST/raw``: ``$GENBENCH_DATA`` or ``~/.cache/genbench/data``."""
    from genbench.data.mnist import default_data_root as _default  # lazy, like the loaders below

    return _default()


def dataset_spec(name: str) -> DatasetSpec | None:
    """The spec of a registered name, or of a family member (``folder:PATH?size=64``); None if neither."""
    spec = DATASETS.get(name)
    if spec is not None and spec.resolve is None:
        return spec
    for family in DATASETS.values():
        member = family.resolve(name) if family.resolve is not None else None
        if member is not None:
            return member
    return None


def expand_dataset_pattern(entry: str, data_root: str | os.PathLike | None = None) -> tuple[str, ...] | None:
    """A suite's ``srN:*`` / ``folder:*?size=N``: one dataset per subfolder of the data root holding
    images (none when there is none); None when ``entry`` is not such a pattern."""
    from genbench.data.folder import expand_pattern

    return expand_pattern(entry, data_root)


def load_dataset(name: str, *, data_root: str | os.PathLike | None = None) -> Dataset:
    """Load a dataset by name; ``data_root`` (else ``$GENBENCH_DATA``) is where MNIST and the
    relative paths of folder datasets are looked for."""
    spec = dataset_spec(name)
    if spec is None or spec.resolve is not None:
        raise GenbenchError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)}")
    ds = spec.loader(data_root)
    if not isinstance(ds, Dataset):
        raise GenbenchError(f"dataset {name!r}: its loader returned {type(ds).__name__}, not a genbench.data.Dataset")
    if ds.kind != spec.kind:
        raise GenbenchError(f"dataset {name!r}: its loader returned {ds.kind} data but it is registered as {spec.kind}")
    return ds


# The built-in loaders import their module when called: listing datasets must read no data.
def _mnist(root):
    from genbench.data.mnist import load_mnist

    return load_mnist(root)


def _mnist5k(root):
    from genbench.data.mnist5k import load_mnist5k

    return load_mnist5k()


def _stacked(root):
    from genbench.data.mnist import load_mnist
    from genbench.data.stacked import build_stacked

    return build_stacked(load_mnist(root))


def _ring8(root):
    from genbench.data.toy2d import load_ring8

    return load_ring8()


def _grid25(root):
    from genbench.data.toy2d import load_grid25

    return load_grid25()


# Digits are measured with mnist-classifier: Inception features of 28×28 digits upsampled to
# 299×299 are a poor yardstick (see genbench/features/mnist_classifier.py).
for _spec in (
    DatasetSpec(
        "mnist", "image",
        "MNIST 28×28 digits from local IDX files or a torchvision download: train 50,000 / "
        "val 10,000 (last of the official train) / test 10,000; falls back to mnist-5k with a warning",
        _mnist, extractor="mnist-classifier", sample_shape=(1, 28, 28), n_classes=10,
    ),
    DatasetSpec(
        "mnist-5k", "image",
        "5,000 real MNIST digits shipped with genbench (works offline): train 3,500 / val 500 / "
        "test 1,000, stratified by class",
        _mnist5k, extractor="mnist-classifier", sample_shape=(1, 28, 28), n_classes=10,
    ),
    DatasetSpec(
        "stacked-mnist", "image",
        "three MNIST digits in R, G, B (1000 modes, labels r*100+g*10+b): train 25,000 / "
        "val 5,000 / test 10,000, built with a fixed seed from mnist (or mnist-5k)",
        _stacked, extractor="mnist-classifier", sample_shape=(3, 28, 28), n_classes=1000,
    ),
    DatasetSpec(
        "ring8", "points",
        "8 Gaussians on the unit circle, sigma 0.01: train 20,000 / val 5,000 / test 5,000",
        _ring8, sample_shape=(2,), n_classes=8,
    ),
    DatasetSpec(
        "grid25", "points",
        "25 Gaussians on {-4,-2,0,2,4}², sigma 0.05: train 20,000 / val 5,000 / test 5,000",
        _grid25, sample_shape=(2,), n_classes=25,
    ),
):
    register_dataset(_spec)
del _spec


class _Lazy:
    """A loader that imports ``genbench.data.<module>`` only when called (listing reads no data);
    a class rather than a closure, so a spec pickles for executors."""

    def __init__(self, module: str, function: str):
        self.module, self.function = module, function

    def __call__(self, root):
        import importlib

        return getattr(importlib.import_module(f"genbench.data.{self.module}"), self.function)()


# Image-to-image and captioned digits (one module per family); each dataset carries its Task.
# photos-sr4 keeps the default image extractor (inception-v3-fid) only for commands that ask for
# distribution metrics: the SR protocol scores PSNR/SSIM.
for _spec in (
    DatasetSpec(
        "mnist-mnistm", "image",
        "unpaired MNIST → MNIST-M-like digits (RGB): each mnist-5k split halved by a fixed seed, A = one half "
        "as 3-channel grey, B = the other half as |photo patch − digit| over the shipped train photos "
        "(train 1,750 / val 250 / test 500 per domain)",
        _Lazy("unpaired_digits", "build_mnist_mnistm"), extractor="mnist-classifier", sample_shape=(3, 28, 28),
        n_classes=10,
    ),
    DatasetSpec(
        "mnist-uci", "image",
        "unpaired MNIST ↔ the 1,797 UCI 8×8 hand-written digits (shipped asset), bicubic-upsampled into "
        "MNIST's 20×20 box in 28×28: A = mnist-5k (3,500 / 500 / 1,000), B = UCI (1,259 / 179 / 359)",
        _Lazy("unpaired_digits", "build_mnist_uci"), extractor="mnist-classifier", sample_shape=(1, 28, 28),
        n_classes=10,
    ),
    DatasetSpec(
        "mnist-edges", "image",
        "paired translation: the outer contour of each mnist-5k digit (3×3 dilation minus the stroke, "
        "0/255) → the digit; labels kept; train 3,500 / val 500 / test 1,000",
        _Lazy("paired_digits", "load_mnist_edges"), extractor="mnist-classifier", sample_shape=(1, 28, 28),
        n_classes=10,
    ),
    DatasetSpec(
        "mnist-labels", "image",
        "paired translation for SPADE: a label map (stroke pixels = (class + 1) * 20, background 0) "
        "→ the mnist-5k digit; labels kept; train 3,500 / val 500 / test 1,000",
        _Lazy("paired_digits", "load_mnist_labels"), extractor="mnist-classifier", sample_shape=(1, 28, 28),
        n_classes=10,
    ),
    DatasetSpec(
        "photos-sr4", "image",
        "super-resolution ×4 on the shipped photos: train 1,800 fixed random 96×96 patches (24×24 "
        "inputs) of six photos / val 1 photo / test 3 photos whole (288×288, 72×72 inputs)",
        _Lazy("sr", "load_photos_sr4"), sample_shape=(3, 96, 96),
    ),
    DatasetSpec(
        "mnist-sr2", "image",
        "super-resolution ×2 on mnist-5k: 28×28 digits from 14×14 MATLAB-bicubic inputs, labels kept: "
        "train 3,500 / val 500 / test 1,000",
        _Lazy("sr", "load_mnist_sr2"), extractor="mnist-classifier", sample_shape=(1, 28, 28), n_classes=10,
    ),
    DatasetSpec(
        "mnist-hole", "image",
        "mnist-5k digits whose centre 14×14 (rows/cols 7..20) is set to grey 128 in the input; the target is "
        "the digit, labels kept: train 3,500 / val 500 / test 1,000",
        _Lazy("hole", "load_mnist_hole"), extractor="mnist-classifier", sample_shape=(1, 28, 28), n_classes=10,
    ),
    DatasetSpec(
        "captioned-digits", "image",
        "mnist-5k digits (train 3,500 / val 500 / test 1,000) each with an English caption from its class, "
        "ink-mass thickness, moment slant and bounding-box size, e.g. 'a small thin seven slanted to the right'",
        _Lazy("captioned", "load_captioned"), extractor="mnist-classifier", sample_shape=(1, 28, 28),
        n_classes=10,
    ),
):
    register_dataset(_spec)
del _spec


# 3-D voxel shapes for 3D-GAN, measured with their own classifier (no ImageNet network sees voxels).
register_dataset(DatasetSpec(
    "shapes3d", "voxels",
    "procedural 32³ voxel shapes (uint8 0/255), ten classes (cube, sphere, cylinder, cone, torus, pyramid, "
    "octahedron, tube, cross, hemisphere) with random size, rotation and position, fixed seeds: "
    "train 4,000 / val 500 / test 1,000",
    _Lazy("shapes3d", "load_shapes3d"), extractor="shapes3d-classifier", sample_shape=(1, 32, 32, 32), n_classes=10,
))


class _FolderFamily:
    """Resolves ``folder:…`` or ``srN:…`` names (:mod:`genbench.data.folder`, imported on the first
    such name) to a spec whose loader reads that folder."""

    def __init__(self, sr: bool):
        self.sr = sr

    def __call__(self, name: str) -> DatasetSpec | None:
        from genbench.data.folder import describe, parse_name

        parsed = parse_name(name)
        if parsed is None or (parsed.scale is not None) != self.sr:
            return None
        return DatasetSpec(name, "image", describe(parsed), _FolderLoader(name))


class _FolderLoader:
    """The loader of one folder dataset (a class, so a spec pickles for executors)."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, root):
        from genbench.data.folder import load

        return load(self.name, root)


def _family_loader(root):
    raise GenbenchError("a dataset family needs a folder: folder:PATH?size=N or srN:PATH")


# Any folder of images (genbench/data/folder.py): relative paths are read below the data root.
for _spec in (
    DatasetSpec(
        "folder:PATH?size=N", "image",
        "any folder of images (PATH absolute or below the data root), centre-cropped to a square and resized "
        "to N×N (PIL bicubic); splits from train/ val/ test/ subfolders, else 80/10/10 by a hash of each path",
        _family_loader, resolve=_FolderFamily(sr=False),
    ),
    DatasetSpec(
        "srN:PATH", "image",
        "a super-resolution test folder (N = 2, 3, 4; Set5, Set14, ...): test = its HR images trimmed to a "
        "multiple of N with MATLAB-bicubic inputs; train/val = photos-sr4's; suites: srN:* = every subfolder "
        "of --data-root holding images",
        _family_loader, resolve=_FolderFamily(sr=True),
    ),
):
    register_dataset(_spec)
del _spec
