"""Feature extractors by name: ``get_extractor("inception-v3-fid")`` → an :class:`Extractor`.

Every metric that compares distributions of images (FID, KID, PRDC, IS) does so in the feature
space of a fixed network, so the network is part of the measurement: its name and the sha256 of
its weights (:class:`ExtractorIdentity`) are recorded with every number. ``EXTRACTORS`` is the one
extractor registry: name → :class:`ExtractorSpec` (description, factory). Third-party packages add
one with ``register_extractor`` or under the entry-point group ``genbench.extractors``. Factories
import their network only when called, so listing extractors never loads torch models or weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from genbench.data import DATASETS, DEFAULT_IMAGE_EXTRACTOR, Dataset
from genbench.errors import GenbenchError
from genbench.features.base import Extractor, ExtractorIdentity, Features, ImageBatches, iter_batches
from genbench.registry import Registry

__all__ = [
    "ENTRY_POINT_GROUP",
    "EXTRACTORS",
    "Extractor",
    "ExtractorIdentity",
    "ExtractorSpec",
    "Features",
    "ImageBatches",
    "default_extractor",
    "get_extractor",
    "iter_batches",
    "register_extractor",
]

ENTRY_POINT_GROUP = "genbench.extractors"


@dataclass(frozen=True)
class ExtractorSpec:
    """An extractor's name, what it computes, and ``factory(**kwargs)`` → :class:`Extractor`.

    The factory should import its network inside itself, so that listing extractors stays cheap.
    """

    name: str
    description: str
    factory: Callable[..., Extractor]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or self.name.split() != [self.name]:
            raise ValueError(f"extractor name {self.name!r}: a non-empty string without spaces")
        if not callable(self.factory):
            raise ValueError(f"extractor {self.name!r}: factory is not callable")


# Built-ins below; third-party specs from the entry points, read on the first lookup.
EXTRACTORS: Registry[ExtractorSpec] = Registry("extractor", ExtractorSpec, ENTRY_POINT_GROUP)


def register_extractor(spec: ExtractorSpec) -> ExtractorSpec:
    """Add ``spec`` (what a third-party package calls, or names under ``genbench.extractors``)."""
    return EXTRACTORS.register(spec)


def get_extractor(name: str, **kwargs: Any) -> Extractor:
    """Build the extractor called ``name``; ``kwargs`` go to its factory (e.g. ``weights_path``)."""
    spec = EXTRACTORS.get(name)
    if spec is None:
        raise GenbenchError(f"unknown extractor {name!r}; known extractors: {', '.join(sorted(EXTRACTORS))}")
    extractor = spec.factory(**kwargs)
    if not isinstance(extractor, Extractor):
        raise GenbenchError(f"extractor {name!r}: its factory returned {type(extractor).__name__}, "
                            "not a genbench.features.Extractor")
    return extractor


def default_extractor(dataset: Dataset) -> str | None:
    """The extractor ``dataset``'s registry entry names (digits → mnist-classifier, points → None).

    A dataset not in the registry (or built under a registered name with another kind) gets its
    kind's default: images → ``DEFAULT_IMAGE_EXTRACTOR``, 2-D points → None, voxels →
    ``shapes3d-classifier`` (the one voxel extractor; it refuses shapes other than 1×32³).
    """
    spec = DATASETS.get(dataset.name)
    if spec is not None and spec.kind == dataset.kind:
        return spec.extractor
    return {"points": None, "voxels": "shapes3d-classifier"}.get(dataset.kind, DEFAULT_IMAGE_EXTRACTOR)


# The built-in factories import their network when called: listing extractors must load none.
def _inception(**kwargs: Any) -> Extractor:
    from genbench.features.inception import InceptionV3FidExtractor

    return InceptionV3FidExtractor(**kwargs)


def _mnist_classifier(**kwargs: Any) -> Extractor:
    from genbench.features.mnist_classifier import MnistClassifierExtractor

    return MnistClassifierExtractor(**kwargs)


def _shapes3d_classifier(**kwargs: Any) -> Extractor:
    from genbench.features.shapes3d_classifier import Shapes3dClassifierExtractor

    return Shapes3dClassifierExtractor(**kwargs)


for _spec in (
    ExtractorSpec(
        "inception-v3-fid",
        "pytorch-fid's FID Inception-v3 (TF 2015-12-05 weights): 2048-d pool3 features, "
        "1008-way softmax for IS; any image size, resized to 299×299",
        _inception,
    ),
    ExtractorSpec(
        "mnist-classifier",
        "small CNN trained on mnist-5k (shipped): 128-d penultimate features and 10-way "
        "softmax per channel (stacked MNIST: 384-d, 1000-way); 28×28 digits only",
        _mnist_classifier,
    ),
    ExtractorSpec(
        "shapes3d-classifier",
        "small 3-D CNN trained on shapes3d (shipped): 128-d penultimate features and 10-way softmax "
        "over its shape classes; 1×32³ voxels only",
        _shapes3d_classifier,
    ),
):
    register_extractor(_spec)
del _spec
