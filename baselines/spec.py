"""What one baseline model is: the contract between a model module and the shared loop.

A model module (``gan.py``, ``vae.py`` ...) defines a config dataclass and a ``ModelSpec``
subclass. The spec says how to build the networks, how one training step updates them, and how
latent codes become samples; everything else (data order, seeding, checkpoints, resume, logging,
NaN handling, devices) lives once in ``baselines.training`` so every model is trained the same
way. Third-party packages add a model by exposing a ``ModelSpec`` instance under the entry-point
group ``genbench.models``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from genbench.data.dataset import Dataset
from genbench.errors import GenbenchError
from genbench.profiles import PROFILES

# What a model's generation path conditions on: nothing (z only), a class label, or an image.
CONDITIONING = ("none", "class", "image")

# Fields that may change when a run is resumed: they do not change what one step computes.
RESUMABLE_FIELDS = ("steps", "checkpoint_every", "log_every")


@dataclass
class BaseConfig:
    """Fields every model shares. ``data_*`` and ``n_classes`` are copied from the dataset."""

    data_kind: str = "image"  # 'image' | 'points'
    data_shape: tuple[int, ...] = (1, 28, 28)  # (C, H, W) or (2,)
    n_classes: int | None = None
    steps: int = 1000
    batch_size: int = 64
    checkpoint_every: int = 500
    log_every: int = 10
    amp: bool = False  # bfloat16 autocast on CUDA (refused on CPU: CPU runs are the reference numerics)

    def __post_init__(self) -> None:
        for key in ("steps",):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be >= 0, got {getattr(self, key)}")
        for key in ("batch_size", "checkpoint_every", "log_every"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)}")
        if self.data_kind not in ("image", "points"):
            raise ValueError(f"data_kind must be 'image' or 'points', got {self.data_kind!r}")

    def to_dict(self) -> dict:
        """JSON-ready: tuples become lists (``config.from_dict`` turns them back)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


@dataclass
class Batch:
    """One training minibatch in model space (see ``ModelSpec.image_range``)."""

    x: torch.Tensor
    y: torch.Tensor | None  # int64 labels, or None


class ModelSpec:
    """Base class for a baseline. Subclasses set the class attributes and implement the methods."""

    name: ClassVar[str]
    paper: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]] = ("image", "points")
    has_reconstruct: ClassVar[bool] = False
    config_class: ClassVar[type[BaseConfig]] = BaseConfig
    # How images are presented to the networks: 'tanh' = [-1, 1] (GANs), 'unit' = [0, 1]
    # (autoencoders with sigmoid / Bernoulli outputs). Points are standardised per dimension.
    image_range: ClassVar[str] = "tanh"
    needs_labels: ClassVar[bool] = False
    conditioning: ClassVar[str] = "none"  # one of CONDITIONING

    # --- configuration -------------------------------------------------------------------
    def default_config(self, dataset: Dataset, profile: str = "quick") -> BaseConfig:
        if profile not in PROFILES:
            raise GenbenchError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
        if dataset.kind not in self.kinds:
            raise GenbenchError(
                f"model {self.name!r} does not support {dataset.kind} data (dataset {dataset.name!r}); "
                f"it supports: {', '.join(self.kinds)}"
            )
        if self.needs_labels and dataset.n_classes is None:
            raise GenbenchError(f"model {self.name!r} needs class labels but dataset {dataset.name!r} has none")
        shape = tuple(int(s) for s in dataset.split("train").samples.shape[1:])
        base = dict(data_kind=dataset.kind, data_shape=shape, n_classes=dataset.n_classes)
        values = self.profile_values(dataset.kind, profile)
        return self.config_class(**base, **values)

    def profile_values(self, kind: str, profile: str) -> dict:
        """Config values for a data kind and profile (the dataclass defaults are the paper's)."""
        return {}

    # --- networks --------------------------------------------------------------------------
    def build(self, config: BaseConfig) -> nn.ModuleDict:
        raise NotImplementedError

    def make_optimizers(self, nets: nn.ModuleDict, config: BaseConfig) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def train_step(
        self, nets: nn.ModuleDict, opts: dict[str, torch.optim.Optimizer], batch: Batch,
        gen: torch.Generator, config: BaseConfig,
    ) -> dict[str, torch.Tensor]:
        """One update of every network; returns the losses (0-dim tensors) to log."""
        raise NotImplementedError

    # --- sampling ----------------------------------------------------------------------------
    def examples_per_step(self, config: BaseConfig) -> int:
        """Training examples one step consumes (``k`` discriminator minibatches for a GAN)."""
        return config.batch_size

    def latent(self, n: int, gen: torch.Generator, config: BaseConfig) -> torch.Tensor:
        """``n`` latent codes from the model's prior, drawn on ``gen``'s device."""
        raise NotImplementedError

    def decode(self, nets: nn.ModuleDict, z: torch.Tensor, labels: torch.Tensor | None,
               config: BaseConfig) -> torch.Tensor:
        """Latent codes (and labels for conditional models) → samples in model space."""
        raise NotImplementedError

    def sample_labels(self, n: int, config: BaseConfig) -> torch.Tensor | None:
        """Labels to condition ``n`` samples on: classes in turn, so every class gets n/K."""
        if not self.needs_labels:
            return None
        return torch.arange(n, dtype=torch.int64) % int(config.n_classes)

    def reconstruct(self, nets: nn.ModuleDict, x: torch.Tensor, config: BaseConfig) -> torch.Tensor:
        raise GenbenchError(f"model {self.name!r} has no encoder, so it cannot reconstruct images")
