"""A trained baseline loaded from its checkpoint, ready to sample (and translate)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch
from torch import nn

from genbench.device import resolve_device
from genbench.errors import GenbenchError

from baselines import checkpoint
from baselines import config as configs
from baselines.codec import DataCodec
from baselines.spec import BaseConfig, ModelSpec, check_captions
from baselines.training import build_networks, sample_generator


class TrainedModel:
    """Networks in eval mode plus what is needed to turn their output into contract-form samples.

    Sampling uses BatchNorm running statistics (eval mode), so a sample does not depend on which
    other samples share its batch, and ``sample(n, seed)`` is the same for any ``batch_size`` up to
    float rounding: a BLAS matrix product may sum in an order that depends on how many rows it
    gets (seen for the 2-D MLPs with MKL on an AVX-512/AMX Xeon: 6e-8 apart), so only a fixed
    batch size is bit-reproducible. The runner samples with a fixed one.
    """

    def __init__(self, spec: ModelSpec, nets: nn.ModuleDict, config: BaseConfig, record: dict,
                 codec: DataCodec, device: torch.device, path: Path | None = None):
        self.spec, self.nets, self.config, self.record, self.codec = spec, nets.eval(), config, record, codec
        self.device, self.path = device, path

    name = property(lambda self: self.spec.name)
    can_translate = property(lambda self: self.spec.can_translate)
    conditioning = property(lambda self: self.spec.conditioning)
    step = property(lambda self: int(self.record["step"]))
    finished = property(lambda self: bool(self.record.get("finished")))
    dataset_fingerprint = property(lambda self: dict(self.record["dataset_fingerprint"]))
    kind = property(lambda self: self.config.data_kind)

    def sample_labels(self, n: int) -> np.ndarray | None:
        """The class labels ``sample(n, ...)`` conditions on (class-conditional models), else None."""
        labels = self.spec.sample_conditions(n, self.config)
        return None if labels is None else labels.numpy()

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, batch_size: int = 500, truncation: float | None = None) -> np.ndarray:
        """``n`` samples in contract form: uint8 N×C×H×W images or float32 N×2 points.

        ``truncation`` ψ in (0, 1] samples a model that supports it with the truncation trick
        (None: the model's own config, untruncated by default)."""
        if n < 0 or batch_size < 1:
            raise GenbenchError(f"sample needs n >= 0 and batch_size >= 1, got n={n}, batch_size={batch_size}")
        config = self.config
        if truncation is not None:
            if not self.spec.supports_truncation:
                raise GenbenchError(f"model {self.name!r} does not support the truncation trick")
            if not (isinstance(truncation, (int, float)) and 0 < float(truncation) <= 1):
                raise GenbenchError(f"truncation ψ must be in (0, 1], got {truncation!r}")
            config = dataclasses.replace(config, truncation_psi=float(truncation))
        cond = self.spec.sample_conditions(n, config)
        return self._generate(n, cond, self.spec.latent(n, sample_generator(seed), config), batch_size, config)

    @torch.no_grad()
    def sample_captions(self, captions: np.ndarray, seed: int = 0, batch_size: int = 500) -> np.ndarray:
        """One sample per caption (int64 N×L token ids over the training data's vocabulary) for a
        text-conditioned model, in contract form; latent codes drawn from ``seed``."""
        if self.conditioning != "text":
            raise GenbenchError(f"model {self.name!r} does not condition on captions")
        if batch_size < 1:
            raise GenbenchError(f"sample_captions needs batch_size >= 1, got {batch_size}")
        captions = np.asarray(captions)
        check_captions(captions, self.config)
        cond = torch.as_tensor(captions.astype(np.int64))
        return self._generate(len(cond), cond, self.spec.latent(len(cond), sample_generator(seed), self.config),
                              batch_size)

    @torch.no_grad()
    def translate(self, images: np.ndarray, seed: int = 0, batch_size: int = 500, inverse: bool = False) -> np.ndarray:
        """Input images → the model's outputs in contract form (autoencoders: reconstructions).

        An image-conditioned model draws its latent codes (if it has any) from ``seed``; an
        autoencoder's code comes from the image, so its translation is deterministic.
        ``inverse`` maps target-domain images back to the input domain (``has_inverse`` models).
        """
        if not self.can_translate:
            raise GenbenchError(f"model {self.name!r} has no encoder and no image condition, so it cannot translate")
        if batch_size < 1:
            raise GenbenchError(f"translate needs batch_size >= 1, got {batch_size}")
        if inverse and not self.spec.has_inverse:
            raise GenbenchError(f"model {self.name!r} has no inverse mapping (target → input domain)")
        arr = np.asarray(images)
        image_model = self.conditioning == "image"
        if inverse:
            expected = tuple(self.config.data_shape)
        else:
            expected = tuple(self.config.cond_shape if image_model else self.config.data_shape)
        if self.spec.fully_convolutional and arr.ndim == 4 and arr.shape[1] == expected[0] and min(arr.shape[2:]) > 0:
            expected = tuple(arr.shape[1:])  # any size: the networks are fully convolutional
        if arr.ndim != len(expected) + 1 or tuple(arr.shape[1:]) != expected:
            raise GenbenchError(f"translate expects N×{'×'.join(map(str, expected))} input, got shape {arr.shape}")
        if inverse:
            out = []
            for i in range(0, len(arr), batch_size):
                xb = self.codec.encode(arr[i:i + batch_size], self.device)
                out.append(self.codec.decode(self.spec.generate_inverse(self.nets, xb, self.config)))
            return np.concatenate(out) if out else np.zeros((0, *self.config.cond_shape), dtype=np.uint8)
        if self.kind == "points" and not np.all(np.isfinite(arr)):
            raise GenbenchError("translate: input points contain NaN or Inf")
        z = self.spec.latent(len(arr), sample_generator(seed), self.config) if image_model else None
        return self._generate(len(arr), arr, z, batch_size)

    def _generate(self, n: int, cond, z: torch.Tensor | None, batch_size: int,
                  config: BaseConfig | None = None) -> np.ndarray:
        """``generate`` batch by batch: ``cond`` is class labels or captions (tensors) or contract-form images."""
        config = config or self.config
        out = []
        for i in range(0, n, batch_size):
            cb = cond[i:i + batch_size] if cond is not None else None
            if isinstance(cb, np.ndarray):
                cb = self.codec.encode(cb, self.device)
            elif cb is not None:
                cb = cb.to(self.device)
            zb = z[i:i + batch_size].to(self.device) if z is not None else None
            out.append(self.codec.decode(self.spec.generate(self.nets, cb, zb, config)))
        if not out:
            shape = tuple(self.config.data_shape)
            return np.zeros((0, *shape), dtype=np.float32 if self.kind == "points" else np.uint8)
        return np.concatenate(out)

    def encode_images(self, images: np.ndarray) -> torch.Tensor:
        """Contract-form input → model-space tensor on this model's device."""
        return self.codec.encode(np.asarray(images), self.device)


def load_trained(spec: ModelSpec, directory: str | Path, record: dict, tensors: dict,
                 device: str | torch.device | None = None) -> TrainedModel:
    directory = Path(directory)
    device = resolve_device(device)
    config = configs.from_dict(spec.config_class, record["config"], str(directory / checkpoint.MODEL_FILE))
    nets = build_networks(spec, config, 0)
    checkpoint.load_networks(nets, tensors, directory / checkpoint.MODEL_FILE)
    stats = record.get("data_stats") or {}
    codec = DataCodec(config.data_kind, spec.image_range,
                      tuple(stats["mean"]) if stats.get("mean") else None,
                      tuple(stats["std"]) if stats.get("std") else None)
    return TrainedModel(spec, nets.to(device), config, record, codec, device, directory)
