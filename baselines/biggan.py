"""``biggan`` — Brock, Donahue & Simonyan 2019, "Large Scale GAN Training for High Fidelity
Natural Image Synthesis".

Faithful: the SAGAN base (residual G and D blocks, one self-attention block), the hinge loss,
spectral normalisation of every conv/linear weight in G and D (the class embeddings of D too),
orthogonal initialisation, the paper's off-diagonal orthogonal regularisation of G,
R_β(W) = β‖WᵀW ⊙ (1 − I)‖²_F with β = 1e-4, a shared class embedding with hierarchical latents
(z is split into one chunk for the first linear layer and one per residual block; each block's
class-conditional BatchNorm gains and biases are linear projections of [shared(y), z_chunk]),
the projection discriminator D(x, y) = ψ(φ(x)) + ⟨embed(y), φ(x)⟩, two D steps per G step,
Adam with G lr 5e-5, D lr 2e-4, β = (0, 0.999), an exponential moving average of G's weights
(decay 0.9999) for sampling, and the truncation trick.

Chosen where the paper is silent or its setting does not fit 28×28 digits:

- Architecture for 28×28: G is linear(z₀) → 4w×7×7 → up-block → 2w×14×14 → self-attention →
  up-block → w×28×28 → BN, ReLU, 3×3 conv, tanh; D mirrors it (down-blocks 28 → 14, attention
  at 14×14, 14 → 7, one more block at 7×7, ReLU, sum pooling). The paper's 128×128 nets have five
  blocks and attention at 64×64. z has 120 dims as in the paper, in 3 chunks of 40 (not 6 of 20).
- ``WᵀW``: each weight is flattened to one row per output unit (conv: out × in·k·k), so the
  Gram matrix is over the output filters, as the authors' BigGAN-PyTorch code does. It covers
  every ≥ 2-D weight of G except the shared embedding (as their code), and is added to G's loss,
  so its gradient is the exact 4β(WWᵀ ⊙ (1 − I))W (their code applies half of it by hand).
- EMA: parameters are averaged; buffers (BatchNorm statistics, spectral-norm vectors) are copied
  from G. Before ``ema_start`` updates the average is a plain copy of G (BigGAN-PyTorch's
  ``ema_start``, 20000 on ImageNet). The update count is a buffer, so resume stays bit-exact.
- Truncation ψ ∈ (0, 1]: each z entry is drawn from N(0, 1) truncated to |z| ≤ τ(ψ) =
  Φ⁻¹((1 + ψ)/2), the threshold that keeps the share ψ of the prior's mass (ψ = 1: τ = ∞, plain
  N(0, I), the very same draws; BigGAN's thresholds 0.04 … 2 are ψ ≈ 0.03 … 0.95). We draw the
  truncated normal by inverting its CDF, which gives exactly the distribution of "resample every
  value above the threshold" without an unbounded loop. Training always uses untruncated z.
- Fake labels are drawn uniformly over the classes (as BigGAN-PyTorch samples y_), from ``gen``.
- 'quick' (2-core CPU): widths 16, batch 32 (× 2 D steps), 400 steps, lr 2e-4 for both nets
  (the authors' small-data CIFAR setting), EMA decay 0.99 from update 100. 'full': widths 64,
  batch 256, 50k steps, the paper's lrs, EMA from update 5000.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from baselines.spec import BaseConfig, Batch, ModelSpec
from genbench.errors import GenbenchError

N_UP_BLOCKS = 2  # 7 → 14 → 28 (sides divisible by 4)


@dataclass
class BigGANConfig(BaseConfig):
    z_dim: int = 120
    shared_dim: int = 128  # the shared class embedding
    g_width: int = 96  # "ch" in the paper's tables
    d_width: int = 96
    d_steps: int = 2
    lr_g: float = 5e-5
    lr_d: float = 2e-4
    beta1: float = 0.0
    beta2: float = 0.999
    ortho_beta: float = 1e-4
    ema_decay: float = 0.9999
    ema_start: int = 20000
    truncation_psi: float = 1.0  # 1 = no truncation
    batch_size: int = 2048

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.z_dim < N_UP_BLOCKS + 1 or self.z_dim % (N_UP_BLOCKS + 1):
            raise ValueError(f"z_dim must be a positive multiple of {N_UP_BLOCKS + 1} (one chunk for the first "
                             f"layer and one per block), got {self.z_dim}")
        if min(self.shared_dim, self.g_width, self.d_width, self.d_steps) < 1:
            raise ValueError("shared_dim, g_width, d_width and d_steps must be >= 1")
        if not 0 < self.truncation_psi <= 1:
            raise ValueError(f"truncation_psi must be in (0, 1], got {self.truncation_psi}")
        if not 0 <= self.ema_decay < 1 or self.ema_start < 0 or self.ortho_beta < 0:
            raise ValueError("ema_decay must be in [0, 1), ema_start and ortho_beta >= 0")


def orthogonal_init(m: nn.Module) -> nn.Module:
    """BigGAN's 'ortho' init of one conv, linear or embedding layer: orthogonal weight, zero bias."""
    nn.init.orthogonal_(m.weight)
    if getattr(m, "bias", None) is not None:
        nn.init.zeros_(m.bias)
    return m


