"""``ae`` — a plain (deterministic) autoencoder, kept as a reference row.

It learns a deterministic code with no prior on it, so sampling by decoding z ~ N(0, I) lands
mostly off the region its codes occupy and gives poor samples: the known failure the VAE and AAE
fix. It is kept on purpose to show what the evaluation says about it; its reconstructions are good.

Choices (there is no single paper): the conv encoder is the DCGAN discriminator body and the
decoder the DCGAN generator (``baselines.nets``), images in [0, 1] with a Bernoulli
(binary-cross-entropy) reconstruction loss, z in R^20 for images; points use 2 × 128 ReLU MLPs,
a squared-error loss on standardised coordinates and z in R^2. Adam lr 1e-3, batch 100.
The autoencoder family (``vae``, ``aae``) subclasses this spec.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from baselines import nets as N
from baselines.spec import BaseConfig, Batch, ModelSpec


@dataclass
class AEConfig(BaseConfig):
    z_dim: int = 20
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    batch_size: int = 100
    hidden: tuple[int, ...] = (128, 128)  # MLP form (points)
    width: int = 32  # conv form (images): encoder channels w → 2w, decoder 2w → w

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.z_dim < 1:
            raise ValueError(f"z_dim must be >= 1, got {self.z_dim}")


class AESpec(ModelSpec):
    name = "ae"
    paper = "plain autoencoder (deterministic code; decoding N(0, I) is the known failure)"
    config_class = AEConfig
    has_encoder = True
    image_range = "unit"

    def profile_values(self, kind: str, profile: str) -> dict:
        if kind == "points":
            return dict(z_dim=2, steps=3000 if profile == "quick" else 20000)
        if profile == "quick":
            return dict(width=16, steps=1000, checkpoint_every=250)
        return dict(width=64, steps=20000, checkpoint_every=2000)

    # --- networks -----------------------------------------------------------------------------
    def encoder_outputs(self, config) -> int:
        return config.z_dim

    def decoder_channels(self, config) -> int:
        return config.data_shape[0]

    def build_encoder(self, config) -> nn.Module:
        if config.data_kind == "points":
            return N.mlp(config.data_shape[0], config.hidden, self.encoder_outputs(config))
        return N.ConvDiscriminator(config.data_shape, config.width, self.encoder_outputs(config))

    def build_decoder(self, config) -> nn.Module:
        if config.data_kind == "points":
            return N.mlp(config.z_dim, config.hidden, self.decoder_channels(config))
        return N.ConvGenerator(config.z_dim, config.data_shape, config.width, self.decoder_channels(config))

    def build(self, config) -> nn.ModuleDict:
        return nn.ModuleDict({"E": self.build_encoder(config), "Dec": self.build_decoder(config)})

    def make_optimizers(self, nets, config):
        params = list(nets["E"].parameters()) + list(nets["Dec"].parameters())
        return {"AE": torch.optim.Adam(params, lr=config.lr, betas=(config.beta1, config.beta2))}

    # --- model ----------------------------------------------------------------------------------
    def encode(self, nets, x, config) -> torch.Tensor:
        """The code used for reconstruction (the mean for a VAE)."""
        return nets["E"](x)

    def output_mean(self, out: torch.Tensor, config) -> torch.Tensor:
        """Decoder output → the data-space mean (sigmoid for images)."""
        return torch.sigmoid(out) if config.data_kind == "image" else out

    def reconstruction_loss(self, out: torch.Tensor, x: torch.Tensor, config) -> torch.Tensor:
        if config.data_kind == "image":
            return F.binary_cross_entropy_with_logits(out, x, reduction="none").flatten(1).sum(1).mean()
        return (out - x).pow(2).sum(1).mean()

    def latent(self, n, gen, config) -> torch.Tensor:
        return torch.randn(n, config.z_dim, generator=gen, device=gen.device)

    def generate(self, nets, cond, z, config) -> torch.Tensor:
        """Decode z, or, given an image condition, its code: the reconstruction (``translate``)."""
        if cond is not None:
            z = self.encode(nets, cond, config)
        return self.output_mean(nets["Dec"](z), config)

    def train_step(self, nets, opts, batch: Batch, gen, config) -> dict[str, torch.Tensor]:
        loss = self.reconstruction_loss(nets["Dec"](nets["E"](batch.x)), batch.x, config)
        opts["AE"].zero_grad(set_to_none=True)
        loss.backward()
        opts["AE"].step()
        return {"loss_rec": loss.detach()}


SPEC = AESpec()
