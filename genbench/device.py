"""Choosing the torch device: CUDA when present, never a silent CPU fallback."""

from __future__ import annotations

import torch

from genbench.errors import GenbenchError


def resolve_device(requested: str | torch.device | None = None) -> torch.device:
    """``None``/``"auto"`` picks CUDA when available, else CPU.

    An explicit ``"cuda"`` on a machine without CUDA is an error: running on the CPU instead
    would change wall times and, for some kernels, numerics without the user knowing.
    """
    if requested is None or str(requested) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(requested, (str, torch.device)):
        raise GenbenchError(f"device {requested!r} is not a device name: use cpu, cuda, cuda:N or auto")
    try:
        device = torch.device(requested)
    except RuntimeError as exc:  # torch's "Invalid device string: 'gpu0'"
        raise GenbenchError(f"invalid device {str(requested)!r}: use cpu, cuda, cuda:N or auto") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GenbenchError(
            f"device {str(requested)!r} was requested but CUDA is not available on this machine "
            "(torch.cuda.is_available() is False); use --device cpu"
        )
    if device.type not in ("cpu", "cuda"):
        raise GenbenchError(f"unsupported device {str(requested)!r}: use cpu, cuda or cuda:N")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise GenbenchError(
            f"device {str(requested)!r} was requested but this machine has {torch.cuda.device_count()} "
            "CUDA device(s) (numbered from 0)"
        )
    return device
