"""Generators: a callable mapping Gaussian latents to samples, from a TorchScript file or a
Python entry point the user names.

Latents are ``z ~ N(0, I)`` of shape ``(B, latent_dim)``, drawn in float32 from
``numpy.random.default_rng(seed).standard_normal`` batch after batch. numpy fills that stream
element by element, so the samples depend on the seed only, never on the batch size or the
device. Only one batch is in memory at a time.

Loading is where untrusted checkpoints could run code, so: ``.pt``/``.pth`` files are loaded
only as TorchScript (whose loader does not execute Python pickles); a plain ``torch.save``
file is inspected with ``torch.load(weights_only=True)`` and refused either way, with a
message saying how to export the model. An entry point runs because the user named it.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import pickle
import re
import sys
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from genbench.device import resolve_device
from genbench.errors import GenbenchError
from genbench.sources.base import (
    Converter,
    ModelSource,
    ValueRange,
    check_count,
    detect_layout,
    sha256_file,
)

log = logging.getLogger(__name__)

ENTRY_POINT_RE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")

EXPORT_HINT = (
    "export the generator as TorchScript (torch.jit.script(G).save('G.pt') or "
    "torch.jit.trace(G, z).save('G.pt')), or save its weights with safetensors and name a "
    "Python entry point 'package.module:function' that builds the model and loads them"
)


def latents(seed: int, start: int, count: int, latent_dim: int) -> np.ndarray:
    """Rows ``start .. start+count`` of the seeded latent stream (used by tests and docs)."""
    rng = np.random.default_rng(seed)
    if start:
        rng.standard_normal((start, latent_dim), dtype=np.float32)
    return rng.standard_normal((count, latent_dim), dtype=np.float32)


class GeneratorSource(ModelSource):
    """Samples from ``generator(z)`` with seeded Gaussian latents."""

    def __init__(self, generator: Callable, *, latent_dim: int, value_range: ValueRange | None = None,
                 resize=None, device=None, where: str = "generator", provenance: dict | None = None):
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, (int, np.integer)) or latent_dim < 1:
            raise GenbenchError(f"{where}: latent_dim must be a positive integer, got {latent_dim!r}")
        self.generator = generator
        self.latent_dim = int(latent_dim)
        self.device = resolve_device(device)
        self._where = where
        self._value_range = value_range
        self._resize = resize
        self._provenance = dict(provenance or {})
        self._converter: Converter | None = None
        if isinstance(generator, torch.nn.Module):
            generator.eval()
        self._ensure_converter()  # one small probe: a wrong output shape or range fails at open

    def _generate(self, z: np.ndarray) -> np.ndarray:
        zt = torch.from_numpy(z).to(self.device)
        with torch.no_grad():
            try:
                out = self.generator(zt)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # the user's model (even its sys.exit): say where it failed
                raise GenbenchError(
                    f"{self._where}: calling the generator on latents of shape {tuple(z.shape)} failed: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        if isinstance(out, (tuple, list)) and len(out) == 1:
            out = out[0]
        if not (isinstance(out, torch.Tensor) or isinstance(out, np.ndarray)):
            raise GenbenchError(
                f"{self._where}: the generator returned {type(out).__name__}; it must return one tensor "
                "of images (B×C×H×W, B×H×W×C, B×H×W) or points (B×2)"
            )
        out = out.detach().cpu().numpy() if isinstance(out, torch.Tensor) else out
        if out.shape[0] != z.shape[0]:
            raise GenbenchError(
                f"{self._where}: the generator returned {out.shape[0]} samples for {z.shape[0]} latents"
            )
        return out

    def _ensure_converter(self) -> Converter:
        if self._converter is None:
            probe = self._generate(latents(0, 0, 2, self.latent_dim))
            layout = detect_layout(probe.shape, probe.dtype, f"{self._where} output")
            self._converter = Converter(layout, probe.dtype, self._value_range, self._resize, f"{self._where} output")
            self._probe_shape = tuple(self._converter(probe).shape[1:])
        return self._converter

    def batches(self, n: int, batch_size: int = 250, seed: int = 0) -> Iterator[np.ndarray]:
        n, batch_size = check_count(n, batch_size, None, self._where)
        conv = self._ensure_converter()
        rng = np.random.default_rng(seed)
        for start in range(0, n, batch_size):
            b = min(batch_size, n - start)
            z = rng.standard_normal((b, self.latent_dim), dtype=np.float32)
            yield conv(self._generate(z))
        conv.check_declared_range()

    def describe(self) -> dict:
        conv = self._ensure_converter()
        d = {
            "type": "generator",
            **self._provenance,
            "kind": conv.kind,
            "latent_dim": self.latent_dim,
            "latents": "numpy.random.default_rng(seed).standard_normal((n, latent_dim), float32)",
            "device": str(self.device),
            **conv.describe(),
        }
        if conv.n_values:
            d["clipped_fraction"] = conv.n_clipped / conv.n_values
        return d


def _resolve_latent_dim(latent_dim, generator, where: str) -> int:
    declared = getattr(generator, "latent_dim", None)
    if isinstance(declared, bool) or not isinstance(declared, (int, np.integer)):
        declared = None
    if latent_dim is None:
        if declared is None:
            raise GenbenchError(
                f"{where}: the generator's latent dimension is unknown; give it with latent_dim=D "
                "(on the command line --latent-dim D)"
            )
        return int(declared)
    if declared is not None and int(declared) != int(latent_dim):
        raise GenbenchError(
            f"{where}: latent_dim={latent_dim} was given but the generator declares latent_dim={declared}"
        )
    return int(latent_dim)


def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    return any(n.endswith("/constants.pkl") or n == "constants.pkl" for n in names) and any(
        "/code/" in n for n in names
    )


def verify_zip_archive(path: Path) -> None:
    """Check every member of a zip archive against its CRC-32, reading 1 MiB at a time.

    A TorchScript file is a zip archive, and torch's reader does not check the CRCs: a file with
    flipped bytes in its weights loads and is scored, giving a different number without any
    complaint. Reading the file once more is cheap next to generating samples.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                with zf.open(info) as member:
                    while member.read(1 << 20):
                        pass
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError) as exc:  # RuntimeError: an encrypted member
        raise GenbenchError(
            f"{path}: the archive is corrupt ({exc}): the file was damaged or altered after it was "
            "saved; copy or export it again"
        ) from exc


