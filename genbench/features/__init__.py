"""Feature extractors by name: ``get_extractor("inception-v3-fid")`` → an :class:`Extractor`.

Every metric that compares distributions of images (FID, KID, PRDC, IS) does so in the feature
space of a fixed network, so the network is part of the measurement: its name and the sha256 of
its weights (:class:`ExtractorIdentity`) are recorded with every number. Implementations are
imported only when asked for, so listing extractors never loads torch models or weights.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from genbench.errors import GenbenchError
from genbench.features.base import Extractor, ExtractorIdentity, Features, ImageBatches, iter_batches

if TYPE_CHECKING:  # pragma: no cover
    from genbench.data.dataset import Dataset

__all__ = [
    "EXTRACTORS",
    "Extractor",
    "ExtractorIdentity",
    "Features",
    "ImageBatches",
    "default_extractor",
    "get_extractor",
    "iter_batches",
]

EXTRACTORS: dict[str, str] = {
    "inception-v3-fid": (
        "pytorch-fid's FID Inception-v3 (TF 2015-12-05 weights): 2048-d pool3 features, "
        "1008-way softmax for IS; any image size, resized to 299×299"
    ),
    "mnist-classifier": (
        "small CNN trained on mnist-5k (shipped): 128-d penultimate features and 10-way "
        "softmax per channel (stacked MNIST: 384-d, 1000-way); 28×28 digits only"
    ),
}

# name -> "module:class"; imported on first use.
_IMPLEMENTATIONS: dict[str, str] = {
    "inception-v3-fid": "genbench.features.inception:InceptionV3FidExtractor",
    "mnist-classifier": "genbench.features.mnist_classifier:MnistClassifierExtractor",
}

# Datasets of 28×28 digits: Inception features are a poor yardstick there (see mnist_classifier).
_DIGIT_DATASETS = frozenset({"mnist", "mnist-5k", "stacked-mnist"})


def get_extractor(name: str, **kwargs: Any) -> Extractor:
    """Build the extractor called ``name``; ``kwargs`` go to its constructor (e.g. ``weights_path``)."""
    if name not in _IMPLEMENTATIONS:
        raise GenbenchError(f"unknown extractor {name!r}; known extractors: {', '.join(sorted(EXTRACTORS))}")
    module_name, class_name = _IMPLEMENTATIONS[name].split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(**kwargs)


def default_extractor(dataset: "Dataset") -> str | None:
    """The extractor the field uses for ``dataset``: digits → mnist-classifier, other images → Inception.

    2-D point datasets have no extractor (their metrics work on the points themselves): None.
    """
    if dataset.kind == "points":
        return None
    if dataset.name in _DIGIT_DATASETS:
        return "mnist-classifier"
    return "inception-v3-fid"
