"""Checkpoint format: tensors in safetensors, everything else in JSON. Nothing is unpickled.

A checkpoint directory holds

- ``model.safetensors`` — network weights and buffers under ``<net>.<param>`` (e.g. ``G.project.weight``)
  and, for resuming, optimizer tensors under ``optim.<optimizer>.<param index>.<key>``. Its
  safetensors header metadata ``genbench`` holds the full JSON record below, so the file alone is a
  complete, self-consistent checkpoint.
- ``config.json`` — the same record for people and tools: format, model name, config, dataset
  fingerprint, seed, step, finished flag, data statistics, optimizer hyper-parameters.
- ``train_log.jsonl`` — one JSON object per logged step (step, each loss, wall time).

Both files are written atomically (temporary file, fsync, rename). ``model.safetensors`` is written
first and is authoritative: a kill between the two renames leaves a ``config.json`` one checkpoint
behind, which the next save or resume rewrites.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from genbench import atomic
from genbench.errors import GenbenchError

FORMAT = "genbench-baseline/1"
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
LOG_FILE = "train_log.jsonl"
_META_KEY = "genbench"


def exists(directory: str | Path) -> bool:
    return (Path(directory) / MODEL_FILE).exists()


def save(directory: str | Path, nets: nn.ModuleDict, optimizers: dict[str, torch.optim.Optimizer],
         record: dict) -> None:
    """Write weights + optimizer state + ``record`` atomically into ``directory``."""
    directory = Path(directory)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in nets.state_dict().items()}
    opt_records = {}
    for name, opt in optimizers.items():
        sd = opt.state_dict()
        scalars: dict[str, dict] = {}
        for pid, state in sd["state"].items():
            for key, value in state.items():
                if torch.is_tensor(value):
                    tensors[f"optim.{name}.{pid}.{key}"] = value.detach().to("cpu").contiguous().clone()
                else:
                    scalars.setdefault(str(pid), {})[key] = value
        opt_records[name] = {"param_groups": sd["param_groups"], "scalars": scalars}
    record = {"format": FORMAT, **record, "optimizers": opt_records}
    text = json.dumps(record, allow_nan=False)
    with atomic.atomic_path(directory / MODEL_FILE) as tmp:
        save_file(tensors, str(tmp), metadata={_META_KEY: text})
    public = {k: v for k, v in record.items() if k != "optimizers"}
    atomic.write_json(directory / CONFIG_FILE, public)


def read(directory: str | Path) -> tuple[dict, dict[str, torch.Tensor]]:
    """Return ``(record, tensors)``; any damage is a ``GenbenchError`` naming the file."""
    path = Path(directory) / MODEL_FILE
    if not path.exists():
        raise GenbenchError(f"{path}: no such checkpoint file (is {directory} a genbench baseline checkpoint?)")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise GenbenchError(f"{path}: corrupt or unreadable checkpoint ({exc}); delete it to retrain") from exc
    try:
        record = json.loads(meta[_META_KEY])
    except (KeyError, json.JSONDecodeError, RecursionError) as exc:
        raise GenbenchError(f"{path}: checkpoint has no valid genbench record in its metadata") from exc
    _check_record(record, path)
    return record, tensors


# Required record fields and the JSON types they must have; the header is untrusted input.
_REQUIRED = {"model": str, "config": dict, "step": int}
_OPTIONAL = {"seed": int, "finished": bool, "dataset": str, "dataset_fingerprint": dict, "data_stats": dict,
             "optimizers": dict}


def _check_record(record: object, path: Path) -> None:
    """One-line errors for a record that later code could not use (missing keys, wrong types)."""
    if not isinstance(record, dict):
        raise GenbenchError(f"{path}: checkpoint record must be a JSON object, got {type(record).__name__}")
    if record.get("format") != FORMAT:
        raise GenbenchError(f"{path}: unsupported checkpoint format {record.get('format')!r} (expected {FORMAT})")
    for key, kind in _REQUIRED.items():
        if key not in record:
            raise GenbenchError(f"{path}: checkpoint record has no {key!r}")
    for key, kind in {**_REQUIRED, **_OPTIONAL}.items():
        value = record.get(key)
        if key in record and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            raise GenbenchError(f"{path}: checkpoint record {key!r} must be {_TYPE_NAMES[kind]}, got {type(value).__name__}")
    if record["step"] < 0:
        raise GenbenchError(f"{path}: checkpoint record 'step' must be >= 0, got {record['step']}")
    stats = record.get("data_stats") or {}
    for key in ("mean", "std"):
        value = stats.get(key)
        if value is not None and not (isinstance(value, list) and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
            raise GenbenchError(f"{path}: checkpoint record data_stats.{key} must be a list of numbers or null")
    for name, opt in (record.get("optimizers") or {}).items():
        if not (isinstance(opt, dict) and isinstance(opt.get("param_groups"), list)
                and all(isinstance(g, dict) for g in opt["param_groups"]) and isinstance(opt.get("scalars"), dict)):
            raise GenbenchError(f"{path}: checkpoint optimizer record {name!r} is malformed")


_TYPE_NAMES = {str: "a string", dict: "a JSON object", int: "an integer", bool: "true or false"}


def load_networks(nets: nn.ModuleDict, tensors: dict[str, torch.Tensor], path: str | Path) -> None:
    weights = {k: v for k, v in tensors.items() if not k.startswith("optim.")}
    try:
        nets.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        raise GenbenchError(f"{path}: weights do not fit the model its config describes ({exc})") from exc


def load_optimizers(optimizers: dict[str, torch.optim.Optimizer], record: dict,
                    tensors: dict[str, torch.Tensor], path: str | Path) -> None:
    saved = record.get("optimizers", {})
    if set(saved) != set(optimizers):
        raise GenbenchError(f"{path}: checkpoint holds optimizers {sorted(saved)}, model needs {sorted(optimizers)}")
    for name, opt in optimizers.items():
        try:
            opt.load_state_dict(_optimizer_state(name, saved[name], tensors))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise GenbenchError(f"{path}: optimizer state {name!r} does not fit the model ({exc})") from exc


def _optimizer_state(name: str, saved: dict, tensors: dict[str, torch.Tensor]) -> dict:
    state: dict[int, dict] = {}
    prefix = f"optim.{name}."
    for key, value in tensors.items():
        if key.startswith(prefix):
            pid, field = key[len(prefix):].split(".", 1)
            state.setdefault(int(pid), {})[field] = value
    for pid, scalars in saved["scalars"].items():
        state.setdefault(int(pid), {}).update(scalars)
    groups = saved["param_groups"]
    for g in groups:
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
    return {"state": state, "param_groups": groups}
