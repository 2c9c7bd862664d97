"""``gan-inpainting`` — Yeh, Chen, Lim, Schwing, Hasegawa-Johnson & Do 2017, "Semantic Image
Inpainting with Deep Generative Models", with the improvements of Lahiri et al. 2019 as options.

A hole is filled by searching the latent space of a trained GAN: ẑ = argmin_z L_c(z) + λ·L_p(z),
then the hole gets G(ẑ). Faithful to Yeh et al.:

- contextual loss L_c = ‖W ⊙ (G(z) − y)‖₁ over the known pixels, with the importance weight of a
  known pixel i the fraction of unknown pixels in its ``window`` × ``window`` neighbourhood
  (W_i = Σ_{j∈N(i)} (1 − M_j) / |N(i)|, window 7; 0 in the hole), so only context near the hole
  counts; the window is zero-padded at the image border (outside pixels count as not unknown);
- perceptual loss L_p = log(1 − D(G(z))) with λ = 0.003;
- Adam on z from a random start, z clipped to [−1, 1] after every step, 1,500 iterations ('full');
- Poisson blending of G(ẑ) into the hole (``poisson_blend``): the hole's pixels solve the discrete
  Poisson equation whose Laplacian is G(ẑ)'s and whose boundary is the known pixels around it.

Options from Lahiri et al. 2019 (off by default, as in Yeh): ``best_of`` = N draws N initial codes
per image and starts from the one with the lowest initial objective; ``structure_weight`` adds a
structure loss on image gradients — our formulation: the W-weighted L1 distance between the
horizontal and vertical forward differences of G(z) and of y, over differences whose two pixels
are known.

The GAN is a ``dcgan`` (``baselines.dcgan``, its exact networks and settings). Two ways to get it:

- ``generator`` = "" (default): ``genbench train gan-inpainting`` trains its own DCGAN on the
  dataset's targets, step for step what ``genbench train dcgan`` computes on those images with
  the same seed, so a suite needs no other job's checkpoint.
- ``generator`` = a ``dcgan`` checkpoint directory: its G and D are copied in when training starts
  (train with ``--steps 0``: there is nothing left to learn); the copy lives in this model's own
  checkpoint, so the dcgan directory is not needed afterwards. The config records the path.

Where the paper is silent or our data differs: Adam's learning rate for z is 0.01 (the paper does
not state it; the authors' released code steps z with lr 0.01); the 'quick' profile runs 300
iterations instead of 1,500 to fit a 2-core CPU. Generation is reproducible: the initial codes
come from the ``z`` passed to ``generate`` (the sample seed), and each image's code is optimised
independently of the others in its batch (a summed loss, per-element Adam, D and G in eval mode).

Cost: inpainting is ``inpaint_steps`` forward and backward passes of G and D per image, by far the
slowest ``translate`` in genbench (quick profile, 1,000 mnist-hole test digits: 27 min on a
loaded 2-core CPU), so a quick suite should score it on a subset of the test split.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from genbench.errors import GenbenchError

from baselines import checkpoint
from baselines import dcgan
from baselines.dcgan import DCGANConfig, DCGANSpec
from baselines.inpainting import CENTRE_HOLE_28, HoleFromDataset, check_hole, known_mask
from baselines.spec import Batch, ImageConditionConfig

log = logging.getLogger(__name__)

# The dcgan config fields that decide its networks' shapes: a given checkpoint must match them.
_NETWORK_FIELDS = ("data_kind", "data_shape", "z_dim", "z_dist", "g_width", "d_width")


@dataclass
class GANInpaintingConfig(DCGANConfig, ImageConditionConfig):
    generator: str = ""  # a dcgan checkpoint directory to use; "" = train our own DCGAN on the targets
    hole: tuple[int, ...] = CENTRE_HOLE_28  # (top, left, height, width); the dataset's Task.hole
    inpaint_steps: int = 1500  # Adam iterations on z (Yeh et al.)
    inpaint_lr: float = 0.01
    perceptual_weight: float = 0.003  # λ
    window: int = 7  # side of the neighbourhood of the importance weights
    best_of: int = 1  # Lahiri et al.: start from the best of N initial codes (1 = Yeh's single draw)
    structure_weight: float = 0.0  # Lahiri et al.: weight of the image-gradient loss (0 = off)
    poisson_blend: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.inpaint_steps < 0 or self.inpaint_lr <= 0 or self.perceptual_weight < 0 or self.structure_weight < 0:
            raise ValueError("inpaint_steps, perceptual_weight and structure_weight must be >= 0, inpaint_lr > 0")
        if self.window < 1 or self.window % 2 == 0:
            raise ValueError(f"window must be an odd number >= 1, got {self.window}")
        if self.best_of < 1:
            raise ValueError(f"best_of must be >= 1, got {self.best_of}")


def importance_weights(mask: torch.Tensor, window: int) -> torch.Tensor:
    """Yeh et al.'s W for a 1×1×H×W known-pixel ``mask`` (1 known, 0 hole): on known pixels the
    fraction of unknown pixels in the ``window``² neighbourhood, 0 in the hole."""
    kernel = torch.ones(1, 1, window, window, device=mask.device, dtype=mask.dtype) / float(window * window)
    return mask * F.conv2d(1.0 - mask, kernel, padding=window // 2)


def structure_loss(fake: torch.Tensor, known: torch.Tensor, weights: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per image: W-weighted L1 distance between the forward differences (horizontal and vertical)
    of ``fake`` and ``known``, over differences whose two pixels are known (weight: their mean W)."""
    total = fake.new_zeros(fake.shape[0])
    for dim in (-1, -2):
        n = fake.shape[dim] - 1
        first, second = (lambda t: t.narrow(dim, 0, n)), (lambda t: t.narrow(dim, 1, n))
        w = first(mask) * second(mask) * (first(weights) + second(weights)) / 2
        gap = (second(fake) - first(fake)) - (second(known) - first(known))
        total = total + (w * gap).abs().flatten(1).sum(1)
    return total


