"""Between the dataset contract and what the networks see.

Images arrive as ``uint8`` N×C×H×W and go to the networks as floats in [-1, 1] (GANs, tanh
output) or [0, 1] (autoencoders, sigmoid/Bernoulli output); samples go back exactly as saving a
PNG would quantise them: ``round(clip(x, 0, 1) * 255)``. Points are standardised per dimension
with the training split's mean and std (the papers scale toy data by hand, e.g. Metz 2017 divides
the discriminator input by 4; standardising does the same for any ring/grid size) and returned as
float32 in data units. Voxels (uint8 N×1×D×H×W occupancy, 0/255) take the image path: the same
scaling in and the same rounding out, so a generator's occupancy probabilities become 0..255.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from genbench.errors import GenbenchError


@dataclass(frozen=True)
class DataCodec:
    kind: str  # 'image' | 'points' | 'voxels'
    image_range: str = "tanh"  # 'tanh' = [-1, 1], 'unit' = [0, 1]
    mean: tuple[float, ...] | None = None  # points only
    std: tuple[float, ...] | None = None

    @classmethod
    def fit(cls, kind: str, image_range: str, train_samples: np.ndarray) -> "DataCodec":
        if kind == "points":
            x = np.asarray(train_samples, dtype=np.float64)
            std = x.std(axis=0)
            if not np.all(np.isfinite(x)):
                raise GenbenchError("training points contain NaN or Inf")
            std = np.where(std > 0, std, 1.0)
            return cls(kind, image_range, tuple(float(v) for v in x.mean(axis=0)), tuple(float(v) for v in std))
        return cls(kind, image_range)

    def stats(self) -> dict:
        return {"mean": list(self.mean) if self.mean else None, "std": list(self.std) if self.std else None}

    def encode(self, samples: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
        """A contract-form batch → float32 model-space tensor on ``device``."""
        t = torch.as_tensor(samples).to(device)
        if self.kind in ("image", "voxels"):
            if t.dtype != torch.uint8:
                layout = "N×C×H×W" if self.kind == "image" else "N×1×D×H×W"
                raise GenbenchError(f"{self.kind}s must be uint8 {layout}, got dtype {t.dtype}")
            x = t.float() / 255.0
            return x * 2.0 - 1.0 if self.image_range == "tanh" else x
        mean = torch.tensor(self.mean, dtype=torch.float32, device=device)
        std = torch.tensor(self.std, dtype=torch.float32, device=device)
        return (t.float() - mean) / std

    def decode(self, x: torch.Tensor) -> np.ndarray:
        """Model-space output → contract form (uint8 images / float32 points) on the CPU."""
        x = x.detach().float()
        if self.kind in ("image", "voxels"):
            unit = (x + 1.0) / 2.0 if self.image_range == "tanh" else x
            return torch.round(unit.clamp(0.0, 1.0) * 255.0).to(torch.uint8).cpu().numpy()
        mean = torch.tensor(self.mean, dtype=torch.float32, device=x.device)
        std = torch.tensor(self.std, dtype=torch.float32, device=x.device)
        return (x * std + mean).cpu().numpy().astype(np.float32)
