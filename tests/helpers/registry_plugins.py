"""Faking third-party plug-ins for a registry (genbench.registry.Registry) in a test."""

from __future__ import annotations

import genbench.registry


def rediscover(monkeypatch, registry, entry_points) -> None:
    """Leave ``registry`` with the specs it holds now and make its next lookup read
    ``entry_points`` as its group's entry points; the test's monkeypatch restores both."""
    points = list(entry_points)
    monkeypatch.setattr(genbench.registry, "entry_points", lambda group=None: points if group == registry.group else [])
    monkeypatch.setattr(registry, "_specs", dict(registry._specs))
    monkeypatch.setattr(registry, "_discovered", False)