def sn(module: nn.Module) -> nn.Module:
    """Orthogonal init, then spectral normalisation (its power iteration starts on the final weight)."""
    return spectral_norm(orthogonal_init(module))


def orthogonal_penalty(weight: torch.Tensor) -> torch.Tensor:
    """‖W Wᵀ ⊙ (1 − I)‖²_F with W flattened to one row per output unit (β applied by the caller).

    A tall W (more outputs than inputs, e.g. G's first linear layer: 3136 × 40) uses the identity
    ‖W Wᵀ‖²_F = ‖Wᵀ W‖²_F, so the sum is ‖Wᵀ W‖²_F − Σᵢ ‖wᵢ‖⁴ without the outputs² Gram matrix.
    """
    w = weight.reshape(weight.shape[0], -1)
    if w.shape[0] > w.shape[1]:
        return (w.t() @ w).pow(2).sum() - w.pow(2).sum(dim=1).pow(2).sum()
    gram = w @ w.t()
    off = gram * (1.0 - torch.eye(gram.shape[0], device=w.device, dtype=w.dtype))
    return off.pow(2).sum()


def orthogonal_regulariser(generator: nn.Module, beta: float) -> torch.Tensor:
    """R_β summed over G's ≥ 2-D weights except the shared class embedding."""
    total = torch.zeros((), device=next(generator.parameters()).device)
    for name, p in generator.named_parameters():
        if p.dim() >= 2 and not name.startswith("shared."):
            total = total + orthogonal_penalty(p)
    return beta * total


