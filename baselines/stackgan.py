"""``stackgan`` — Zhang et al. 2017, "StackGAN: Text to Photo-realistic Image Synthesis with
Stacked Generative Adversarial Networks".

Faithful: two stages. Stage I draws a low-resolution image from z ‖ ĉ₀; Stage II refines the
Stage-I image, conditioned again on the text through its own ĉ, with an encoder (stride-2
convolution) → text joined as replicated channels → residual blocks → nearest-neighbour
up-sampling decoder. Conditioning augmentation in both stages: a fully connected layer maps the
text embedding φ_t to μ and log σ², ĉ = μ + σ ⊙ ε with ε ~ N(0, I), and the generator loss adds
λ · KL(N(μ, σ²) ‖ N(0, I)) with λ = 1 (the paper's value; the KL is summed over the ĉ
dimensions and averaged over the batch, the formula in the paper — the authors' code averages
over the dimensions too, i.e. a λ smaller by N_g). Matching-aware discriminators (Reed et al.
2016) that score (real, right text), (real, wrong text) and (fake, right text):
L_D = −[log D(x, t) + ½(log(1 − D(x, t̂)) + log(1 − D(G(z, t), t)))], the wrong text t̂ being
the batch's captions rolled by one; the text is compressed by a fully connected layer to N_d
channels, replicated over the M_d × M_d feature map and joined by a 1×1 convolution. Adam,
lr 2e-4, β1 = 0.5, minibatch 64; z ~ N(0, I); DCGAN initialisation. Stage I trains first and is
then frozen while Stage II trains (as in the paper): steps [0, ``stage1_steps``) update Stage I,
the later ones Stage II. The step count lives in a buffer saved with the checkpoint, so a
resumed run switches stage at the same step. Sampling returns Stage-II images; ``output_stage
= 1`` returns the Stage-I image instead, bilinearly up-sampled to the data size (``with_stage``
gives a loaded model that samples either stage, for FID per stage).

Substitutes and sizes (say so in any comparison):
- The text encoder is an embedding + GRU over the caption's word ids, trained with the model (by
  Stage I's matching-aware discriminator loss, frozen afterwards with the rest of Stage I); it
  stands in for the paper's pretrained char-CNN-RNN (Reed et al. 2016), which needs
  image–caption data genbench does not ship. φ_t is the GRU state at the caption's last word.
- Resolutions follow the data: Stage I at half the image size (14×14 for digits), Stage II at
  the full size (28×28); the paper goes 64×64 → 256×256 (×4), which on 28×28 digits would leave
  Stage I a 7×7 image that no longer shows the digit.
- Generator G loss is the non-saturating −log D(G(z, t), t) (what the authors' code trains);
  μ and log σ² come from a plain linear layer (the authors' code puts a ReLU/GLU before them);
  no learning-rate halving every 100 epochs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from baselines import nets as N
from baselines.losses import gaussian_kl
from baselines.spec import Batch, ModelSpec, TextConditionConfig
from genbench.errors import GenbenchError


@dataclass
class StackGANConfig(TextConditionConfig):
    z_dim: int = 100  # N_z
    word_dim: int = 300  # word embedding size of the stand-in text encoder
    text_dim: int = 1024  # φ_t (the char-CNN-RNN embedding size)
    c_dim: int = 128  # N_g, the conditioning-augmentation variable ĉ
    d_text_dim: int = 128  # N_d, the text compressed inside D
    g_width: int = 128
    d_width: int = 64
    n_residual: int = 4  # Stage-II residual blocks (the authors' code)
    kl_weight: float = 1.0  # λ
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 64
    steps: int = 20000
    stage1_steps: int = 10000  # steps [0, stage1_steps) train Stage I, the rest Stage II
    output_stage: int = 2  # which stage sampling returns (1: Stage I up-sampled to the data size)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.output_stage not in (1, 2):
            raise ValueError(f"output_stage must be 1 or 2, got {self.output_stage}")
        if self.stage1_steps < 0 or self.kl_weight < 0:
            raise ValueError("stage1_steps and kl_weight must be >= 0")
        for key in ("z_dim", "word_dim", "text_dim", "c_dim", "d_text_dim", "g_width", "d_width"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)}")


def conditioning_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) summed over ĉ's dimensions, averaged over the batch."""
    return gaussian_kl(mu, logvar).mean()