def load_torchscript(path: Path, device, what: str = "generator"):
    """A TorchScript module from ``path``: anything else saved by torch is refused without
    unpickling code, and the archive's checksums are verified first (torch does not)."""
    if not _is_torchscript(path):
        _refuse_torch_save_file(path)
    verify_zip_archive(path)
    try:
        with warnings.catch_warnings():  # torch.jit.load is deprecated in favour of torch.export
            warnings.simplefilter("ignore", FutureWarning)
            return torch.jit.load(str(path), map_location=device)
    except Exception as exc:
        raise GenbenchError(f"{path}: cannot load the TorchScript {what} ({exc})") from exc


def open_torch_file(path: Path, *, latent_dim=None, value_range=None, resize=None, device=None) -> GeneratorSource:
    """A TorchScript generator (see ``load_torchscript``)."""
    where = str(path)
    dev = resolve_device(device)
    generator = load_torchscript(path, dev)
    latent_dim = _resolve_latent_dim(latent_dim, generator, where)
    provenance = {"type": "torchscript", "path": str(path.resolve()), "sha256": sha256_file(path)}
    return GeneratorSource(generator, latent_dim=latent_dim, value_range=value_range, resize=resize,
                           device=dev, where=where, provenance=provenance)


def _refuse_torch_save_file(path: Path):
    """Explain why a non-TorchScript torch file cannot be used, loading it only weights-only."""
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise GenbenchError(
            f"{path}: refusing to load a pickled model: unpickling it could run arbitrary code "
            f"(checkpoints are untrusted input); {EXPORT_HINT}"
        ) from exc
    except Exception as exc:
        raise GenbenchError(f"{path}: not a TorchScript file and not readable as torch weights ({exc})") from exc
    what = "a state dict (weights only)" if isinstance(obj, dict) else f"a {type(obj).__name__}"
    raise GenbenchError(
        f"{path}: holds {what}, not a generator: genbench cannot rebuild the architecture from "
        f"weights; {EXPORT_HINT}"
    )


def is_entry_point(spec: str) -> bool:
    return bool(ENTRY_POINT_RE.match(spec))


def build_from_entry_point(spec: str, device, what: str = "generator") -> tuple[Callable, str | None]:
    """Import ``package.module:function`` (the current directory importable, as for ``python -m``)
    and call it, with ``device=`` if it accepts it; returns what it built and the module's file.
    Any exception from user code, even ``SystemExit``, becomes an error naming the entry point."""
    module_name, _, attr_path = spec.partition(":")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.append(cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise GenbenchError(
            f"entry point {spec!r}: cannot import module {module_name!r} ({exc}); it must be "
            "installed or importable from the current directory"
        ) from exc
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # user code: a sys.exit(0) in it must not end genbench with exit 0
        raise GenbenchError(f"entry point {spec!r}: importing {module_name!r} failed: {type(exc).__name__}: {exc}") from exc
    obj = module
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            raise GenbenchError(f"entry point {spec!r}: {module_name!r} has no attribute {attr_path!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise GenbenchError(f"entry point {spec!r}: {attr_path!r} is not callable")
    try:
        params = inspect.signature(obj).parameters
        takes_device = "device" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
    except (TypeError, ValueError):
        takes_device = False
    log.info("calling entry point %s to build the %s", spec, what)
    try:
        built = obj(device=device) if takes_device else obj()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        raise GenbenchError(f"entry point {spec!r}: building the {what} failed: {type(exc).__name__}: {exc}") from exc
    if isinstance(built, torch.nn.Module):
        built = built.to(device)
    return built, getattr(module, "__file__", None)


def open_entry_point(spec: str, *, latent_dim=None, value_range=None, resize=None, device=None) -> GeneratorSource:
    """``package.module:function``: ``function()`` returns the generator callable."""
    dev = resolve_device(device)
    generator, module_file = build_from_entry_point(spec, dev)
    if not callable(generator):
        raise GenbenchError(
            f"entry point {spec!r} returned {type(generator).__name__}; it must return a generator "
            "callable mapping a latent tensor (B×latent_dim) to samples"
        )
    latent_dim = _resolve_latent_dim(latent_dim, generator, f"entry point {spec!r}")
    provenance = {"type": "entry-point", "entry_point": spec, "module_file": module_file}
    return GeneratorSource(generator, latent_dim=latent_dim, value_range=value_range, resize=resize,
                           device=dev, where=f"entry point {spec!r}", provenance=provenance)