class ConditionalBatchNorm(nn.Module):
    """BatchNorm without affine; gain 1 + Wγ·c and bias Wβ·c from the block's condition c."""

    def __init__(self, channels: int, cond_dim: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.gain = sn(nn.Linear(cond_dim, channels, bias=False))
        self.bias = sn(nn.Linear(cond_dim, channels, bias=False))

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        g = 1.0 + self.gain(cond)
        b = self.bias(cond)
        return self.bn(x) * g[:, :, None, None] + b[:, :, None, None]


class SelfAttention(nn.Module):
    """SAGAN's non-local block (as BigGAN-PyTorch): keys and values max-pooled ×2, γ starts at 0."""

    def __init__(self, channels: int):
        super().__init__()
        c8, c2 = max(channels // 8, 1), max(channels // 2, 1)
        self.theta = sn(nn.Conv2d(channels, c8, 1, bias=False))
        self.phi = sn(nn.Conv2d(channels, c8, 1, bias=False))
        self.g = sn(nn.Conv2d(channels, c2, 1, bias=False))
        self.o = sn(nn.Conv2d(c2, channels, 1, bias=False))
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        theta = self.theta(x).flatten(2)  # n × c/8 × hw
        phi = F.max_pool2d(self.phi(x), 2).flatten(2)  # n × c/8 × hw/4
        g = F.max_pool2d(self.g(x), 2).flatten(2)  # n × c/2 × hw/4
        beta = torch.softmax(theta.transpose(1, 2) @ phi, dim=-1)  # n × hw × hw/4
        o = self.o((g @ beta.transpose(1, 2)).view(n, -1, h, w))
        return x + self.gamma * o


class GBlock(nn.Module):
    """CBN, ReLU, ×2 nearest upsampling, 3×3 conv, CBN, ReLU, 3×3 conv; shortcut: up, 1×1 conv."""

    def __init__(self, c_in: int, c_out: int, cond_dim: int):
        super().__init__()
        self.bn1, self.bn2 = ConditionalBatchNorm(c_in, cond_dim), ConditionalBatchNorm(c_out, cond_dim)
        self.conv1 = sn(nn.Conv2d(c_in, c_out, 3, padding=1))
        self.conv2 = sn(nn.Conv2d(c_out, c_out, 3, padding=1))
        self.shortcut = sn(nn.Conv2d(c_in, c_out, 1))

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = F.interpolate(F.relu(self.bn1(x, cond)), scale_factor=2)
        h = self.conv2(F.relu(self.bn2(self.conv1(h), cond)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2))


class Generator(nn.Module):
    """Hierarchical z: chunk 0 → the first linear layer; chunk i → block i's CBN with shared(y)."""

    def __init__(self, config: BigGANConfig):
        super().__init__()
        c, h, w = config.data_shape
        if h % 4 or w % 4:
            raise GenbenchError(f"biggan needs image sides divisible by 4, got {h}×{w}")
        self.h0, self.w0 = h // 4, w // 4
        ch = config.g_width
        self.chunk = config.z_dim // (N_UP_BLOCKS + 1)
        cond_dim = config.shared_dim + self.chunk
        self.shared = orthogonal_init(nn.Embedding(int(config.n_classes), config.shared_dim))
        self.linear = sn(nn.Linear(self.chunk, 4 * ch * self.h0 * self.w0))
        self.blocks = nn.ModuleList([GBlock(4 * ch, 2 * ch, cond_dim), GBlock(2 * ch, ch, cond_dim)])
        self.attention = SelfAttention(2 * ch)  # after the first block: at H/2 × W/2 (14×14 for digits)
        self.out_bn = nn.BatchNorm2d(ch)
        self.out_conv = sn(nn.Conv2d(ch, c, 3, padding=1))
        self.width = ch

    def block_conditions(self, z: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """z's first chunk, and [shared(y), z_i] for each block i (the skip-z connections)."""
        chunks = torch.split(z, self.chunk, dim=1)
        shared = self.shared(y)
        return chunks[0], [torch.cat([shared, zc], dim=1) for zc in chunks[1:]]

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        z0, conds = self.block_conditions(z, y)
        h = self.linear(z0).view(z.shape[0], 4 * self.width, self.h0, self.w0)
        h = self.attention(self.blocks[0](h, conds[0]))
        h = self.blocks[1](h, conds[1])
        return torch.tanh(self.out_conv(F.relu(self.out_bn(h))))


class DBlock(nn.Module):
    """(ReLU,) 3×3 conv, ReLU, 3×3 conv, (2×2 average pool); shortcut 1×1 conv (+ pool)."""

    def __init__(self, c_in: int, c_out: int, downsample: bool, preactivation: bool):
        super().__init__()
        self.conv1 = sn(nn.Conv2d(c_in, c_out, 3, padding=1))
        self.conv2 = sn(nn.Conv2d(c_out, c_out, 3, padding=1))
        self.shortcut = sn(nn.Conv2d(c_in, c_out, 1))
        self.downsample, self.preactivation = downsample, preactivation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        if self.preactivation:  # BigGAN-PyTorch: conv then pool after a preactivated block, else pool then conv
            s = self.shortcut(x)
            s = F.avg_pool2d(s, 2) if self.downsample else s
        else:
            s = self.shortcut(F.avg_pool2d(x, 2) if self.downsample else x)
        return h + s


class ProjectionDiscriminator(nn.Module):
    """φ: residual blocks, ReLU, sum pooling; output ψ(φ(x)) + ⟨embed(y), φ(x)⟩ (Miyato & Koyama 2018)."""

    def __init__(self, config: BigGANConfig):
        super().__init__()
        c = config.data_shape[0]
        ch = config.d_width
        self.block1 = DBlock(c, ch, downsample=True, preactivation=False)  # 28 → 14
        self.attention = SelfAttention(ch)  # at 14×14, as in G
        self.block2 = DBlock(ch, 2 * ch, downsample=True, preactivation=True)  # 14 → 7
        self.block3 = DBlock(2 * ch, 4 * ch, downsample=False, preactivation=True)
        self.psi = sn(nn.Linear(4 * ch, 1))
        self.embed = sn(nn.Embedding(int(config.n_classes), 4 * ch))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.block3(self.block2(self.attention(self.block1(x))))
        return F.relu(h).sum(dim=(2, 3))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        phi = self.features(x)
        return self.psi(phi).view(-1) + (self.embed(y) * phi).sum(dim=1)


class EMAGenerator(nn.Module):
    """A copy of G whose parameters are an exponential moving average of G's; buffers are copied.

    ``updates`` counts calls to ``update`` (a buffer: saved with the checkpoint, so resume is exact).
    """

    def __init__(self, generator: Generator):
        super().__init__()
        self.net = generator
        self.register_buffer("updates", torch.zeros((), dtype=torch.int64))

    @torch.no_grad()
    def update(self, source: nn.Module, decay: float, start: int) -> None:
        d = decay if int(self.updates) >= start else 0.0
        for p_ema, p in zip(self.net.parameters(), source.parameters()):
            p_ema.mul_(d).add_(p.detach(), alpha=1.0 - d)
        for b_ema, b in zip(self.net.buffers(), source.buffers()):
            b_ema.copy_(b)
        self.updates += 1

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(z, y)


def truncation_threshold(psi: float) -> float:
    """τ(ψ) = Φ⁻¹((1 + ψ)/2): |z| ≤ τ keeps the share ψ of N(0, 1)'s mass; ψ = 1 → ∞."""
    if not 0 < psi <= 1:
        raise GenbenchError(f"truncation ψ must be in (0, 1], got {psi!r}")
    return math.inf if psi == 1 else float(torch.special.ndtri(torch.tensor((1.0 + psi) / 2, dtype=torch.float64)))


def truncated_normal(shape: tuple[int, ...], psi: float, gen: torch.Generator) -> torch.Tensor:
    """N(0, 1) draws restricted to |z| ≤ τ(ψ), from ``gen``: Φ⁻¹((1 − ψ)/2 + ψ·U), U ~ U[0, 1)."""
    truncation_threshold(psi)  # validates ψ
    if psi == 1:
        return torch.randn(shape, generator=gen, device=gen.device)
    u = torch.rand(shape, generator=gen, device=gen.device, dtype=torch.float64)
    return torch.special.ndtri((1.0 - psi) / 2 + psi * u).to(torch.float32)


def hinge_discriminator_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


class BigGANSpec(ModelSpec):
    name = "biggan"
    paper = "Brock et al. 2019, Large Scale GAN Training for High Fidelity Natural Image Synthesis"
    kinds = ("image",)
    config_class = BigGANConfig
    image_range = "tanh"
    conditioning = "class"
    supports_truncation = True

    def profile_values(self, kind: str, profile: str) -> dict:
        if profile == "quick":
            return dict(g_width=16, d_width=16, batch_size=32, lr_g=2e-4, lr_d=2e-4, ema_decay=0.99,
                        ema_start=100, steps=400, checkpoint_every=100)
        return dict(g_width=64, d_width=64, batch_size=256, steps=50000, ema_start=5000, checkpoint_every=5000)

    def build(self, config: BigGANConfig) -> nn.ModuleDict:
        g = Generator(config)
        ema = Generator(config)
        ema.load_state_dict(g.state_dict())
        return nn.ModuleDict({"G": g, "D": ProjectionDiscriminator(config), "G_ema": EMAGenerator(ema)})

    def make_optimizers(self, nets, config: BigGANConfig):
        betas = (config.beta1, config.beta2)
        return {"G": torch.optim.Adam(nets["G"].parameters(), lr=config.lr_g, betas=betas),
                "D": torch.optim.Adam(nets["D"].parameters(), lr=config.lr_d, betas=betas)}

    def examples_per_step(self, config: BigGANConfig) -> int:
        return config.batch_size * config.d_steps  # one real minibatch per D step

    def latent(self, n: int, gen: torch.Generator, config: BigGANConfig) -> torch.Tensor:
        return truncated_normal((n, config.z_dim), config.truncation_psi, gen)

    def generate(self, nets, cond: torch.Tensor, z: torch.Tensor, config: BigGANConfig) -> torch.Tensor:
        """Samples come from the EMA generator (its z already truncated by ``latent``)."""
        return nets["G_ema"](z, cond)

    def paper_figures(self, model, examples, seed: int) -> list:
        """Truncation rows (the paper's Fig. 2 idea); samples cycle the classes, so row i shows class i."""
        from baselines.paper_figures import truncation_rows

        return [truncation_rows(model, seed)]

    def _fake(self, nets, n: int, gen: torch.Generator, config: BigGANConfig) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.randn(n, config.z_dim, generator=gen, device=gen.device)  # training: never truncated
        y = torch.randint(0, int(config.n_classes), (n,), generator=gen, device=gen.device)
        return nets["G"](z, y), y

    def train_step(self, nets, opts, batch: Batch, gen, config: BigGANConfig) -> dict[str, torch.Tensor]:
        b = config.batch_size
        d_losses = []
        for i in range(config.d_steps):
            x, y = batch.x[i * b:(i + 1) * b], batch.cond[i * b:(i + 1) * b]
            with torch.no_grad():
                fake, y_fake = self._fake(nets, b, gen, config)
            loss = hinge_discriminator_loss(nets["D"](x, y), nets["D"](fake, y_fake))
            opts["D"].zero_grad(set_to_none=True)
            loss.backward()
            opts["D"].step()
            d_losses.append(loss.detach())
        fake, y_fake = self._fake(nets, b, gen, config)
        adversarial = -nets["D"](fake, y_fake).mean()
        ortho = orthogonal_regulariser(nets["G"], config.ortho_beta)
        opts["G"].zero_grad(set_to_none=True)
        (adversarial + ortho).backward()
        opts["G"].step()
        nets["G_ema"].update(nets["G"], config.ema_decay, config.ema_start)
        return {"loss_d": torch.stack(d_losses).mean(), "loss_g": adversarial.detach(), "ortho": ortho.detach()}


SPEC = BigGANSpec()
