"""Sample sources: whatever a user has (arrays, an image folder, a generator, a checkpoint)
turned into contract-form samples, batch by batch, with a description for provenance.

``open_source`` decides the kind from the spec:

- ``np.ndarray`` / ``torch.Tensor`` in memory, or a ``.npy`` / ``.npz`` file → stored samples;
- a folder holding ``config.json`` → a genbench baseline checkpoint (``baselines.load``);
- any other folder → images (pytorch-fid's nine suffixes), read recursively in sorted order;
- a ``.pt`` / ``.pth`` / ``.ts`` file → a TorchScript generator (pickled models are refused);
- ``package.module:function`` (not an existing path) → a Python entry point returning a generator.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from genbench.errors import GenbenchError
from genbench.sources.arrays import ArraySource, open_array_file
from genbench.sources.base import SampleSource, parse_resize, parse_value_range, quantize
from genbench.sources.checkpoint import CheckpointSource, is_checkpoint_dir
from genbench.sources.folder import ImageFolderSource, list_images
from genbench.sources.generators import GeneratorSource, is_entry_point, latents, open_entry_point, open_torch_file

__all__ = [
    "open_source",
    "SampleSource",
    "ArraySource",
    "ImageFolderSource",
    "GeneratorSource",
    "CheckpointSource",
    "parse_value_range",
    "parse_resize",
    "quantize",
    "latents",
    "TORCH_SUFFIXES",
    "ARRAY_SUFFIXES",
]

ARRAY_SUFFIXES = (".npy", ".npz")
TORCH_SUFFIXES = (".pt", ".pth", ".ts", ".ptl", ".jit")


def open_source(spec, *, value_range=None, latent_dim=None, resize=None, device=None, inputs=None) -> SampleSource:
    """Open ``spec`` as a sample source.

    ``value_range`` ((0, 1) or (-1, 1)) is required for float images and refused for anything
    else; ``latent_dim`` is needed by generators that do not declare a ``latent_dim`` attribute;
    ``resize=(H, W)`` resizes images (PIL bicubic); ``device`` is where generators run.
    With ``inputs`` (uint8 images, or a paired split), ``spec`` is a translator applied to them
    (see ``genbench.sources.translator``).
    """
    if isinstance(spec, SampleSource):
        return spec
    value_range = parse_value_range(value_range)
    resize = parse_resize(resize)
    if inputs is not None:
        from genbench.sources.translator import open_translator  # imports torch, which array users never need

        _refuse_generator_options(latent_dim, "a translator")
        return open_translator(spec, inputs, value_range=value_range, resize=resize, device=device)
    if isinstance(spec, np.ndarray) or hasattr(spec, "detach"):
        _refuse_generator_options(latent_dim, "an in-memory array")
        return ArraySource(spec, value_range=value_range, resize=resize, where="in-memory array")
    if not isinstance(spec, (str, os.PathLike)):
        raise GenbenchError(f"cannot open {type(spec).__name__} as samples: give a path, an entry point or an array")
    path = Path(spec)
    if not path.exists():
        if isinstance(spec, str) and is_entry_point(spec):
            return open_entry_point(spec, latent_dim=latent_dim, value_range=value_range, resize=resize, device=device)
        raise GenbenchError(
            f"{spec}: no such file or folder (nor a 'package.module:function' entry point)"
        )
    if path.is_dir():
        if is_checkpoint_dir(path) and ((path / "model.safetensors").exists() or not list_images(path)):
            _refuse_generator_options(latent_dim, f"{path} (a genbench checkpoint)")
            return CheckpointSource(path, resize=resize, device=device, value_range=value_range)
        _refuse_generator_options(latent_dim, f"{path} (an image folder)")
        if value_range is not None:
            raise GenbenchError(f"{path}: an image folder holds 8-bit images; a value range does not apply")
        return ImageFolderSource(path, resize=resize)
    suffix = path.suffix.lower()
    if suffix in ARRAY_SUFFIXES:
        _refuse_generator_options(latent_dim, f"{path} (stored samples)")
        return open_array_file(path, value_range=value_range, resize=resize)
    if suffix in TORCH_SUFFIXES:
        return open_torch_file(path, latent_dim=latent_dim, value_range=value_range, resize=resize, device=device)
    if suffix == ".safetensors":
        raise GenbenchError(
            f"{path}: a bare safetensors file holds weights without an architecture; evaluate the "
            "genbench checkpoint folder that contains it, or name a 'package.module:function' "
            "entry point that builds the model and loads these weights"
        )
    if suffix in (".pkl", ".pickle"):
        raise GenbenchError(
            f"{path}: refusing to unpickle (it could run arbitrary code); export the generator as "
            "TorchScript, or save samples as .npz"
        )
    raise GenbenchError(
        f"{path}: unsupported file type {suffix or '(no suffix)'!r}; genbench reads .npz/.npy arrays, "
        "folders of images (png, jpg, bmp, tif, webp, …), TorchScript generators (.pt/.pth), genbench checkpoint "
        "folders and 'package.module:function' entry points"
    )


def _refuse_generator_options(latent_dim, what: str) -> None:
    if latent_dim is not None:
        raise GenbenchError(f"latent_dim applies only to generators, not to {what}")