def poisson_blend(known: torch.Tensor, fill: torch.Tensor, hole: tuple[int, ...]) -> torch.Tensor:
    """``known`` with the hole replaced by the solution of Δx = Δ``fill`` inside the hole and
    x = ``known`` on its 4-neighbour boundary (discrete Poisson, 5-point Laplacian)."""
    top, left, h, w = hole
    n, c = known.shape[:2]
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    a = 4.0 * torch.eye(h * w, dtype=torch.float64)
    for dy, dx in ((0, 1), (1, 0)):  # neighbours inside the hole couple the unknowns
        inside = (ys + dy < h) & (xs + dx < w)
        i = (ys * w + xs)[inside]
        j = ((ys + dy) * w + xs + dx)[inside]
        a[i, j] = a[j, i] = -1.0
    cross = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], dtype=torch.float64,
                         device=known.device).view(1, 1, 3, 3).repeat(c, 1, 1, 1)
    g, y = fill.double(), known.double()
    mask = known_mask(hole, tuple(known.shape[1:]), known.device).double()
    laplacian = 4.0 * g - F.conv2d(g, cross, padding=1, groups=c)
    boundary = F.conv2d(y * mask, cross, padding=1, groups=c)  # known neighbours of each hole pixel
    b = (laplacian + boundary)[..., top:top + h, left:left + w].reshape(n * c, h * w)
    x = torch.linalg.solve(a.to(known.device), b.T).T.reshape(n, c, h, w)
    out = known.clone()
    out[..., top:top + h, left:left + w] = x.to(known.dtype)
    return out


