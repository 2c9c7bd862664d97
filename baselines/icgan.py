"""``icgan`` — Perarnau, van de Weijer, Raducanu & Álvarez 2016, "Invertible Conditional GANs
for image editing".

Faithful: a conditional DCGAN (y as a one-hot vector concatenated to z at G's input and as
replicated one-hot planes at D's input: the positions the paper found best) plus two encoders,
E_z (image → z, trained with the squared error to the z that generated the image) and E_y
(image → y logits). Editing (``edit``): encode an image to (z, y), replace y by the target
class, decode G(z, y'). Reconstruction keeps the encoded y.

Chosen where the paper is silent, or where a benchmark run needs something it did not:

- E_y's data (``ey_data``): 'real' (default) trains it on the real labelled minibatch with
  cross-entropy, as the paper recommends; 'generated' trains it on G's samples and the labels
  they were generated from. E_z always learns from generated samples (the only data with a known z).
- One stateless step updates D, then G, then both encoders on a fresh generated minibatch (G
  fixed), instead of the paper's two phases (cGAN first, encoders afterwards): the loop keeps no
  phase state and the encoders end up trained against the final G. Generated samples use the
  real minibatch's labels.
- Encoders are DCGAN discriminator bodies (``baselines.nets.ConvDiscriminator``) with a linear
  head of z_dim (E_z) or K (E_y) outputs, width ``enc_width``; one Adam optimiser for both.
- Edited / reconstructed images condition G on a one-hot y: the target's, or the argmax of E_y
  (G has only ever seen one-hot labels).
- Everything else is ``dcgan``'s (z ~ U[-1, 1]^100, Adam 2e-4 β1 0.5, N(0, 0.02) init, batch 128;
  28×28 nets as in dcgan's docstring).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from baselines import nets as N
from baselines.dcgan import DCGANConfig, DCGANSpec
from baselines.spec import Batch
from genbench.errors import GenbenchError

EY_DATA = ("real", "generated")


@dataclass
class ICGANConfig(DCGANConfig):
    enc_width: int = 64
    lr_e: float = 2e-4
    ey_data: str = "real"  # 'real' labelled minibatch (paper) | 'generated' samples and their labels

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.ey_data not in EY_DATA:
            raise ValueError(f"ey_data must be one of {EY_DATA}, got {self.ey_data!r}")
        if self.enc_width < 1:
            raise ValueError(f"enc_width must be >= 1, got {self.enc_width}")


class ICGANSpec(DCGANSpec):
    name = "icgan"
    paper = "Perarnau et al. 2016, Invertible Conditional GANs for image editing"
    kinds = ("image",)
    config_class = ICGANConfig
    conditioning = "class"

    def profile_values(self, kind: str, profile: str) -> dict:
        if profile == "quick":
            return dict(g_width=32, d_width=32, enc_width=16, batch_size=64, steps=1000, checkpoint_every=250)
        return dict(g_width=128, d_width=64, enc_width=64, batch_size=128, steps=20000, checkpoint_every=2000)

    def build(self, config: ICGANConfig) -> nn.ModuleDict:
        self._check_options(config)
        k, c = int(config.n_classes), config.data_shape[0]
        nets = nn.ModuleDict({
            "G": self.build_generator(config, extra_in=k),
            "D": N.ConvDiscriminator(config.data_shape, config.d_width, in_channels=c + k),
            "E_z": N.ConvDiscriminator(config.data_shape, config.enc_width, out_features=config.z_dim),
            "E_y": N.ConvDiscriminator(config.data_shape, config.enc_width, out_features=k),
        })
        for name in ("D", "E_z", "E_y"):
            N.dcgan_init(nets[name])
        return nets

    def make_optimizers(self, nets, config: ICGANConfig):
        opts = super().make_optimizers(nets, config)
        encoders = list(nets["E_z"].parameters()) + list(nets["E_y"].parameters())
        opts["E"] = torch.optim.Adam(encoders, lr=config.lr_e, betas=(config.beta1, config.beta2))
        return opts

    def one_hot(self, labels: torch.Tensor, config: ICGANConfig) -> torch.Tensor:
        return F.one_hot(labels, int(config.n_classes)).to(torch.float32)

    def generate(self, nets, cond: torch.Tensor, z: torch.Tensor, config: ICGANConfig) -> torch.Tensor:
        return torch.tanh(nets["G"](torch.cat([z, self.one_hot(cond, config)], dim=1)))

    def discriminate(self, nets, x: torch.Tensor, cond: torch.Tensor, config: ICGANConfig) -> torch.Tensor:
        y = self.one_hot(cond, config)[:, :, None, None].expand(-1, -1, *x.shape[2:])
        return nets["D"](torch.cat([x, y], dim=1)).view(-1)

    def encoder_step(self, nets, opts, batch: Batch, gen, config: ICGANConfig) -> dict[str, torch.Tensor]:
        """E_z regresses the z that made a generated image; E_y classifies real or generated images."""
        n = self.samples_per_batch(config)
        y = batch.cond[:n]
        z = self.latent(n, gen, config)
        with torch.no_grad():
            fake = self.generate(nets, y, z, config)
        loss_ez = F.mse_loss(nets["E_z"](fake), z)
        ey_input = batch.x[:n] if config.ey_data == "real" else fake
        loss_ey = F.cross_entropy(nets["E_y"](ey_input), y)
        opts["E"].zero_grad(set_to_none=True)
        (loss_ez + loss_ey).backward()
        opts["E"].step()
        return {"loss_ez": loss_ez.detach(), "loss_ey": loss_ey.detach()}

    def train_step(self, nets, opts, batch: Batch, gen, config: ICGANConfig) -> dict[str, torch.Tensor]:
        losses = super().train_step(nets, opts, batch, gen, config)
        return {**losses, **self.encoder_step(nets, opts, batch, gen, config)}

    def edit(self, model, images: np.ndarray, target_classes: np.ndarray | None = None) -> np.ndarray:
        """IcGAN editing of a loaded model (see the module's ``edit``): what edit metrics call."""
        return edit(model, images, target_classes)

    def paper_figures(self, model, examples, seed: int) -> list:
        """Edit rows (the paper's Fig. 1/6 idea): a real test digit, its reconstruction (y kept), then
        the same z decoded with each of the K classes."""
        from baselines.paper_figures import ROWS, PaperFigure

        k = int(model.config.n_classes)
        src = examples.images[:ROWS]
        rows = [np.concatenate([src[i:i + 1], edit(model, src[i:i + 1]),
                                edit(model, np.repeat(src[i:i + 1], k, axis=0), np.arange(k))]) for i in range(len(src))]
        labels = [f"test digit {i}" + ("" if examples.labels is None else f" (label {int(examples.labels[i])})")
                  for i in range(len(src))]
        return [PaperFigure("edits", "Editing: one source digit → every class", (
            "Each row: a test digit, its reconstruction G(E_z(x), E_y(x)) with y unchanged, then G(E_z(x), y') for "
            f"each of the {k} classes y' — the encoded z (style) kept, the class replaced. Deterministic: no noise."),
            np.stack(rows), labels, ["source", "reconstruction"] + [f"→ {c}" for c in range(k)])]


SPEC = ICGANSpec()


@torch.no_grad()
def encode(model, images: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Contract-form images → (z, class logits) from E_z and E_y of a loaded ``icgan`` model."""
    x = _check_images(model, images)
    return model.nets["E_z"](x), model.nets["E_y"](x)


@torch.no_grad()
def edit(model, images: np.ndarray, target_classes: np.ndarray | None = None, batch_size: int = 500) -> np.ndarray:
    """IcGAN editing: encode each image to (z, y), set y to its target class, decode with G.

    ``model`` is a loaded ``TrainedModel`` of ``icgan``; ``images`` uint8 N×C×H×W in contract
    form; ``target_classes`` N class indices, or None to keep the encoded y (reconstruction).
    Returns uint8 images like ``model.sample``. Deterministic: no noise is drawn.
    """
    if getattr(model, "name", None) != SPEC.name:
        raise GenbenchError(f"edit needs a trained 'icgan' model, got {getattr(model, 'name', type(model).__name__)!r}")
    arr = np.asarray(images)
    k = int(model.config.n_classes)
    targets = None
    if target_classes is not None:
        targets = np.asarray(target_classes)
        if targets.shape != (len(arr),) or not np.issubdtype(targets.dtype, np.integer):
            raise GenbenchError(f"edit needs one integer target class per image ({len(arr)}), "
                                f"got shape {targets.shape}")
        if len(targets) and (targets.min() < 0 or targets.max() >= k):
            raise GenbenchError(f"edit target classes must be in 0..{k - 1}, "
                                f"got {int(targets.min())}..{int(targets.max())}")
    out = []
    for i in range(0, len(arr), batch_size):
        z, logits = encode(model, arr[i:i + batch_size])
        y = logits.argmax(dim=1) if targets is None else torch.as_tensor(targets[i:i + batch_size], dtype=torch.int64,
                                                                             device=z.device)
        out.append(model.codec.decode(model.spec.generate(model.nets, y, z, model.config)))
    return np.concatenate(out) if out else np.zeros((0, *model.config.data_shape), dtype=np.uint8)


def _check_images(model, images: np.ndarray) -> torch.Tensor:
    arr = np.asarray(images)
    expected = tuple(model.config.data_shape)
    if arr.ndim != 4 or tuple(arr.shape[1:]) != expected or arr.dtype != np.uint8:
        raise GenbenchError(f"icgan expects uint8 N×{'×'.join(map(str, expected))} images, "
                            f"got {arr.dtype} {arr.shape}")
    return model.encode_images(arr)
