"""A name → spec registry whose third-party entries come from an entry-point group.

Metrics (``genbench.metrics``), datasets (``genbench.datasets``), extractors
(``genbench.extractors``) and models (``genbench.models``) each keep one. Entry points
are read on the first lookup, not at import: a plug-in module that imports ``genbench.data`` and
``genbench.features`` (to declare a dataset and its extractor) would otherwise be imported while
those modules are half-initialised. A broken plug-in, or one reusing an installed name, is
skipped with a warning: installing a bad package must not break genbench.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from importlib.metadata import entry_points
from typing import Callable, Generic, TypeVar

log = logging.getLogger(__name__)

S = TypeVar("S")


class Registry(Mapping[str, S], Generic[S]):
    """Read-only mapping name → spec; ``register`` adds one (a name may be registered once)."""

    def __init__(self, what: str, spec_type: type, group: str, check: Callable[[S], str | None] | None = None):
        self.what = what  # "dataset", "extractor": used in messages
        self.spec_type = spec_type
        self.group = group
        self.check = check  # spec → what makes it unusable (e.g. a clashing column), or None
        self._specs: dict[str, S] = {}
        self._discovered = False

    def register(self, spec: S) -> S:
        if not isinstance(spec, self.spec_type):
            raise TypeError(f"{spec!r} is not a {self.spec_type.__module__}.{self.spec_type.__name__}")
        if spec.name in self._specs:
            raise ValueError(f"{self.what} {spec.name!r} is registered twice")
        problem = self.check(spec) if self.check else None
        if problem:
            raise ValueError(f"{self.what} {spec.name!r}: {problem}")
        self._specs[spec.name] = spec
        return spec

    def registered(self) -> list[S]:
        """The specs registered so far, without reading entry points (for ``check`` functions,
        which run while registering)."""
        return list(self._specs.values())

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
                problem = self.check(spec) if self.check and spec.name not in self._specs else None
                if problem:
                    raise ValueError(problem)
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