class GANInpaintingSpec(HoleFromDataset, DCGANSpec):
    name = "gan-inpainting"
    paper = ("Yeh et al. 2017, Semantic Image Inpainting with Deep Generative Models; "
             "Lahiri et al. 2019 (best-of-N initial z, structure loss)")
    config_class = GANInpaintingConfig
    image_range = "tanh"

    def profile_values(self, kind: str, profile: str) -> dict:
        values = dcgan.SPEC.profile_values(kind, profile)
        values["inpaint_steps"] = 300 if profile == "quick" else 1500
        return values

    def dcgan_config(self, config: GANInpaintingConfig) -> DCGANConfig:
        """The dcgan config this model's GAN is trained (or was trained) with."""
        return DCGANConfig(**{f.name: getattr(config, f.name) for f in dataclasses.fields(DCGANConfig)})

    # --- the GAN: dcgan's networks, optimisers and training step --------------------------------
    def build(self, config: GANInpaintingConfig) -> nn.ModuleDict:
        self.check_shapes(config)
        check_hole(config.hole, config.data_shape, margin=1 if config.poisson_blend else 0)
        return dcgan.SPEC.build(self.dcgan_config(config))

    def make_optimizers(self, nets, config: GANInpaintingConfig):
        # The one hook that runs once when training starts and never when a checkpoint is loaded for
        # use: a given dcgan is copied in here (a resumed run then overwrites it with its own copy).
        if config.generator:
            self.import_generator(nets, config)
        return dcgan.SPEC.make_optimizers(nets, self.dcgan_config(config))

    def import_generator(self, nets, config: GANInpaintingConfig) -> None:
        from baselines import config as configs  # the package's config module (imports the registry)

        path = Path(config.generator)
        record, tensors = checkpoint.read(path)
        if record["model"] != "dcgan":
            raise GenbenchError(f"generator={config.generator}: holds a {record['model']!r} checkpoint, not a dcgan")
        theirs = configs.from_dict(DCGANConfig, record["config"], str(path / checkpoint.MODEL_FILE))
        ours = self.dcgan_config(config)
        diff = [f"{k}={getattr(theirs, k)!r}" for k in _NETWORK_FIELDS if getattr(theirs, k) != getattr(ours, k)]
        if diff:
            raise GenbenchError(f"generator={config.generator}: the dcgan there has other networks; set {', '.join(diff)}")
        if not record.get("finished"):
            log.warning("generator=%s: the dcgan checkpoint is unfinished (step %d)", config.generator, record["step"])
        checkpoint.load_networks(nets, tensors, path / checkpoint.MODEL_FILE)

    def examples_per_step(self, config: GANInpaintingConfig) -> int:
        return dcgan.SPEC.examples_per_step(self.dcgan_config(config))

    def train_step(self, nets, opts, batch: Batch, gen, config: GANInpaintingConfig) -> dict[str, torch.Tensor]:
        if config.generator:
            raise GenbenchError(f"gan-inpainting uses the trained dcgan in generator={config.generator}: "
                                "there is nothing to train, run it with --steps 0")
        return dcgan.SPEC.train_step(nets, opts, Batch(batch.x), gen, self.dcgan_config(config))

    # --- inpainting by optimising z --------------------------------------------------------------
    def latent(self, n: int, gen: torch.Generator, config: GANInpaintingConfig) -> torch.Tensor:
        """n × best_of initial codes from the dcgan prior (U[−1, 1]^z_dim)."""
        return dcgan.SPEC.latent(n * config.best_of, gen, self.dcgan_config(config)).view(n, config.best_of, -1)

    def objective(self, nets, z: torch.Tensor, known: torch.Tensor, weights: torch.Tensor,
                  config: GANInpaintingConfig) -> dict[str, torch.Tensor]:
        """Per-image losses at codes ``z`` (n × z_dim) for inputs ``known`` (model space)."""
        fake = torch.tanh(nets["G"](z))
        contextual = (weights * (fake - known)).abs().flatten(1).sum(1)
        perceptual = -F.softplus(nets["D"](fake).view(-1))  # log(1 − D(G(z))) = −softplus(logit)
        total = contextual + config.perceptual_weight * perceptual
        if config.structure_weight:
            mask = known_mask(config.hole, tuple(config.data_shape), z.device)
            total = total + config.structure_weight * structure_loss(fake, known, weights, mask)
        return {"total": total, "contextual": contextual, "perceptual": perceptual, "fake": fake}

    def initial_z(self, nets, z: torch.Tensor, known: torch.Tensor, weights: torch.Tensor,
                  config: GANInpaintingConfig) -> tuple[torch.Tensor, torch.Tensor]:
        """Each image's candidate (``z``: n × N × z_dim) with the lowest objective, and its index."""
        n, k, dim = z.shape
        if k == 1:
            return z[:, 0], torch.zeros(n, dtype=torch.int64, device=z.device)
        with torch.no_grad():
            losses = self.objective(nets, z.reshape(n * k, dim), known.repeat_interleave(k, 0), weights, config)
        best = losses["total"].view(n, k).argmin(dim=1)
        return z[torch.arange(n, device=z.device), best], best

    def optimise_z(self, nets, z: torch.Tensor, known: torch.Tensor, config: GANInpaintingConfig,
                   steps: int | None = None) -> torch.Tensor:
        """Yeh et al.'s search: Adam on the objective from the best initial code, clipped to [−1, 1]."""
        weights = importance_weights(known_mask(config.hole, tuple(config.data_shape), known.device), config.window)
        start, _ = self.initial_z(nets, z, known, weights, config)
        z = start.detach().clone().clamp_(-1.0, 1.0).requires_grad_(True)
        opt = torch.optim.Adam([z], lr=config.inpaint_lr)
        with torch.enable_grad():
            for _ in range(config.inpaint_steps if steps is None else steps):
                loss = self.objective(nets, z, known, weights, config)["total"].sum()
                (z.grad,) = torch.autograd.grad(loss, [z])
                opt.step()
                with torch.no_grad():
                    z.clamp_(-1.0, 1.0)
        return z.detach()

    def generate(self, nets, cond: torch.Tensor, z: torch.Tensor, config: GANInpaintingConfig) -> torch.Tensor:
        if z is None or z.dim() != 3:
            raise GenbenchError("gan-inpainting needs initial codes n × best_of × z_dim from its latent()")
        best = self.optimise_z(nets, z, cond, config)
        with torch.no_grad():
            fill = torch.tanh(nets["G"](best))
            if config.poisson_blend:
                return poisson_blend(cond, fill, config.hole).clamp(-1.0, 1.0)
            mask = known_mask(config.hole, tuple(config.data_shape), cond.device)
            return cond * mask + fill * (1.0 - mask)


SPEC = GANInpaintingSpec()
