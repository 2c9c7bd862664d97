"""What one baseline model is: the contract between a model module and the shared loop.

A model module (``gan.py``, ``vae.py`` ...) defines a config dataclass and a ``ModelSpec``
subclass. The spec says what the model conditions on (``conditioning``), how to build the
networks, how one training step updates them, and how a condition (and a latent code, where the
model has one) becomes an output: the one ``generate`` path that both sampling and translation
use. Everything else (data order, seeding, checkpoints, resume, logging, NaN handling, devices)
lives once in ``baselines.training`` so every model is trained the same way. Third-party packages
add a model by exposing a ``ModelSpec`` instance under the entry-point group ``genbench.models``.

Conditions, in model space (``ModelSpec.image_range``), as a ``Batch.cond`` and as ``generate``'s
``cond``: ``None`` for ``conditioning = "none"``; int64 class labels for ``"class"``; an image
batch N×C'×H'×W' (the dataset's paired input, or a draw from its input domain) for ``"image"``;
int64 caption token ids N×L (0 = padding, over ``Dataset.vocabulary``) for ``"text"``: a text
model samples the captions it is given (``TrainedModel.sample_captions``), since there is no
caption prior to draw from.
Autoencoders are unconditional samplers whose ``generate`` also accepts an image condition (it
is encoded to the code that is decoded): that is their ``translate``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from genbench.data.dataset import Dataset
from genbench.errors import GenbenchError
from genbench.profiles import PROFILES

# What a model's generation path conditions on: nothing (z only), a class label, an image, or a caption.
CONDITIONING = ("none", "class", "image", "text")
# How an image-conditioned model reads its data: (input, target) pairs, or two independent domains.
PAIRING = ("paired", "unpaired")

# Fields that may change when a run is resumed: they do not change what one step computes.
RESUMABLE_FIELDS = ("steps", "checkpoint_every", "log_every")


@dataclass
class BaseConfig:
    """Fields every model shares. ``data_*`` and ``n_classes`` are copied from the dataset."""

    data_kind: str = "image"  # 'image' | 'points' | 'voxels'
    data_shape: tuple[int, ...] = (1, 28, 28)  # (C, H, W), (2,) or (1, D, H, W)
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
        if self.data_kind not in ("image", "points", "voxels"):
            raise ValueError(f"data_kind must be 'image', 'points' or 'voxels', got {self.data_kind!r}")

    def to_dict(self) -> dict:
        """JSON-ready: tuples become lists (``config.from_dict`` turns them back)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


@dataclass
class ImageConditionConfig(BaseConfig):
    """Base config of image-conditioned models: ``cond_shape`` is copied from the dataset's inputs."""

    cond_shape: tuple[int, ...] = (1, 28, 28)  # (C, H, W) of the input images (may differ from data_shape)


@dataclass
class TextConditionConfig(BaseConfig):
    """Base config of text-conditioned models: the caption format is copied from the dataset."""

    vocab_size: int = 2  # len(Dataset.vocabulary), padding id 0 included
    caption_length: int = 1  # L of the N×L caption token arrays


@dataclass
class Batch:
    """One training minibatch in model space (see ``ModelSpec.image_range``).

    ``x`` is what the model learns to produce (the target); ``cond`` what it conditions on (see
    the module docstring), None for unconditional models.
    """

    x: torch.Tensor
    cond: torch.Tensor | None = None


