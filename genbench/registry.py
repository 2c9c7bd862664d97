"""A name → spec registry whose third-party entries come from an entry-point group.

Datasets (``genbench.datasets``) and extractors (``genbench.extractors``) use it. Entry points
are read on the first lookup, not at import: a plug-in module that imports ``genbench.data`` and
``genbench.features`` (to declare a dataset and its extractor) would otherwise be imported while
those modules are half-initialised. A broken plug-in, or one reusing an installed name, is
skipped with a warning: installing a bad package must not break genbench.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from importlib.metadata import entry_points
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

S = TypeVar("S")


class Registry(Mapping[str, S], Generic[S]):
    """Read-only mapping name → spec; ``register`` adds one (a name may be registered once)."""

    def __init__(self, what: str, spec_type: type, group: str):
        self.what = what  # "dataset", "extractor": used in messages
        self.spec_type = spec_type
        self.group = group
        self._specs: dict[str, S] = {}
        self._discovered = False

    def register(self, spec: S) -> S:
        if not isinstance(spec, self.spec_type):
            raise TypeError(f"{spec!r} is not a {self.spec_type.__module__}.{self.spec_type.__name__}")
        if spec.name in self._specs:
            raise ValueError(f"{self.what} {spec.name!r} is registered twice")
        self._specs[spec.name] = spec
        return spec

    def _discover(self) -> None:
        """Register each entry point's spec (or what the function it names returns), once."""
        if self._discovered:
            return
        self._discovered = True  # first, so a plug-in that reads the registry does not recurse
        kind = f"{self.spec_type.__module__}.{self.spec_type.__name__}"
        for ep in entry_points(group=self.group):
            try:
                obj = ep.load()
                spec = obj() if callable(obj) and not isinstance(obj, self.spec_type) else obj
                if not isinstance(spec, self.spec_type):
                    raise TypeError(f"not a {kind}")
            except Exception as exc:
                log.warning("could not load %s plug-in %r (%s): %s", self.what, ep.name, ep.value, exc)
                continue
            if spec.name in self._specs:
                log.warning("%s plug-in %r reuses the name %r of an installed %s; ignored",
                            self.what, ep.value, spec.name, self.what)
                continue
            self._specs[spec.name] = spec

    def __getitem__(self, name: str) -> S:
        self._discover()
        return self._specs[name]

    def __iter__(self) -> Iterator[str]:
        self._discover()
        return iter(self._specs)

    def __len__(self) -> int:
        self._discover()
        return len(self._specs)

    def __repr__(self) -> str:
        return f"Registry({self.what}: {', '.join(self)})"
