"""The one override path (suite ``overrides:``, ``train --set``, runner): values checked by declared type."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from genbench.errors import GenbenchError
from genbench.overrides import MAX_SIZE, OverrideError, apply_overrides


@dataclass(frozen=True)
class Cfg:
    batch_size: int = 64
    g_hidden: tuple[int, ...] = (8, 8)
    lr: float = 1e-3
    offset: int = -1
    steps: int = 10
    amp: bool = False
    loss: str = "bce"
    n_classes: int | None = None

    def __post_init__(self):
        if self.loss not in ("bce", "hinge"):
            raise ValueError(f"loss must be 'bce' or 'hinge', got {self.loss!r}")


def test_values_are_applied_with_their_declared_types():
    c = apply_overrides(Cfg(), {"g_hidden": [4, 5], "lr": 1, "offset": -5, "steps": 0, "n_classes": 3, "loss": "hinge"})
    assert c == Cfg(g_hidden=(4, 5), lr=1.0, offset=-5, steps=0, n_classes=3, loss="hinge")
    assert isinstance(c.lr, float)
    assert apply_overrides(Cfg(), {}) == Cfg() and apply_overrides(Cfg(), None) == Cfg()


@pytest.mark.parametrize("overrides,message", [
    ({"batch_size": 32.0}, "w.batch_size: must be an integer, got 32.0"),  # refused everywhere, not truncated
    ({"batch_size": 0}, f"w.batch_size: must be between 1 and {MAX_SIZE:,} (a size), got 0"),
    ({"g_hidden": [-3]}, "w.g_hidden[0]: must be between 1"),
    ({"g_hidden": [200_000]}, "w.g_hidden[0]: must be between 1"),
    ({"g_hidden": ["abc"]}, "w.g_hidden[0]: must be an integer, got 'abc'"),
    ({"g_hidden": [1.5, 2]}, "w.g_hidden[0]: must be an integer, got 1.5"),
    ({"g_hidden": [[1, 2]]}, "w.g_hidden: must be a list of integers, got a nested list"),
    ({"g_hidden": 8}, "w.g_hidden: must be a list of integers, got 8"),
    ({"g_hidden": [1] * 1001}, "w.g_hidden: must have at most 1,000 items, got 1,001"),
    ({"lr": float("nan")}, "w.lr: must be a finite number, got nan"),
    ({"lr": float("inf")}, "w.lr: must be a finite number, got inf"),
    ({"lr": 10**400}, "w.lr: is too large for a float"),
    ({"lr": "fast"}, "w.lr: must be a number, got 'fast'"),
    ({"steps": -1}, "w.steps: must be >= 0, got -1"),
    ({"steps": 2**70}, "w.steps: does not fit a 64-bit integer"),
    ({"amp": 1}, "w.amp: must be true or false, got 1"),
    ({"batch_size": True}, "w.batch_size: must be an integer, got the boolean true"),
    ({"loss": ["bce"]}, "w.loss: must be a string"),
    ({"loss": "mse"}, "w.loss: is invalid: loss must be 'bce' or 'hinge', got 'mse'"),  # __post_init__ ValueError
    ({"los": "bce"}, "w.los: unknown config key for Cfg; valid keys: amp, batch_size"),
])
def test_bad_values_are_one_line_errors_naming_the_key(overrides, message):
    with pytest.raises(OverrideError) as exc:
        apply_overrides(Cfg(), overrides, where="w")
    assert isinstance(exc.value, GenbenchError)
    assert str(exc.value).startswith(message), str(exc.value)
    assert "\n" not in str(exc.value)


def test_without_where_the_message_names_the_key():
    with pytest.raises(GenbenchError, match=r"^config key 'batch_size' must be an integer, got 'big'$"):
        apply_overrides(Cfg(), {"batch_size": "big"})
    with pytest.raises(GenbenchError, match=r"^unknown config key\(s\) lr_g, x for Cfg; valid keys: amp"):
        apply_overrides(Cfg(), {"lr_g": 1.0, "x": 1})