class ModelSpec:
    """Base class for a baseline. Subclasses set the class attributes and implement the methods."""

    name: ClassVar[str]
    paper: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]] = ("image", "points")
    config_class: ClassVar[type[BaseConfig]] = BaseConfig
    # How images are presented to the networks: 'tanh' = [-1, 1] (GANs), 'unit' = [0, 1]
    # (autoencoders with sigmoid / Bernoulli outputs). Points are standardised per dimension.
    image_range: ClassVar[str] = "tanh"
    conditioning: ClassVar[str] = "none"  # one of CONDITIONING
    # Image-conditioned models: 'paired' needs (input, target) pairs (pix2pix, SRGAN); 'unpaired'
    # reads inputs and targets as two independently ordered streams (CycleGAN), whatever the data.
    pairing: ClassVar[str] = "paired"
    # generate() encodes an image condition into the code it decodes (autoencoders): such a model
    # samples unconditionally and also translates (reconstructs) images.
    has_encoder: ClassVar[bool] = False
    # An image model whose networks accept any input size (SR, pix2pix): translate() then checks
    # only the channel count, so a model trained on patches translates whole test images.
    fully_convolutional: ClassVar[bool] = False
    # An unpaired image model that also maps the target domain back to the input domain
    # (CycleGAN's F: B → A), through ``generate_inverse``.
    has_inverse: ClassVar[bool] = False
    # Sampling with a truncation ψ in (0, 1] (StyleGAN, BigGAN): the config has a field
    # ``truncation_psi`` (1.0 = no truncation) that ``generate`` reads.
    supports_truncation: ClassVar[bool] = False
    # Models whose trained checkpoint can start this one's training (a suite's ``init_from``; the
    # config then has a field ``init_from`` the runner sets to that checkpoint's directory).
    init_sources: ClassVar[tuple[str, ...]] = ()

    def check_init_source(self, config: BaseConfig, source_model: str, source_config: BaseConfig) -> None:
        """Raise GenbenchError when ``config`` cannot start from a ``source_model`` checkpoint
        trained with ``source_config`` (checked at suite validation, before either trains)."""

    @property
    def can_translate(self) -> bool:
        """A trained model maps input images to outputs through ``generate``."""
        return self.conditioning == "image" or self.has_encoder

    # --- configuration -------------------------------------------------------------------
    def default_config(self, dataset: Dataset, profile: str = "quick") -> BaseConfig:
        if profile not in PROFILES:
            raise GenbenchError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
        if dataset.kind not in self.kinds:
            raise GenbenchError(
                f"model {self.name!r} does not support {dataset.kind} data (dataset {dataset.name!r}); "
                f"it supports: {', '.join(self.kinds)}"
            )
        if self.conditioning == "class" and dataset.n_classes is None:
            raise GenbenchError(f"model {self.name!r} needs class labels but dataset {dataset.name!r} has none")
        train = dataset.split("train")
        shape = tuple(int(s) for s in train.samples.shape[1:])
        base = dict(data_kind=dataset.kind, data_shape=shape, n_classes=dataset.n_classes)
        if self.conditioning == "image":
            check_image_data(self, dataset)
            base["cond_shape"] = tuple(int(s) for s in train.inputs.shape[1:])
        if self.conditioning == "text":
            check_text_data(self, dataset)
            base["vocab_size"] = len(dataset.vocabulary)
            base["caption_length"] = int(train.captions.shape[1])
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

    def examples_per_step(self, config: BaseConfig) -> int:
        """Training examples one step consumes (``k`` discriminator minibatches for a GAN)."""
        return config.batch_size

    # --- generation --------------------------------------------------------------------------
    def latent(self, n: int, gen: torch.Generator, config: BaseConfig) -> torch.Tensor | None:
        """``n`` latent codes from the model's prior, drawn on ``gen``'s device; None if it has none."""
        return None

    def generate(self, nets: nn.ModuleDict, cond: torch.Tensor | None, z: torch.Tensor | None,
                 config: BaseConfig) -> torch.Tensor:
        """A condition (see the module docstring) and latent codes → outputs in model space.

        Sampling calls it with ``sample_conditions`` and ``latent``; translation with input images
        as ``cond`` and, for image-conditioned models, ``latent`` (autoencoders: z None, the code
        comes from the image).
        """
        raise NotImplementedError

    def generate_inverse(self, nets: nn.ModuleDict, images: torch.Tensor, config: BaseConfig) -> torch.Tensor:
        """Target-domain images (model space) → input-domain images; only where ``has_inverse``."""
        raise GenbenchError(f"model {self.name!r} has no inverse mapping")

    def paper_figures(self, model, examples, seed: int) -> list:
        """The figures of this model's paper for the leaderboard (``baselines.paper_figures``):
        a loaded ``TrainedModel`` and the evaluation split's head (``Examples``) → PaperFigures.
        Most models draw none; their sample grid is the figure."""
        return []

    def sample_conditions(self, n: int, config: BaseConfig) -> torch.Tensor | None:
        """What ``sample(n)`` conditions on: class models cycle the classes, so every class gets
        n/K; image-conditioned models have nothing to sample from (they ``translate`` inputs)."""
        if self.conditioning == "class":
            return torch.arange(n, dtype=torch.int64) % int(config.n_classes)
        if self.conditioning == "image":
            raise GenbenchError(f"model {self.name!r} conditions on images: translate input images instead of sampling")
        if self.conditioning == "text":
            raise GenbenchError(f"model {self.name!r} conditions on captions: sample it with "
                                "TrainedModel.sample_captions(captions) (e.g. a split's captions)")
        return None


