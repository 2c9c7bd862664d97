"""Record what the eight built-in baselines compute, so a refactor can prove it changed nothing.

For each model and each data kind (ring8 points, mnist-5k images) it trains a tiny net for a few
steps with seed 0 and records the sha256 of every tensor in ``model.safetensors`` (weights,
buffers, optimizer state), of the logged losses, of ``sample(16, seed=1)`` and, for models that
translate, of ``translate`` on 16 test inputs. ``tests/baselines/test_model_contract.py``
recomputes these with the same function and compares with the committed JSON; the JSON was
recorded before the conditioning/generate refactor (issue 8), so a passing test means the
refactor kept checkpoints and numbers bit-identical for the same seed.

Run from the repository root: ``python scripts/record_model_contract.py`` (writes
``tests/baselines/model_contract_reference.json``). Re-record only when a change to what a
model computes is intended, and say so in the commit.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "tests" / "baselines" / "model_contract_reference.json"
MODELS = ("gan", "dcgan", "cgan", "ae", "vae", "aae", "unrolled-gan", "minibatch-gan")
DATASETS = {"points": "ring8", "image": "mnist-5k"}
STEPS = 3
N_SAMPLES = 16


def tiny_overrides(name: str) -> dict:
    """Overrides that shrink a model to a few thousand parameters (a few ms per step)."""
    o: dict = {"batch_size": 8, "log_every": 1, "checkpoint_every": 100}
    if name in ("ae", "vae", "aae"):
        o.update(hidden=(16,), width=4)
        if name == "aae":
            o["d_hidden"] = (16,)
    else:
        o.update(g_hidden=(16, 16), d_hidden=(16,), g_width=4, d_width=4, z_dim=4)
        if name == "minibatch-gan":
            o.update(n_kernels=6, kernel_dim=3)
        if name == "unrolled-gan":
            o.update(unroll_steps=2)
    return o


def _sha(array: np.ndarray) -> str:
    a = np.ascontiguousarray(array)
    return hashlib.sha256(f"{a.dtype.str}|{a.shape}|".encode() + a.tobytes()).hexdigest()


def record_one(name: str, dataset, work: Path) -> dict:
    import baselines
    from baselines import checkpoint

    out = baselines.train(name, dataset, out_dir=work / f"{name}-{dataset.name}", overrides=tiny_overrides(name),
                          steps=STEPS, seed=0, device="cpu", progress=False)
    _, tensors = checkpoint.read(out)
    log = [json.loads(line) for line in (out / checkpoint.LOG_FILE).read_text().splitlines()]
    losses = [{k: v for k, v in entry.items() if k != "wall_time_s"} for entry in log]
    model = baselines.load(out, device="cpu")
    row = {
        "tensors": {k: _sha(v.numpy()) for k, v in sorted(tensors.items())},
        "losses": hashlib.sha256(json.dumps(losses, sort_keys=True).encode()).hexdigest(),
        "sample": _sha(model.sample(N_SAMPLES, seed=1)),
    }
    if baselines.MODELS[name].can_translate:
        row["translate"] = _sha(model.translate(dataset.split("test").samples[:N_SAMPLES]))
    return row


def record() -> dict:
    """{model: {kind: row}} computed now, with one torch thread (the test session's setting)."""
    from genbench.data import load_dataset

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        data = {kind: load_dataset(name) for kind, name in DATASETS.items()}
        with tempfile.TemporaryDirectory() as tmp:
            return {name: {kind: record_one(name, ds, Path(tmp)) for kind, ds in data.items()} for name in MODELS}
    finally:
        torch.set_num_threads(before)


def environment() -> dict:
    """Float results are bit-exact only for the same torch build and CPU: MKL and oneDNN pick
    their kernels (and summation orders) by the instruction sets present, so two x86_64 Xeons
    with the same torch can differ (seen: the AMX Xeon of 2026-12-07 against the reference
    recorded before). The vector-ISA flags of /proc/cpuinfo name the CPU closely enough."""
    return {"torch": torch.__version__, "numpy": np.__version__, "machine": platform.machine(),
            "python": platform.python_version(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "cpu_isa": _vector_isa()}


def _vector_isa() -> list[str]:
    """The AVX/AMX flags of the first CPU in /proc/cpuinfo (empty where there is none: not Linux)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return sorted(f for f in flags if f.startswith(("avx", "amx", "fma")))


def main() -> int:
    result = {"environment": environment(), "steps": STEPS, "n_samples": N_SAMPLES, "models": record()}
    REFERENCE.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {REFERENCE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
