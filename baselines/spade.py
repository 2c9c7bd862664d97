"""``spade`` — Park, Liu, Wang & Zhu 2019, "Semantic Image Synthesis with Spatially-Adaptive
Normalization" (GauGAN).

Faithful: the generator is a stack of SPADE residual blocks with nearest-neighbour 2× upsampling
between them. SPADE normalises activations with a parameter-free BatchNorm and modulates them by
γ(m) and β(m), per pixel, from the one-hot label map m resized (nearest) to the layer:
a shared 3×3 convolution with ``spade_hidden`` (128) ReLU channels, then one 3×3 convolution each
for γ and β; out = BN(x)·(1 + γ) + β. A residual block is SPADE-LeakyReLU(0.2)-conv3×3 twice, plus
a learnt SPADE-conv1×1 shortcut when the width changes. The discriminator is the multi-scale
PatchGAN of pix2pixHD (2 scales, the second on a 3×3/stride-2 average-pooled copy; 4×4 convs,
padding 2, instance norm) judging the label map concatenated with the image; the loss is the
hinge loss, plus feature matching on every intermediate D layer (L1, λ_FM = 10, averaged over
scales); spectral norm; Adam with lr 1e-4 (G) and 4e-4 (D), β = (0, 0.999) (TTUR, as the paper);
one G step then one D step per iteration; weights xavier-normal with gain 0.02 (the reference
code's init).

Chosen, and what differs:

- The generator starts from the label map downsampled to the first block's resolution and a 3×3
  convolution (the reference code's default without ``--use_vae``), so a model maps a label map to
  one image: no image encoder, no KL term, no z.
- No VGG perceptual loss (the paper's λ_VGG = 10 term): it needs ImageNet VGG19 weights, which are
  not available offline. The G loss is hinge + 10·feature matching.
- Spectral norm where the reference code puts it (the paper says "all layers"): on the convolutions
  of the residual blocks in G, and on D's convolutions except its first and last.
- 28×28 digits: ``n_up = 2`` upsamplings from 7×7 (the paper: 5, from 8×8 to 256×256). Block
  widths follow the paper's rule from the output end, ngf·1, ·2, ·4, ... (at most ·16), so G is
  head 4·ngf at 7×7 → 2·ngf at 14×14 → ngf at 28×28; the paper's second middle block at 16×16 is
  not repeated. D has ``d_layers = 2`` (16×16 patches at full scale, about the whole digit at the
  second scale; the paper's 4 layers see 70×70). The paper does not state its batch size here;
  the default is 32. The 'quick' profile narrows the nets (ngf 8, ndf 16, 16 SPADE hidden channels,
  batch 16, 1,000 steps) to fit a 2-core CPU: SPADE's per-layer label convolutions at full
  resolution are its main cost.
- The input is the uint8 label map of ``mnist-labels`` (``genbench.data.paired_digits``): grey level
  (class + 1)·``label_step`` on strokes, 0 on the background; the model decodes it (nearest level)
  to a one-hot map of ``label_classes`` = 11 channels itself.
- The parameter-free norm is plain BatchNorm (the paper's synchronized BatchNorm is the same on one
  device); a trained model uses its running statistics, as the reference code's test mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from baselines.spec import Batch, ImageConditionConfig, ModelSpec
from genbench.data.paired_digits import LABEL_STEP, N_LABEL_CLASSES
from genbench.errors import GenbenchError


@dataclass
class SPADEConfig(ImageConditionConfig):
    ngf: int = 64
    ndf: int = 64
    spade_hidden: int = 128  # channels of SPADE's shared convolution
    n_up: int = 5  # 2× upsamplings in G (the paper's 'normal': 8×8 → 256×256); 28×28 profiles use 2
    d_layers: int = 4  # n_layers_D of each scale (70×70 patches); 28×28 profiles use 2
    num_d: int = 2  # discriminator scales
    lambda_fm: float = 10.0
    lr_g: float = 1e-4
    lr_d: float = 4e-4
    beta1: float = 0.0
    beta2: float = 0.999
    label_classes: int = N_LABEL_CLASSES  # one-hot channels, background included
    label_step: int = LABEL_STEP  # grey level step between classes in the uint8 label map
    batch_size: int = 32
    steps: int = 20000

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("ngf", "ndf", "spade_hidden", "d_layers", "num_d", "label_classes", "label_step"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)}")
        if self.n_up < 0 or self.lambda_fm < 0:
            raise ValueError("n_up and lambda_fm must be >= 0")


def check_label_maps(dataset, config: SPADEConfig) -> None:
    """SPADE synthesises an image from a semantic label map: inputs that are not one (edges,
    photos) are refused before training, naming the dataset and what the model needs."""
    inputs = dataset.split("train").inputs
    levels = np.arange(config.label_classes, dtype=np.int64) * config.label_step
    need = (f"spade needs one-channel uint8 label maps (class k+1 at grey level (k+1)·{config.label_step}, "
            f"background 0; e.g. mnist-labels)")
    if inputs.ndim != 4 or inputs.shape[1] != 1 or inputs.dtype != np.uint8:
        raise GenbenchError(f"{need}, but dataset {dataset.name!r} has {inputs.dtype} inputs of shape "
                            f"{'×'.join(map(str, inputs.shape[1:]))}")
    stray = np.setdiff1d(np.unique(inputs), levels)
    if stray.size:
        raise GenbenchError(f"{need}, but dataset {dataset.name!r} has inputs with {stray.size} other grey "
                            f"level(s) (e.g. {int(stray[-1])}): they are not label maps")


def decode_labels(cond: torch.Tensor, config: SPADEConfig) -> torch.Tensor:
    """Model-space ([-1, 1]) label maps N×1×H×W → one-hot N×label_classes×H×W (nearest grey level)."""
    grey = torch.round((cond + 1.0) * 127.5)
    index = torch.round(grey / config.label_step).clamp(0, config.label_classes - 1).long()
    return F.one_hot(index[:, 0], config.label_classes).permute(0, 3, 1, 2).float()


class SPADE(nn.Module):
    """Spatially-adaptive (de)normalisation: BN(x)·(1 + γ(m)) + β(m), γ and β convolved from m."""

    def __init__(self, channels: int, label_classes: int, hidden: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.shared = nn.Sequential(nn.Conv2d(label_classes, hidden, 3, padding=1), nn.ReLU())
        self.gamma = nn.Conv2d(hidden, channels, 3, padding=1)
        self.beta = nn.Conv2d(hidden, channels, 3, padding=1)

    def modulation(self, segmap: torch.Tensor, size) -> tuple[torch.Tensor, torch.Tensor]:
        """(γ, β) at ``size`` from the one-hot label map."""
        h = self.shared(F.interpolate(segmap, size=size, mode="nearest"))
        return self.gamma(h), self.beta(h)

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.modulation(segmap, x.shape[2:])
        return self.norm(x) * (1 + gamma) + beta


class SPADEResBlock(nn.Module):
    def __init__(self, fin: int, fout: int, config: SPADEConfig):
        super().__init__()
        middle = min(fin, fout)
        self.conv_0 = nn.Conv2d(fin, middle, 3, padding=1)
        self.conv_1 = nn.Conv2d(middle, fout, 3, padding=1)
        self.norm_0 = SPADE(fin, config.label_classes, config.spade_hidden)
        self.norm_1 = SPADE(middle, config.label_classes, config.spade_hidden)
        self.learned_shortcut = fin != fout
        if self.learned_shortcut:
            self.conv_s = nn.Conv2d(fin, fout, 1, bias=False)
            self.norm_s = SPADE(fin, config.label_classes, config.spade_hidden)

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        shortcut = self.conv_s(self.norm_s(x, segmap)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, segmap), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, segmap), 0.2))
        return shortcut + dx


def block_widths(config: SPADEConfig) -> list[int]:
    """Output channels of the head block and of the block after each upsampling."""
    return [config.ngf * min(2 ** k, 16) for k in reversed(range(config.n_up + 1))]


class SPADEGenerator(nn.Module):
    def __init__(self, config: SPADEConfig):
        super().__init__()
        self.n_up = config.n_up
        self.start = tuple(s // 2 ** config.n_up for s in config.data_shape[1:])
        widths = block_widths(config)
        self.fc = nn.Conv2d(config.label_classes, widths[0], 3, padding=1)
        self.blocks = nn.ModuleList([SPADEResBlock(widths[0], widths[0], config)]
                                    + [SPADEResBlock(widths[i], widths[i + 1], config) for i in range(config.n_up)])
        self.conv_img = nn.Conv2d(widths[-1], config.data_shape[0], 3, padding=1)

    def forward(self, segmap: torch.Tensor) -> torch.Tensor:
        x = self.fc(F.interpolate(segmap, size=self.start, mode="nearest"))
        x = self.blocks[0](x, segmap)
        for block in self.blocks[1:]:
            x = block(F.interpolate(x, scale_factor=2, mode="nearest"), segmap)
        return torch.tanh(self.conv_img(F.leaky_relu(x, 0.2)))


class FeaturePatchDiscriminator(nn.Module):
    """pix2pixHD/SPADE's NLayerDiscriminator: returns every layer's output, the logits last."""

    def __init__(self, in_channels: int, ndf: int, n_layers: int):
        super().__init__()
        layers = [nn.Sequential(nn.Conv2d(in_channels, ndf, 4, 2, 2), nn.LeakyReLU(0.2))]
        nf = ndf
        for n in range(1, n_layers):
            prev, nf = nf, min(nf * 2, 512)
            stride = 1 if n == n_layers - 1 else 2
            layers.append(nn.Sequential(spectral_norm(nn.Conv2d(prev, nf, 4, stride, 2, bias=False)),
                                        nn.InstanceNorm2d(nf, affine=False), nn.LeakyReLU(0.2)))
        layers.append(nn.Conv2d(nf, 1, 4, 1, 2))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for layer in self.layers:
            x = layer(x)
            features.append(x)
        return features


class MultiscaleDiscriminator(nn.Module):
    def __init__(self, in_channels: int, config: SPADEConfig):
        super().__init__()
        self.scales = nn.ModuleList([FeaturePatchDiscriminator(in_channels, config.ndf, config.d_layers)
                                     for _ in range(config.num_d)])

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        out = []
        for i, d in enumerate(self.scales):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            out.append(d(x))
        return out


def hinge_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """E[max(0, 1 − D(real))] + E[max(0, 1 + D(fake))] (Lim & Ye 2017; SPADE's D loss)."""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def hinge_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """−E[D(fake)]."""
    return -fake_logits.mean()


def feature_matching_loss(fake: list[list[torch.Tensor]], real: list[list[torch.Tensor]], weight: float) -> torch.Tensor:
    """Σ over scales and intermediate layers of L1(fake, real) · weight / scales (pix2pixHD eq. 4)."""
    loss = fake[0][0].new_zeros(())
    for fake_scale, real_scale in zip(fake, real):
        for f, r in zip(fake_scale[:-1], real_scale[:-1]):
            loss = loss + F.l1_loss(f, r.detach()) * weight / len(fake)
    return loss


def _init(module: nn.Module) -> None:
    """The reference code's 'xavier' init with gain 0.02; biases 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.xavier_normal_(m.weight, gain=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def _spectral_residual_convs(g: SPADEGenerator) -> None:
    for block in g.blocks:
        for name in ("conv_0", "conv_1", "conv_s"):
            if hasattr(block, name):
                setattr(block, name, spectral_norm(getattr(block, name)))


class SPADESpec(ModelSpec):
    name = "spade"
    paper = "Park et al. 2019, Semantic Image Synthesis with Spatially-Adaptive Normalization"
    kinds = ("image",)
    config_class = SPADEConfig
    image_range = "tanh"
    conditioning = "image"
    pairing = "paired"

    def default_config(self, dataset, profile: str = "quick") -> SPADEConfig:
        config = super().default_config(dataset, profile)
        check_label_maps(dataset, config)
        return config

    def profile_values(self, kind: str, profile: str) -> dict:
        if profile == "quick":
            return dict(ngf=8, ndf=16, spade_hidden=16, n_up=2, d_layers=2, batch_size=16, steps=1000,
                        checkpoint_every=250)
        return dict(n_up=2, d_layers=2, batch_size=32, steps=20000, checkpoint_every=2000)

    def build(self, config: SPADEConfig) -> nn.ModuleDict:
        if config.cond_shape[0] != 1:
            raise GenbenchError(f"spade reads a one-channel uint8 label map; inputs have {config.cond_shape[0]} channels")
        if tuple(config.cond_shape[1:]) != tuple(config.data_shape[1:]):
            raise GenbenchError(f"spade maps a label map to an image of the same size; inputs are "
                                f"{tuple(config.cond_shape[1:])}, targets {tuple(config.data_shape[1:])}")
        if any(s % 2 ** config.n_up for s in config.data_shape[1:]):
            raise GenbenchError(f"spade with n_up={config.n_up} needs image sides divisible by {2 ** config.n_up}; "
                                f"targets are {tuple(config.data_shape[1:])}")
        g = SPADEGenerator(config)
        d = MultiscaleDiscriminator(config.label_classes + config.data_shape[0], config)
        _init(g)
        _init(d)
        _spectral_residual_convs(g)
        return nn.ModuleDict({"G": g, "D": d})

    def make_optimizers(self, nets, config: SPADEConfig):
        betas = (config.beta1, config.beta2)
        return {"G": torch.optim.Adam(nets["G"].parameters(), lr=config.lr_g, betas=betas),
                "D": torch.optim.Adam(nets["D"].parameters(), lr=config.lr_d, betas=betas)}

    def generate(self, nets, cond, z, config: SPADEConfig) -> torch.Tensor:
        return nets["G"](decode_labels(cond, config))

    def discriminate(self, nets, segmap, fake, real):
        """D on (label map ‖ image), fake and real in one batch as the reference code: (fake, real) outputs."""
        out = nets["D"](torch.cat([torch.cat([segmap, fake], 1), torch.cat([segmap, real], 1)], 0))
        n = len(fake)
        return ([[f[:n] for f in scale] for scale in out], [[f[n:] for f in scale] for scale in out])

    def train_step(self, nets, opts, batch: Batch, gen, config: SPADEConfig) -> dict[str, torch.Tensor]:
        segmap, real = decode_labels(batch.cond, config), batch.x
        # generator step
        nets["D"].requires_grad_(False)
        fake = nets["G"](segmap)
        pred_fake, pred_real = self.discriminate(nets, segmap, fake, real)
        loss_gan = torch.stack([hinge_g_loss(scale[-1]) for scale in pred_fake]).mean()
        loss_fm = feature_matching_loss(pred_fake, pred_real, config.lambda_fm)
        loss_g = loss_gan + loss_fm
        opts["G"].zero_grad(set_to_none=True)
        loss_g.backward()
        opts["G"].step()
        nets["D"].requires_grad_(True)
        # discriminator step
        with torch.no_grad():
            fake = nets["G"](segmap)
        pred_fake, pred_real = self.discriminate(nets, segmap, fake, real)
        loss_d = torch.stack([hinge_d_loss(r[-1], f[-1]) for f, r in zip(pred_fake, pred_real)]).mean()
        opts["D"].zero_grad(set_to_none=True)
        loss_d.backward()
        opts["D"].step()
        return {"loss_g": loss_g.detach(), "loss_g_gan": loss_gan.detach(), "loss_fm": loss_fm.detach(),
                "loss_d": loss_d.detach()}


SPEC = SPADESpec()
