"""Random weights for the FID Inception network, shared by the equality tests and the benchmark."""

from __future__ import annotations

import numpy as np
import torch

from genbench.features.inception import build_fid_inception


def save_random_fid_weights(path, seed: int = 0) -> None:
    """A state dict with the FID network's exact keys and shapes and random values.

    He-normal conv/fc weights and BN statistics near identity keep activations O(1) through the
    ~90 layers, so the features are informative (they differ between images) rather than 0 or inf.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in build_fid_inception().state_dict().items()}
    state = {}
    for key, shape in shapes.items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.zeros((), dtype=torch.long)
        elif key.endswith(("running_var", "bn.weight")):
            state[key] = 0.5 + torch.rand(shape, generator=g)
        elif key.endswith(("running_mean", "bias")):
            state[key] = 0.1 * torch.randn(shape, generator=g)
        else:
            fan_in = int(np.prod(shape[1:]))
            state[key] = torch.randn(shape, generator=g) * (2.0 / fan_in) ** 0.5
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