def contract_problem(spec: ModelSpec) -> str | None:
    """What makes ``spec`` unusable by the shared loop (a plug-in's mistake), or None."""
    if spec.conditioning not in CONDITIONING:
        return f"conditioning {spec.conditioning!r} is not one of {', '.join(CONDITIONING)}"
    if spec.pairing not in PAIRING:
        return f"pairing {spec.pairing!r} is not one of {', '.join(PAIRING)}"
    if spec.conditioning == "image" and not issubclass(spec.config_class, ImageConditionConfig):
        return "an image-conditioned model's config_class must subclass baselines.spec.ImageConditionConfig"
    if spec.conditioning == "text" and not issubclass(spec.config_class, TextConditionConfig):
        return "a text-conditioned model's config_class must subclass baselines.spec.TextConditionConfig"
    return None


def check_image_data(spec: ModelSpec, dataset: Dataset) -> None:
    """An image-conditioned model needs inputs in the train split, paired if it reads pairs."""
    train = dataset.split("train")
    if dataset.kind != "image" or train.inputs is None:
        raise GenbenchError(f"model {spec.name!r} conditions on images but dataset {dataset.name!r} has no input images")
    if spec.pairing == "paired" and not train.paired:
        raise GenbenchError(f"model {spec.name!r} needs (input, target) pairs but dataset {dataset.name!r} "
                            "holds two unpaired domains")


def check_text_data(spec: ModelSpec, dataset: Dataset) -> None:
    """A text-conditioned model needs captions (and their vocabulary) in the train split."""
    if dataset.split("train").captions is None or dataset.vocabulary is None:
        raise GenbenchError(f"model {spec.name!r} conditions on captions but dataset {dataset.name!r} has none")


def check_captions(captions, config: TextConditionConfig, what: str = "captions") -> None:
    """Caption token ids fit the format the model was built for (length L, ids < vocab_size)."""
    shape = tuple(captions.shape)
    if len(shape) != 2 or shape[1] != config.caption_length:
        raise GenbenchError(f"{what}: expected N×{config.caption_length} token ids, got shape {shape}")
    if isinstance(captions, torch.Tensor):
        integer = not captions.is_floating_point() and not captions.is_complex() and captions.dtype != torch.bool
    else:
        integer = np.issubdtype(captions.dtype, np.integer)
    if not integer:
        raise GenbenchError(f"{what}: expected integer token ids, got {captions.dtype}")
    if shape[0] and (int(captions.min()) < 0 or int(captions.max()) >= config.vocab_size):
        raise GenbenchError(f"{what}: token ids must lie in 0..{config.vocab_size - 1} (the vocabulary)")
