"""``3dgan`` — Wu, Zhang, Xue, Freeman & Tenenbaum 2016, "Learning a Probabilistic Latent Space of
Object Shapes via 3D Generative-Adversarial Modeling" (3D-GAN).

Faithful: a 200-d latent code; G is all volumetric transposed convolutions (kernel 4³; the first
maps z, as a 1³ volume, to 4³ with stride 1, every later one doubles the side with stride 2),
BatchNorm + ReLU between layers and a sigmoid output (voxel occupancy probability); D mirrors G
with strided 4³ convolutions and LeakyReLU(0.2), ending in one logit; the GAN loss of Goodfellow
et al.; Adam with β1 = 0.5, learning rates G 0.0025 and D 1e-5, batch 100; and the paper's
adaptive training rule: **D is updated only when its accuracy on the current batch (real logits
> 0, fake logits < 0, over both halves) is at most 0.8**. The rule reads the batch's own forward
pass, so it needs no state and a resumed run stays bit-exact; each step logs ``d_accuracy`` and
``d_updated`` (1 or 0).

Differs from the paper, and why:

- Resolution: shapes3d is 32³ (the paper: 64³ ShapeNet), so G and D have one stride-2 layer
  fewer; the 'full' profile keeps the paper's first widths, G 512 → 256 → 128 → 1 and D 64 → 128
  → 256 (the paper: 512 → 256 → 128 → 64 → 1, D 64 → 128 → 256 → 512).
- 'quick' (CPU): G 64 → 32 → 16 → 1, D 16 → 32 → 64, batch 32, 400 steps, and D's learning rate
  1e-3 instead of 1e-5: with 1e-5 a run this short never lets D catch up (over 100 steps its batch
  accuracy stayed near 0.4, loss_d rose to 8.9 and the samples were uniform noise), while with 1e-3
  D reaches the 0.8 threshold within 10 steps, the skip rule then holds it back, and G produces
  solid shapes by step 150 (seed 0). At 400 steps every z still gives the same solid (1 of 10
  modes in suites/shapes3d.yaml quick): the CPU run checks the pipeline, not the paper's result.
- Where the paper is silent: z ~ U[0, 1]²⁰⁰ (it says only "a probabilistic latent space"); the
  non-saturating G loss; BatchNorm in D on every layer but the input (DCGAN's rule); weights from
  N(0, 0.02) (DCGAN's init); D's BN statistics are updated by its forward pass even on a skipped
  step (only the parameters and Adam state are left alone).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from baselines.gan import optimized_params
from baselines.losses import GENERATOR_LOSSES, discriminator_loss, generator_loss
from baselines.spec import BaseConfig, Batch, ModelSpec
from genbench.errors import GenbenchError


@dataclass
class GAN3DConfig(BaseConfig):
    data_kind: str = "voxels"
    data_shape: tuple[int, ...] = (1, 32, 32, 32)
    z_dim: int = 200
    g_widths: tuple[int, ...] = (512, 256, 128)  # channels at 4³, 8³, 16³ ... (one per side below the data's)
    d_widths: tuple[int, ...] = (64, 128, 256)  # channels at side/2, side/4 ... down to 4³
    lr_g: float = 0.0025
    lr_d: float = 1e-5
    beta1: float = 0.5
    beta2: float = 0.999
    d_accuracy_threshold: float = 0.8  # D is updated only when its batch accuracy is <= this
    generator_loss: str = "non-saturating"
    batch_size: int = 100

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.z_dim < 1:
            raise ValueError(f"z_dim must be >= 1, got {self.z_dim}")
        if not 0.0 <= self.d_accuracy_threshold <= 1.0:
            raise ValueError(f"d_accuracy_threshold must lie in [0, 1], got {self.d_accuracy_threshold}")
        if self.generator_loss not in GENERATOR_LOSSES:
            raise ValueError(f"generator_loss must be one of {GENERATOR_LOSSES}, got {self.generator_loss!r}")
        if any(w < 1 for w in (*self.g_widths, *self.d_widths)):
            raise ValueError("g_widths and d_widths must be positive channel counts")


def _doublings(config: GAN3DConfig) -> int:
    """How many stride-2 layers take 4³ to the data's side (which must be 4·2^k, a cube)."""
    shape = tuple(config.data_shape)
    if config.data_kind != "voxels" or len(shape) != 4 or shape[0] != 1 or len(set(shape[1:])) != 1:
        raise GenbenchError(f"3dgan needs voxels 1×S×S×S, got {config.data_kind} of shape {shape}")
    side = shape[1]
    k = round(math.log2(side / 4)) if side >= 8 else -1
    if k < 1 or 4 * 2**k != side:
        raise GenbenchError(f"3dgan needs a voxel side of 4·2^k (8, 16, 32, 64 ...), got {side}")
    for name in ("g_widths", "d_widths"):
        if len(getattr(config, name)) != k:
            raise GenbenchError(f"3dgan at {side}³ needs {k} {name} (one per resolution from 4³ up), "
                                f"got {len(getattr(config, name))}")
    return k


