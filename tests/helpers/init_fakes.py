"""Fakes for suites whose models start from another's checkpoint (``init_from``): picklable, so
Ray and submitit workers can import them."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from suite_fakes import FakeBackend, FakeConfig
from genbench.errors import GenbenchError
from genbench.suite import Registries


@dataclass(frozen=True)
class InitConfig(FakeConfig):
    init_from: str = ""


class InitBackend(FakeBackend):
    """``fake-pre`` trains slowly; ``fake-init`` must find the pre-trained checkpoint at init_from."""

    MODELS = {**FakeBackend.MODELS, "fake-pre": (("image",), False), "fake-init": (("image",), False)}

    def __init__(self, counter_dir=None):
        super().__init__(counter_dir)
        self.started_from: list[str] = []
        self.lock = threading.Lock()

    def __getstate__(self):
        return {**self.__dict__, "lock": None}

    def __setstate__(self, state):
        self.__dict__.update(state, lock=threading.Lock())

    def default_config(self, model, dataset, profile):
        if model == "fake-init":
            return InitConfig(quality=0.5)
        return FakeConfig(quality=0.5, sleep_s=0.4 if model == "fake-pre" else 0.0)

    def train(self, model, dataset, *, out_dir, config, steps, seed, device, progress):
        if model == "fake-init":
            src = Path(config.init_from)
            assert json.loads((src / "config.json").read_text())["model"] == "fake-pre"  # trained before us
            with self.lock:
                self.started_from.append(str(src))
            self._count("init_from", str(src))
        return super().train(model, dataset, out_dir=out_dir, config=config, steps=steps, seed=seed,
                             device=device, progress=progress)


def _check_init_source(model, config, source_model, source_config):
    if source_model != "fake-pre":
        raise GenbenchError(f"{model} cannot start from a {source_model} checkpoint; it can start from: fake-pre")
    if source_config.width != config.width:
        raise GenbenchError(f"{model}: the fake-pre it starts from has width={source_config.width}, this config {config.width}")


def init_registries(backend):
    return Registries(models=tuple(backend.MODELS), datasets=("digits",), extractors=("fake-extractor",),
                      default_config=lambda m, d, p: backend.default_config(m, None, p),
                      check_init_source=_check_init_source)
