"""Reference baseline trainers: one faithful implementation per documented model.

``MODELS`` lists what is installed (built-ins plus third-party specs registered under the
entry-point group ``genbench.models``); ``train`` trains or resumes one into a checkpoint
directory; ``load`` turns a checkpoint directory back into a sampler without unpickling anything.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import torch

from genbench.data.dataset import Dataset
from genbench.errors import GenbenchError
from genbench.registry import Registry

from baselines import checkpoint
from baselines import config as configs
from baselines.spec import BaseConfig, ModelSpec, contract_problem
from baselines.trained import load_trained
from baselines.training import train_model

ENTRY_POINT_GROUP = "genbench.models"

_BUILTIN_MODULES = ("baselines.gan", "baselines.dcgan", "baselines.cgan", "baselines.ae", "baselines.vae",
                    "baselines.aae", "baselines.unrolled_gan", "baselines.minibatch_gan",
                    "baselines.cyclegan",
                    "baselines.pix2pix", "baselines.spade",
                    "baselines.context_encoder", "baselines.gan_inpainting",
                    "baselines.stackgan",
                    "baselines.biggan", "baselines.icgan",
                    "baselines.progan", "baselines.stylegan",
                    "baselines.bicubic", "baselines.srresnet", "baselines.srgan",
                    "baselines.gan3d")


# The one model registry: its entries are the specs themselves (name, paper, kinds,
# conditioning, can_translate); third parties come from the entry points on first lookup, and
# one whose contract is unusable (``contract_problem``) is skipped with a warning.
MODELS: Registry[ModelSpec] = Registry("model", ModelSpec, ENTRY_POINT_GROUP, check=contract_problem)
for _module in _BUILTIN_MODULES:
    MODELS.register(importlib.import_module(_module).SPEC)
del _module


def get_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise GenbenchError(f"unknown model {name!r}; available: {', '.join(sorted(MODELS))}") from None


def default_config(name: str, dataset: Dataset, profile: str = "quick") -> BaseConfig:
    """The model's config for ``dataset``: 'quick' fits a 2-core CPU, 'full' is paper-sized."""
    return get_spec(name).default_config(dataset, profile)


def check_config(name: str, dataset: Dataset, config: BaseConfig) -> None:
    """Refuse a config model ``name`` cannot train on ``dataset``: another data kind or shape, or
    networks over ``config.MAX_PARAMETERS`` (counted without allocating)."""
    get_spec(name)
    configs.check_matches_dataset(config, dataset)
    configs.check_size(config)


def check_init_source(name: str, config: BaseConfig, source_name: str, source_config: BaseConfig) -> None:
    """Refuse a suite's ``init_from`` that model ``name`` cannot start from: another model, or one
    of another architecture (before anything trains)."""
    spec = get_spec(name)
    if source_name not in spec.init_sources:
        starts = ", ".join(spec.init_sources) or "nothing (it has no init_from)"
        raise GenbenchError(f"{name} cannot start from a {source_name} checkpoint; it can start from: {starts}")
    spec.check_init_source(config, source_name, source_config)


def has_checkpoint(directory: str | Path) -> bool:
    """Whether ``directory`` holds a checkpoint that ``train`` would resume."""
    return checkpoint.exists(directory)


def train(name: str, dataset: Dataset, *, out_dir: str | Path, config: BaseConfig | None = None,
          overrides: dict | None = None, steps: int | None = None, seed: int = 0,
          device: str | torch.device | None = None, progress: bool = True) -> Path:
    """Train ``name`` on ``dataset`` into ``out_dir`` (resuming a checkpoint found there)."""
    return train_model(get_spec(name), dataset, out_dir=out_dir, config=config, overrides=overrides,
                       steps=steps, seed=seed, device=device, progress=progress)


def load(checkpoint_dir: str | Path, *, device: str | torch.device | None = None):
    """Load a checkpoint directory as a ``TrainedModel`` (safetensors + JSON only)."""
    record, tensors = checkpoint.read(checkpoint_dir)
    return load_trained(get_spec(record.get("model", "?")), checkpoint_dir, record, tensors, device)


__all__ = ["MODELS", "ENTRY_POINT_GROUP", "check_config", "check_init_source", "has_checkpoint", "default_config", "train", "load", "get_spec"]
