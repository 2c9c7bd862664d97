"""Did the generator copy its training set? Nearest-neighbour distances to the training split.

For every sample x let d(x) = min over training samples t of ‖x − t‖₂ (images: pixels / 255,
flattened; 2-D data: the coordinates). Held-out real samples h (the evaluated reference split,
which the model never saw) set the scale: τ = the ``percentile``-th percentile (default 5th) of
d(h). The statistic is the fraction of generated samples with d(g) < τ: samples closer to a
training image than all but the closest 5 % of genuinely new real data are. A generator that
draws fresh samples from the data distribution scores about 5 %; one that replays training
images scores up to 100 %. The std is the binomial standard error √(p(1 − p)/n).

Pixel space, not feature space: an exact or near copy is a small pixel distance whatever the
extractor, and the neighbours can be shown as they are (Goodfellow et al. 2014 and Radford et
al. 2016 show pixel-space nearest neighbours for the same reason).
"""

from __future__ import annotations

import base64

import numpy as np

from genbench.metrics.result import MetricResult


def nearest_train(queries: np.ndarray, train: np.ndarray, k: int = 1, *, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distances (N×k, ascending) and indices of each query's ``k`` nearest rows of ``train``."""
    q = np.asarray(queries, dtype=np.float64).reshape(len(queries), -1)
    t = np.asarray(train, dtype=np.float64).reshape(len(train), -1)
    k = min(k, len(t))
    t2 = np.einsum("ij,ij->i", t, t)
    dists, idx = np.empty((len(q), k)), np.empty((len(q), k), dtype=np.int64)
    for s in range(0, len(q), chunk):
        block = q[s : s + chunk]
        d2 = np.einsum("ij,ij->i", block, block)[:, None] + t2[None, :] - 2.0 * block @ t.T
        np.maximum(d2, 0.0, out=d2)
        part = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < len(t) else np.tile(np.arange(len(t)), (len(block), 1))
        pd = np.take_along_axis(d2, part, axis=1)
        order = np.argsort(pd, axis=1, kind="stable")
        idx[s : s + chunk] = np.take_along_axis(part, order, axis=1)
        dists[s : s + chunk] = np.sqrt(np.take_along_axis(pd, order, axis=1))
    return dists, idx


def memorization(generated: np.ndarray, train: np.ndarray, held_out: np.ndarray, *, percentile: float = 5.0,
                 n_examples: int = 6, k_examples: int = 3) -> MetricResult:
    """The fraction of generated samples closer to the training set than the ``percentile``-th
    percentile of held-out real samples' distances (see the module docstring). Inputs are arrays of
    equal trailing shape, already scaled (pixels / 255 or coordinates). ``params.examples`` holds,
    for the first ``n_examples`` generated samples, their ``k_examples`` nearest training indices
    and distances, for the report's side-by-side panel."""
    d_gen, i_gen = nearest_train(generated, train, k=max(1, k_examples))
    d_held, _ = nearest_train(held_out, train, k=1)
    tau = float(np.percentile(d_held[:, 0], percentile))
    close = d_gen[:, 0] < tau
    p = float(close.mean())
    n = len(generated)
    return MetricResult(
        "memorized", p, std=float(np.sqrt(p * (1 - p) / n)) if n > 1 else None,
        params={"space": None, "percentile": percentile, "threshold": tau, "n_generated": n,
                "n_train": int(len(train)), "n_held_out": int(len(held_out)),
                "median_nn_generated": float(np.median(d_gen[:, 0])),
                "median_nn_held_out": float(np.median(d_held[:, 0])),
                "examples": [{"sample": i, "train": [int(j) for j in i_gen[i]],
                              "distance": [float(d) for d in d_gen[i]]} for i in range(min(n_examples, n))]},
    )


def encode_images(images: np.ndarray) -> dict:
    """uint8 images as a small JSON record (shape + base64 bytes): the report draws the
    neighbours from the result alone, without the dataset."""
    images = np.ascontiguousarray(images, dtype=np.uint8)
    return {"shape": list(images.shape), "uint8_base64": base64.b64encode(images.tobytes()).decode("ascii")}


def decode_images(record: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(record["uint8_base64"]), dtype=np.uint8).reshape(record["shape"])