class VoxelGenerator(nn.Module):
    """z (as a 1³ volume) → ConvT 4³ → [BN ReLU ConvT ×2]… → 1 channel; logits (sigmoid outside)."""

    def __init__(self, z_dim: int, widths: tuple[int, ...]):
        super().__init__()
        layers: list[nn.Module] = [nn.ConvTranspose3d(z_dim, widths[0], 4, 1, 0, bias=False)]
        for c_in, c_out in zip(widths, (*widths[1:], 1)):
            layers += [nn.BatchNorm3d(c_in), nn.ReLU(), nn.ConvTranspose3d(c_in, c_out, 4, 2, 1, bias=c_out == 1)]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z.view(z.shape[0], -1, 1, 1, 1))


class VoxelDiscriminator(nn.Module):
    """Voxels → Conv ×2 LReLU (no BN at the input) → [Conv ×2 BN LReLU]… → 4³ → Conv 4³ → one logit."""

    def __init__(self, widths: tuple[int, ...]):
        super().__init__()
        layers: list[nn.Module] = []
        for i, (c_in, c_out) in enumerate(zip((1, *widths[:-1]), widths)):
            layers.append(nn.Conv3d(c_in, c_out, 4, 2, 1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm3d(c_out))
            layers.append(nn.LeakyReLU(0.2))
        layers += [nn.Conv3d(widths[-1], 1, 4, 1, 0), nn.Flatten()]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).view(-1)


def _init(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv3d, nn.ConvTranspose3d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm3d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def discriminator_accuracy(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Share of the batch D classifies right: real with logit > 0, generated with logit < 0."""
    right = (real_logits > 0).sum() + (fake_logits < 0).sum()
    return right.float() / (real_logits.numel() + fake_logits.numel())


class GAN3DSpec(ModelSpec):
    name = "3dgan"
    paper = ("Wu et al. 2016, Learning a Probabilistic Latent Space of Object Shapes via 3D "
             "Generative-Adversarial Modeling")
    kinds = ("voxels",)
    config_class = GAN3DConfig
    image_range = "unit"  # occupancy in [0, 1], sigmoid output

    def profile_values(self, kind: str, profile: str) -> dict:
        if profile == "quick":
            return dict(g_widths=(64, 32, 16), d_widths=(16, 32, 64), batch_size=32, lr_d=1e-3, steps=400,
                        checkpoint_every=100)
        return dict(g_widths=(512, 256, 128), d_widths=(64, 128, 256), batch_size=100, steps=20000,
                    checkpoint_every=1000)

    def build(self, config: GAN3DConfig) -> nn.ModuleDict:
        _doublings(config)
        g, d = VoxelGenerator(config.z_dim, tuple(config.g_widths)), VoxelDiscriminator(tuple(config.d_widths))
        _init(g)
        _init(d)
        return nn.ModuleDict({"G": g, "D": d})

    def make_optimizers(self, nets, config: GAN3DConfig):
        betas = (config.beta1, config.beta2)
        return {"G": torch.optim.Adam(nets["G"].parameters(), lr=config.lr_g, betas=betas),
                "D": torch.optim.Adam(nets["D"].parameters(), lr=config.lr_d, betas=betas)}

    def latent(self, n: int, gen: torch.Generator, config: GAN3DConfig) -> torch.Tensor:
        return torch.rand(n, config.z_dim, generator=gen, device=gen.device)

    def generate(self, nets, cond, z: torch.Tensor, config: GAN3DConfig) -> torch.Tensor:
        return torch.sigmoid(nets["G"](z))

    def train_step(self, nets, opts, batch: Batch, gen, config: GAN3DConfig) -> dict[str, torch.Tensor]:
        x = batch.x
        with torch.no_grad():
            fake = self.generate(nets, None, self.latent(x.shape[0], gen, config), config)
        real_logits, fake_logits = nets["D"](x), nets["D"](fake)
        loss_d = discriminator_loss(real_logits, fake_logits)
        accuracy = discriminator_accuracy(real_logits.detach(), fake_logits.detach())
        update_d = bool(accuracy <= config.d_accuracy_threshold)
        if update_d:  # the paper's rule: a D that already wins more than 80 % of the batch waits
            opts["D"].zero_grad(set_to_none=True)
            loss_d.backward()
            opts["D"].step()

        fake = self.generate(nets, None, self.latent(x.shape[0], gen, config), config)
        loss_g = generator_loss(nets["D"](fake), config.generator_loss)
        opts["G"].zero_grad(set_to_none=True)
        loss_g.backward(inputs=optimized_params(opts["G"]))
        opts["G"].step()
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(), "d_accuracy": accuracy,
                "d_updated": torch.tensor(float(update_d))}


SPEC = GAN3DSpec()
