"""The eight built-in baselines compute exactly what they computed when the reference was recorded.

``model_contract_reference.json`` was written by ``scripts/record_model_contract.py`` before the
model contract changed (issue 8: conditioning, one generate path, translate). Same seed → the
same checkpoint tensors (weights, buffers, optimizer state), losses, samples and translations,
bit for bit. Bit-exactness is a property of one torch build on one CPU architecture, so another
environment skips rather than fails.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("record_model_contract", REPO / "scripts" / "record_model_contract.py")
recorder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recorder)


def test_the_eight_baselines_are_bit_identical_to_the_recorded_reference():
    reference = json.loads(recorder.REFERENCE.read_text(encoding="utf-8"))
    if reference["environment"] != recorder.environment():
        pytest.skip(f"reference recorded with {reference['environment']}, this is {recorder.environment()}")
    now = recorder.record()
    assert set(now) == set(reference["models"]) == set(recorder.MODELS)
    differences = []
    for model, kinds in reference["models"].items():
        for kind, want in kinds.items():
            got = now[model][kind]
            if got["tensors"].keys() != want["tensors"].keys():
                differences.append(f"{model}/{kind}: tensor names {sorted(set(got['tensors']) ^ set(want['tensors']))}")
                continue
            differences += [f"{model}/{kind}: tensor {k}" for k in want["tensors"] if got["tensors"][k] != want["tensors"][k]]
            differences += [f"{model}/{kind}: {k}" for k in ("losses", "sample", "translate") if got.get(k) != want.get(k)]
    assert not differences, f"{len(differences)} differences, first: {differences[:8]}"
