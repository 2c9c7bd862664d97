"""Edit accuracy (IcGAN, Perarnau et al. 2016): does an edited image show the requested class?

An editor maps images and target classes to edited images (``baselines.icgan.edit`` bound to a
model, or anything with that signature). Three numbers:

- ``edit_accuracy``: the share of edited images whose most probable class under the classifier
  (default: the shipped ``mnist-classifier``) is the requested one; std is the per-image std of
  that 0/1 outcome, and params hold the per-target-class accuracy;
- ``edit_psnr`` / ``edit_ssim``: reconstruction quality with y unchanged (the editor called with
  ``None`` keeps the class it encodes), on 0–255 pixels, via ``genbench.metrics.image_quality``.

The classifier is part of the measurement: its identity (name, weights sha256) is recorded.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from genbench.errors import GenbenchError
from genbench.features import Extractor, get_extractor, iter_batches
from genbench.metrics.image_quality import psnr, ssim
from genbench.metrics.result import MetricResult

# images, target classes (or None: keep the encoded class) → edited images, all uint8 N×C×H×W
Editor = Callable[[np.ndarray, "np.ndarray | None"], np.ndarray]

DEFAULT_CLASSIFIER = "mnist-classifier"


def _check_images(images: np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(images)
    if arr.dtype != np.uint8 or arr.ndim != 4:
        raise GenbenchError(f"edit metrics: {what} must be uint8 N×C×H×W images, got {arr.dtype} {arr.shape}")
    return arr


def classify(images: np.ndarray, extractor: Extractor, *, device=None, batch_size: int = 250) -> np.ndarray:
    """The classifier's most probable class per image."""
    features = extractor.extract(iter_batches(images, batch_size), device=device, progress=False, total=len(images))
    if features.probs is None:
        raise GenbenchError(f"edit metrics: extractor {extractor.identity.name!r} gives no class probabilities")
    return features.probs.argmax(axis=1)


def edit_metrics(editor: Editor, images: np.ndarray, target_classes: np.ndarray, *,
                 extractor: Extractor | None = None, device=None, batch_size: int = 250) -> list[MetricResult]:
    """``edit_accuracy`` on ``editor(images, target_classes)``, and ``edit_psnr``/``edit_ssim`` of
    ``editor(images, None)`` (y unchanged) against ``images``."""
    images = _check_images(images, "source images")
    targets = np.asarray(target_classes)
    if targets.shape != (len(images),) or not np.issubdtype(targets.dtype, np.integer):
        raise GenbenchError(f"edit metrics: need one integer target class per image ({len(images)}), "
                            f"got shape {targets.shape}")
    if len(images) == 0:
        raise GenbenchError("edit metrics: no images to edit")
    extractor = extractor or get_extractor(DEFAULT_CLASSIFIER)
    k = extractor.n_classes
    if k is not None and (targets.min() < 0 or targets.max() >= k):
        raise GenbenchError(f"edit metrics: target classes must be in 0..{k - 1} for {extractor.identity.name!r}")
    edited = _check_images(editor(images, targets), "edited images")
    reconstructed = _check_images(editor(images, None), "reconstructed images")
    for what, out in (("edited", edited), ("reconstructed", reconstructed)):
        if out.shape != images.shape:
            raise GenbenchError(f"edit metrics: the editor returned {what} images of shape {out.shape}, "
                                f"expected {images.shape}")
    hit = classify(edited, extractor, device=device, batch_size=batch_size) == targets
    per_class = {int(c): float(hit[targets == c].mean()) for c in np.unique(targets)}
    common = {"n": int(len(images)), "classifier": extractor.identity.to_dict()}
    accuracy = MetricResult("edit_accuracy", float(hit.mean()), std=float(hit.std()),
                            params={**common, "per_target_class": per_class})
    p = psnr(images, reconstructed, 255.0, device=device)
    s = ssim(images, reconstructed, 255.0, device=device)
    return [accuracy,
            MetricResult("edit_psnr", p.value, std=p.std, params={**p.params, "reconstruction": "y unchanged"}),
            MetricResult("edit_ssim", s.value, std=s.std, params={**s.params, "reconstruction": "y unchanged"})]
