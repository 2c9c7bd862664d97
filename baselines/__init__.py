"""Reference baseline trainers: one faithful implementation per documented model.

``MODELS`` lists what is installed (built-ins plus third-party specs registered under the
entry-point group ``genbench.models``); ``train`` trains or resumes one into a checkpoint
directory; ``load`` turns a checkpoint directory back into a sampler without unpickling anything.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import torch

from genbench.data.dataset import Dataset
from genbench.errors import GenbenchError

from baselines.spec import BaseConfig, ModelSpec, contract_problem

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "genbench.models"

_BUILTIN_MODULES = {
    "gan": "baselines.gan",
    "dcgan": "baselines.dcgan",
    "cgan": "baselines.cgan",
    "ae": "baselines.ae",
    "vae": "baselines.vae",
    "aae": "baselines.aae",
    "unrolled-gan": "baselines.unrolled_gan",
    "minibatch-gan": "baselines.minibatch_gan",
}


@dataclass(frozen=True)
class ModelInfo:
    name: str
    paper: str
    kinds: tuple[str, ...]
    conditioning: str  # what sampling conditions on: 'none', 'class' or 'image' (see spec.CONDITIONING)
    can_translate: bool  # a trained model maps input images to outputs (autoencoders: reconstruction)


def _discover() -> dict[str, ModelSpec]:
    specs: dict[str, ModelSpec] = {}
    for name, module in _BUILTIN_MODULES.items():
        specs[name] = importlib.import_module(module).SPEC
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            spec = obj() if isinstance(obj, type) else obj
        except Exception as exc:  # a broken plug-in must not break genbench
            log.warning("could not load model plug-in %r (%s): %s", ep.name, ep.value, exc)
            continue
        if not isinstance(spec, ModelSpec):
            log.warning("model plug-in %r (%s) is not a baselines.spec.ModelSpec; ignored", ep.name, ep.value)
            continue
        problem = contract_problem(spec)
        if problem:
            log.warning("model plug-in %r (%s): %s; ignored", ep.name, ep.value, problem)
            continue
        if spec.name in specs:
            log.warning("model plug-in %r reuses the name %r of an installed model; ignored", ep.value, spec.name)
            continue
        specs[spec.name] = spec
    return specs


_SPECS = _discover()
MODELS: dict[str, ModelInfo] = {
    name: ModelInfo(name, spec.paper, tuple(spec.kinds), spec.conditioning, bool(spec.can_translate))
    for name, spec in _SPECS.items()
}


def get_spec(name: str) -> ModelSpec:
    try:
        return _SPECS[name]
    except KeyError:
        raise GenbenchError(f"unknown model {name!r}; available: {', '.join(sorted(_SPECS))}") from None


def default_config(name: str, dataset: Dataset, profile: str = "quick") -> BaseConfig:
    """The model's config for ``dataset``: 'quick' fits a 2-core CPU, 'full' is paper-sized."""
    return get_spec(name).default_config(dataset, profile)


def train(name: str, dataset: Dataset, *, out_dir: str | Path, config: BaseConfig | None = None,
          overrides: dict | None = None, steps: int | None = None, seed: int = 0,
          device: str | torch.device | None = None, progress: bool = True) -> Path:
    """Train ``name`` on ``dataset`` into ``out_dir`` (resuming a checkpoint found there)."""
    from baselines.training import train_model

    return train_model(get_spec(name), dataset, out_dir=out_dir, config=config, overrides=overrides,
                       steps=steps, seed=seed, device=device, progress=progress)


def load(checkpoint_dir: str | Path, *, device: str | torch.device | None = None):
    """Load a checkpoint directory as a ``TrainedModel`` (safetensors + JSON only)."""
    from baselines import checkpoint
    from baselines.trained import load_trained

    record, tensors = checkpoint.read(checkpoint_dir)
    return load_trained(get_spec(record.get("model", "?")), checkpoint_dir, record, tensors, device)


__all__ = ["MODELS", "ModelInfo", "ENTRY_POINT_GROUP", "default_config", "train", "load", "get_spec"]