def matching_aware_d_loss(discriminate, real: torch.Tensor, fake: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    """−[log D(x, t) + ½(log(1 − D(x, t̂)) + log(1 − D(G(z, t), t)))], batch-averaged, where
    ``discriminate(images, text)`` gives logits and t̂ is ``text`` rolled by one along the batch."""
    wrong = text.roll(1, dims=0)
    real_right = discriminate(real, text)
    real_wrong = discriminate(real, wrong)
    fake_right = discriminate(fake, text)
    return F.softplus(-real_right).mean() + 0.5 * (F.softplus(real_wrong).mean() + F.softplus(fake_right).mean())


class TextEncoder(nn.Module):
    """Word ids (0 = padding, trailing) → φ_t, the GRU state after the caption's last word."""

    def __init__(self, vocab_size: int, word_dim: int, text_dim: int):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, word_dim, padding_idx=0)
        self.rnn = nn.GRU(word_dim, text_dim, batch_first=True)

    def forward(self, captions: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.embed(captions))
        last = (captions != 0).sum(dim=1).clamp(min=1) - 1
        return out[torch.arange(len(captions), device=captions.device), last]


class ConditioningAugmentation(nn.Module):
    """φ_t → (ĉ = μ + σ ⊙ ε, μ, log σ²); ε is given, so its randomness comes from the caller."""

    def __init__(self, text_dim: int, c_dim: int):
        super().__init__()
        self.fc = nn.Linear(text_dim, 2 * c_dim)

    def forward(self, phi: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.fc(phi).chunk(2, dim=1)
        return mu + torch.exp(0.5 * logvar) * eps, mu, logvar


def _up(c_in: int, c_out: int) -> nn.Sequential:
    """Nearest-neighbour ×2 then 3×3 convolution, BN, ReLU (the paper's up-sampling block)."""
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(True))


class StageOneGenerator(nn.Module):
    """z ‖ ĉ₀ → a (H/2)×(W/2) image: fully connected to a (H/4)×(W/4) map, one up-sampling block."""

    def __init__(self, in_dim: int, width: int, channels: int, base: tuple[int, int]):
        super().__init__()
        self.base, self.width = base, width
        self.fc = nn.Sequential(nn.Linear(in_dim, 2 * width * base[0] * base[1], bias=False),
                                nn.BatchNorm1d(2 * width * base[0] * base[1]), nn.ReLU(True))
        self.body = nn.Sequential(_up(2 * width, width), nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())

    def forward(self, zc: torch.Tensor) -> torch.Tensor:
        return self.body(self.fc(zc).view(-1, 2 * self.width, *self.base))


