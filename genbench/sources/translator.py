"""Translators: a user's image-to-image model applied to given input images (a paired split's
inputs), so that its outputs can be scored against the split's targets.

The translator is a callable ``images → images``: a Python entry point ``package.module:function``
whose call returns it, a TorchScript file, a genbench checkpoint folder of a model that translates,
or a callable passed in memory. Inputs reach it as a torch tensor B×C×H×W: ``uint8`` when no value
range is declared, else ``float32`` in the declared range ((0, 1) or (-1, 1)); its outputs are
read in that same range (or as uint8) exactly like a generator's. Outputs come in input order, one
per input, so output ``i`` is scored against target ``i``; the seed is not used (translation
here is a deterministic function of the input).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

import baselines
from genbench.data.dataset import Split
from genbench.device import resolve_device
from genbench.errors import GenbenchError
from genbench.sources.base import Converter, SampleSource, ValueRange, check_count, detect_layout, sha256_file
from genbench.sources.checkpoint import is_checkpoint_dir
from genbench.sources.generators import build_from_entry_point, is_entry_point, load_torchscript

TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".ts", ".ptl", ".jit")


class TranslatorSource(SampleSource):
    """``translator(inputs[i:i+b])`` for the first ``n`` inputs, batch by batch, in contract form."""

    def __init__(self, translator: Callable, inputs, *, value_range: ValueRange | None = None, resize=None,
                 device=None, where: str = "translator", provenance: dict | None = None):
        if not callable(translator):
            raise GenbenchError(f"{where}: a translator must be callable (images → images), got {type(translator).__name__}")
        if isinstance(inputs, Split):
            if inputs.inputs is None:
                raise GenbenchError(f"{where}: the split has no input images to translate (it is not image-to-image data)")
            if inputs.sizes is not None:
                raise GenbenchError(f"{where}: the split's images differ in size; score a folder of them with "
                                    "genbench eval TRANSLATOR --task srN --targets FOLDER, or in a suite")
            inputs = inputs.inputs
        self.inputs = np.asarray(inputs)
        if self.inputs.dtype != np.uint8 or self.inputs.ndim != 4 or self.inputs.shape[1] not in (1, 3):
            raise GenbenchError(f"{where}: input images must be uint8 N×C×H×W with C = 1 or 3, "
                                f"got {self.inputs.dtype} {self.inputs.shape}")
        if len(self.inputs) == 0:
            raise GenbenchError(f"{where}: no input images to translate")
        self.translator, self.device = translator, resolve_device(device)
        self._value_range, self._resize, self._where = value_range, resize, where
        self._provenance = dict(provenance or {})
        self._converter: Converter | None = None
        if isinstance(translator, torch.nn.Module):
            translator.eval()
        self._probe_shape = tuple(self._translate(self.inputs[:2]).shape[1:])  # a wrong output fails at open

    @property
    def kind(self) -> str:
        return "image"

    @property
    def n_available(self) -> int:
        return len(self.inputs)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self._probe_shape

    def _translate(self, batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(batch))
        if self._value_range is not None:
            lo, hi = self._value_range
            x = x.float() / 255.0 * (hi - lo) + lo
        with torch.no_grad():
            try:
                out = self.translator(x.to(self.device))
            except (Exception, SystemExit) as exc:  # the user's model: say where it failed, keep the cause
                raise GenbenchError(f"{self._where}: translating inputs of shape {tuple(batch.shape)} failed: "
                                    f"{type(exc).__name__}: {exc}") from exc
        if isinstance(out, (tuple, list)) and len(out) == 1:
            out = out[0]
        if not isinstance(out, (torch.Tensor, np.ndarray)):
            raise GenbenchError(f"{self._where}: the translator returned {type(out).__name__}; it must return "
                                "one tensor of images (B×C×H×W, B×H×W×C or B×H×W)")
        out = out.detach().cpu().numpy() if isinstance(out, torch.Tensor) else out
        if out.ndim < 1 or out.shape[0] != len(batch):
            raise GenbenchError(f"{self._where}: the translator returned {out.shape[0] if out.ndim else 0} "
                                f"outputs for {len(batch)} inputs")
        if self._converter is None:
            where = f"{self._where} output"
            layout = detect_layout(out.shape, out.dtype, where)
            if layout.kind != "image":
                raise GenbenchError(f"{where}: a translator must return images, got points of shape {out.shape}")
            self._converter = Converter(layout, out.dtype, self._value_range, self._resize, where)
        return self._converter(out)

    def batches(self, n: int, batch_size: int = 250, seed: int = 0) -> Iterator[np.ndarray]:
        n, batch_size = check_count(n, batch_size, self.n_available, self._where)
        for start in range(0, n, batch_size):
            yield self._translate(self.inputs[start:min(start + batch_size, n)])

    def describe(self) -> dict:
        inputs = np.ascontiguousarray(self.inputs)
        d = {"type": "translator", **self._provenance,
             "inputs": {"n": len(inputs), "shape": list(inputs.shape[1:]),
                        "sha256": hashlib.sha256(inputs.tobytes()).hexdigest()},
             "input_range": list(self._value_range) if self._value_range else "uint8",
             "device": str(self.device), "kind": "image", **self._converter.describe()}
        if self._converter.n_values:
            d["clipped_fraction"] = self._converter.n_clipped / self._converter.n_values
        return d


def open_translator(spec, inputs, *, value_range=None, resize=None, device=None) -> TranslatorSource:
    """``spec`` (a callable, entry point, TorchScript file or checkpoint folder) applied to ``inputs``."""
    dev = resolve_device(device)
    if callable(spec) and not isinstance(spec, (str, os.PathLike)):
        return TranslatorSource(spec, inputs, value_range=value_range, resize=resize, device=dev,
                                where=f"translator {type(spec).__name__}", provenance={"source": "in-memory callable"})
    if not isinstance(spec, (str, os.PathLike)):
        raise GenbenchError(f"cannot open {type(spec).__name__} as a translator: give a callable, a path or an entry point")
    path = Path(spec)
    if is_checkpoint_dir(path):
        return _open_checkpoint(path, inputs, value_range, resize, dev)
    if path.is_file() and path.suffix.lower() in TORCHSCRIPT_SUFFIXES:
        module = load_torchscript(path, dev, "translator")
        provenance = {"source": "torchscript", "path": str(path.resolve()), "sha256": sha256_file(path)}
        return TranslatorSource(module, inputs, value_range=value_range, resize=resize, device=dev,
                                where=str(path), provenance=provenance)
    if not path.exists() and isinstance(spec, str) and is_entry_point(spec):
        translator, module_file = build_from_entry_point(spec, dev, "translator")
        return TranslatorSource(translator, inputs, value_range=value_range, resize=resize, device=dev,
                                where=f"translator {spec!r}",
                                provenance={"source": "entry-point", "entry_point": spec, "module_file": module_file})
    raise GenbenchError(f"{spec}: not a translator: give a 'package.module:function' entry point, a TorchScript "
                        "file (.pt/.pth) or a genbench checkpoint folder of a model that translates")


def _open_checkpoint(path: Path, inputs, value_range, resize, device) -> TranslatorSource:
    if value_range is not None:
        raise GenbenchError(f"{path}: a genbench checkpoint translates uint8 images itself; a value range does not apply")
    model = baselines.load(path, device=device)
    if not model.can_translate:
        raise GenbenchError(f"{path}: model {model.name!r} cannot translate images")
    provenance = {"source": "genbench-checkpoint", "path": str(path.resolve()), "model": model.name,
                  "step": model.step, "sha256": sha256_file(path / "model.safetensors")}
    return TranslatorSource(lambda x: model.translate(x.cpu().numpy()), inputs, resize=resize, device=device,
                            where=str(path), provenance=provenance)
