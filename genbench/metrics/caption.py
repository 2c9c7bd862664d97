"""Caption consistency (StackGAN on captioned digits): does an image show the digit its caption
names? The share of generated images whose most probable class under a digit classifier
(mnist-classifier by default) is the caption's class, with its binomial standard error.

It checks the class word only: the stroke attributes (thickness, slant, size) have no classifier
to judge them. The classes come from the captions (``genbench.data.captioned.caption_classes``)
or, for captions taken from a split, the split's labels (the same thing).
"""

from __future__ import annotations

import numpy as np

from genbench.errors import GenbenchError
from genbench.metrics import _inputs
from genbench.metrics.result import MetricResult
from genbench.metrics.translation import classifier_accuracy


def caption_consistency(images, caption_classes, *, extractor="mnist-classifier", device=None,
                        batch_size: int = 500, progress: bool = False) -> MetricResult:
    """Share of ``images`` (uint8 N×C×H×W, one per caption) that ``extractor`` (a name or an
    :class:`~genbench.features.Extractor` with class probabilities) assigns to ``caption_classes``."""
    from genbench.features import get_extractor, iter_batches

    x = _inputs.to_numpy(images, "images")
    classes = _inputs.to_numpy(caption_classes, "caption_classes")
    if x.ndim != 4 or x.dtype != np.uint8:
        raise GenbenchError(f"caption_consistency: images must be uint8 N×C×H×W, got {x.dtype} {x.shape}")
    if classes.shape != (len(x),):
        raise GenbenchError(f"caption_consistency: {len(x)} images need {len(x)} caption classes, got shape {classes.shape}")
    ext = get_extractor(extractor) if isinstance(extractor, str) else extractor
    features = ext.extract(iter_batches(x, batch_size), device=device, progress=progress, total=len(x))
    if features.probs is None:
        raise GenbenchError(f"caption_consistency: extractor {ext.identity.name!r} gives no class probabilities")
    try:
        result = classifier_accuracy(features.probs, classes, name="caption_consistency")
    except ValueError as exc:
        raise GenbenchError(f"caption_consistency: {exc}") from None
    return MetricResult(result.name, result.value, std=result.std,
                        params={**result.params, "extractor": ext.identity.to_dict()})