class ResidualBlock(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(True),
                                  nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


class StageTwoGenerator(nn.Module):
    """(Stage-I image, ĉ) → full-size image: down-sample, join ĉ, residual blocks, up-sample ×4."""

    def __init__(self, c_dim: int, width: int, channels: int, n_residual: int):
        super().__init__()
        self.encode = nn.Sequential(nn.Conv2d(channels, width, 3, 1, 1), nn.ReLU(True),
                                    nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width),
                                    nn.ReLU(True))
        self.joint = nn.Sequential(nn.Conv2d(2 * width + c_dim, 2 * width, 3, 1, 1, bias=False),
                                   nn.BatchNorm2d(2 * width), nn.ReLU(True),
                                   *[ResidualBlock(2 * width) for _ in range(n_residual)])
        self.decode = nn.Sequential(_up(2 * width, width), _up(width, max(width // 2, 1)),
                                    nn.Conv2d(max(width // 2, 1), channels, 3, 1, 1), nn.Tanh())

    def forward(self, stage_one: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = self.encode(stage_one)
        h = torch.cat([h, c[:, :, None, None].expand(-1, -1, *h.shape[2:])], dim=1)
        return self.decode(self.joint(h))


class MatchingDiscriminator(nn.Module):
    """(image, φ_t) → one logit: stride-2 convolutions down to ≤ 4×4 (M_d), the text compressed
    to N_d channels and replicated over that map, a 1×1 convolution, then one logit."""

    def __init__(self, channels: int, size: tuple[int, int], width: int, text_dim: int, d_text_dim: int):
        super().__init__()
        layers, c, (h, w), block = [], channels, size, 0
        while max(h, w) > 4:  # channels double per block; no BatchNorm on the input block (DCGAN)
            k = 4 if h % 2 == 0 and w % 2 == 0 else 3  # odd sizes: 3×3 keeps (n+1)/2
            c_out = width * 2 ** block
            layers += [nn.Conv2d(c, c_out, k, 2, 1, bias=block == 0), *([nn.BatchNorm2d(c_out)] if block else []),
                       nn.LeakyReLU(0.2, True)]
            c, h, w, block = c_out, (h + 2 - k) // 2 + 1, (w + 2 - k) // 2 + 1, block + 1
        self.image = nn.Sequential(*layers)
        self.text = nn.Sequential(nn.Linear(text_dim, d_text_dim), nn.LeakyReLU(0.2, True))
        self.joint = nn.Sequential(nn.Conv2d(c + d_text_dim, c, 1, 1, 0, bias=False), nn.BatchNorm2d(c),
                                   nn.LeakyReLU(0.2, True), nn.Conv2d(c, 1, (h, w)))

    def forward(self, x: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
        h = self.image(x)
        t = self.text(phi)[:, :, None, None].expand(-1, -1, *h.shape[2:])
        return self.joint(torch.cat([h, t], dim=1)).view(-1)


class StepClock(nn.Module):
    """The number of training steps taken, as a buffer: saved and restored with the weights."""

    def __init__(self):
        super().__init__()
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.int64))


class StackGANSpec(ModelSpec):
    name = "stackgan"
    paper = "Zhang et al. 2017, StackGAN: Text to Photo-realistic Image Synthesis with Stacked GANs"
    kinds = ("image",)
    config_class = StackGANConfig
    conditioning = "text"

    def profile_values(self, kind: str, profile: str) -> dict:
        if profile == "quick":
            return dict(z_dim=32, word_dim=32, text_dim=64, c_dim=16, d_text_dim=16, g_width=32, d_width=16,
                        n_residual=2, batch_size=64, steps=1200, stage1_steps=600, checkpoint_every=200)
        return dict(steps=20000, stage1_steps=10000, checkpoint_every=2000)

    def _sizes(self, config: StackGANConfig) -> tuple[int, int, int]:
        c, h, w = config.data_shape
        if h % 4 or w % 4:
            raise GenbenchError(f"stackgan needs image sides divisible by 4 (two ×2 stages), got {h}×{w}")
        return c, h, w

    def build(self, config: StackGANConfig) -> nn.ModuleDict:
        c, h, w = self._sizes(config)
        nets = nn.ModuleDict({
            "text": TextEncoder(config.vocab_size, config.word_dim, config.text_dim),
            "CA1": ConditioningAugmentation(config.text_dim, config.c_dim),
            "G1": StageOneGenerator(config.z_dim + config.c_dim, config.g_width, c, (h // 4, w // 4)),
            "D1": MatchingDiscriminator(c, (h // 2, w // 2), config.d_width, config.text_dim, config.d_text_dim),
            "CA2": ConditioningAugmentation(config.text_dim, config.c_dim),
            "G2": StageTwoGenerator(config.c_dim, config.g_width, c, config.n_residual),
            "D2": MatchingDiscriminator(c, (h, w), config.d_width, config.text_dim, config.d_text_dim),
        })
        for key in ("CA1", "G1", "D1", "CA2", "G2", "D2"):
            N.dcgan_init(nets[key])
        nets["clock"] = StepClock()
        return nets

    def make_optimizers(self, nets, config: StackGANConfig):
        """One Adam per side; the networks of the stage not in training get no gradients, so
        Adam leaves them (and their moments) untouched."""
        betas = (config.beta1, config.beta2)
        g = [p for k in ("CA1", "G1", "CA2", "G2") for p in nets[k].parameters()]
        d = [p for k in ("text", "D1", "D2") for p in nets[k].parameters()]
        return {"G": torch.optim.Adam(g, lr=config.lr_g, betas=betas),
                "D": torch.optim.Adam(d, lr=config.lr_d, betas=betas)}

    def latent(self, n: int, gen: torch.Generator, config: StackGANConfig) -> torch.Tensor:
        """z ‖ ε₁ ‖ ε₂: the noise and both stages' conditioning-augmentation draws, all N(0, I)."""
        return torch.randn(n, config.z_dim + 2 * config.c_dim, generator=gen, device=gen.device)

    def _split(self, z: torch.Tensor, config: StackGANConfig):
        return z.split([config.z_dim, config.c_dim, config.c_dim], dim=1)

    def stage_one(self, nets, phi: torch.Tensor, z: torch.Tensor, config: StackGANConfig):
        """Stage-I images (H/2 × W/2) and ĉ₀'s μ, log σ²."""
        z0, eps1, _ = self._split(z, config)
        c1, mu, logvar = nets["CA1"](phi, eps1)
        return nets["G1"](torch.cat([z0, c1], dim=1)), mu, logvar

    def stage_two(self, nets, phi: torch.Tensor, stage_one: torch.Tensor, z: torch.Tensor, config: StackGANConfig):
        """Stage-II images (H × W) from Stage-I images, and ĉ's μ, log σ²."""
        c2, mu, logvar = nets["CA2"](phi, self._split(z, config)[2])
        return nets["G2"](stage_one, c2), mu, logvar

    def generate(self, nets, cond, z, config: StackGANConfig) -> torch.Tensor:
        phi = nets["text"](cond)
        low, _, _ = self.stage_one(nets, phi, z, config)
        if config.output_stage == 1:
            return F.interpolate(low, size=tuple(config.data_shape[1:]), mode="bilinear", align_corners=False)
        return self.stage_two(nets, phi, low, z, config)[0]

    def stage_model(self, model, stage: int):
        """The loaded model sampling Stage ``stage`` (what per-stage metrics score)."""
        return with_stage(model, stage)

    def paper_figures(self, model, examples, seed: int) -> list:
        """Caption → Stage I / Stage II rows (the paper's Fig. 3 idea), beside the real digit the
        caption describes; both stages from the same latent draws."""
        import numpy as np

        from baselines.paper_figures import ROWS, PaperFigure

        if examples.captions is None:
            raise GenbenchError("stackgan's figure needs captions; the evaluation split has none")
        caps = examples.captions[:ROWS]
        one = with_stage(model, 1).sample_captions(caps, seed)
        two = with_stage(model, 2).sample_captions(caps, seed)
        h, w = model.config.data_shape[1:]
        return [PaperFigure("captions", "Caption → Stage I → Stage II", (
            f"Each row: a test caption (row label), the test digit it was written for, Stage I's {h // 2}×{w // 2} "
            "image (bilinearly up-sampled to the data size, as Stage II sees it) and Stage II's refinement of it, "
            f"from the same latent draws (seed {seed})."),
            np.stack([examples.images[:len(caps)], one, two], axis=1),
            [examples.caption_text(i) for i in range(len(caps))],
            ["real digit", f"Stage I ({h // 2}×{w // 2})", f"Stage II ({h}×{w})"])]

    def train_step(self, nets, opts, batch: Batch, gen, config: StackGANConfig) -> dict[str, torch.Tensor]:
        stage = 1 if int(nets["clock"].steps_done) < config.stage1_steps else 2
        captions, x = batch.cond, batch.x
        z = self.latent(len(x), gen, config)
        if stage == 1:
            real = F.avg_pool2d(x, 2)  # Stage I learns the half-size images
            phi = nets["text"](captions)  # the encoder learns through D1's matching-aware loss
            fake, mu, logvar = self.stage_one(nets, phi.detach(), z, config)
            d_net = nets["D1"]
        else:
            with torch.no_grad():  # Stage I (encoder included) is frozen, BN in eval mode
                frozen = [nets[k] for k in ("text", "CA1", "G1")]
                modes = [m.training for m in frozen]
                for m in frozen:
                    m.eval()
                phi = nets["text"](captions)
                low, _, _ = self.stage_one(nets, phi, z, config)
                for m, mode in zip(frozen, modes):
                    m.train(mode)
            real = x
            fake, mu, logvar = self.stage_two(nets, phi, low, z, config)
            d_net = nets["D2"]
        loss_d = matching_aware_d_loss(d_net, real, fake.detach(), phi)
        opts["D"].zero_grad(set_to_none=True)
        loss_d.backward()
        opts["D"].step()

        kl = conditioning_kl(mu, logvar)
        loss_g = F.softplus(-d_net(fake, phi.detach())).mean() + config.kl_weight * kl
        opts["G"].zero_grad(set_to_none=True)
        loss_g.backward()
        opts["G"].step()
        nets["clock"].steps_done += 1
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(), "kl": kl.detach(),
                "stage": torch.tensor(float(stage))}


def with_stage(model, stage: int):
    """A loaded stackgan ``TrainedModel`` that samples Stage ``stage`` (1: Stage I up-sampled)."""
    from baselines.trained import TrainedModel

    if model.name != StackGANSpec.name:
        raise GenbenchError(f"with_stage needs a stackgan model, got {model.name!r}")
    if stage not in (1, 2):
        raise GenbenchError(f"stage must be 1 or 2, got {stage!r}")
    return TrainedModel(model.spec, model.nets, dataclasses.replace(model.config, output_stage=stage),
                        model.record, model.codec, model.device, model.path)


SPEC = StackGANSpec()
