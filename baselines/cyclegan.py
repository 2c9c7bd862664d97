"""``cyclegan`` — Zhu, Park, Isola & Efros 2017, "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks".

Two generators, G: A → B and F: B → A, and two discriminators, D_B (real B vs G(a)) and D_A
(real A vs F(b)), trained on two unpaired domains (the dataset's inputs are A, its samples B).

Faithful (the paper and its reference code, junyanz/pytorch-CycleGAN-and-pix2pix):

- ResNet generators (Johnson et al. 2016): c7s1-64, d128, d256, n residual blocks of 256
  channels, u128, u64, c7s1-C, instance norm without affine parameters, reflection padding,
  ReLU, tanh output; weights from N(0, 0.02).
- PatchGAN discriminators (``baselines.image_nets.PatchDiscriminator``, instance norm).
- Least-squares GAN loss (Mao et al. 2017): D minimises ½[(D(b) − 1)² + D(G(a))²] (the paper
  halves D's objective "to slow down the rate at which D learns"), G minimises (D(G(a)) − 1)².
- Cycle loss λ·‖F(G(a)) − a‖₁ + λ·‖G(F(b)) − b‖₁ with λ = 10; identity loss
  0.5·λ·(‖G(b) − b‖₁ + ‖F(a) − a‖₁).
- D is updated on a history of 50 generated images per discriminator: once the buffer is full,
  each new image is returned as is with probability ½, otherwise it replaces a random stored
  image, which is returned instead. The buffer is a tensor buffer inside ``nets`` (saved in the
  checkpoint with its fill count) and its random choices come from the step's generator, so a
  resumed run is bit-exact.
- Adam, lr 2e-4, β1 = 0.5; batch size 1; the lr stays constant, then decays linearly to zero.

Chosen where the paper is silent or sized for 256×256 photos:

- The schedule is counted in steps, not epochs: constant for ``lr_constant_steps``, then
  lr·(1 − (s − C)/D) at step s, reaching 0 at C + D. Its length is its own config fields (not
  ``steps``, which a resume may extend), so a resumed run follows the same schedule; the
  profiles set C = D = steps / 2; ``--steps`` alone does not rescale it (set
  ``lr_constant_steps`` and ``lr_decay_steps`` with it). The step is read from a counter buffer
  in ``nets`` (the shared loop does not pass it to ``train_step``).
- 28×28 digits: one downsampling (28 → 14; c7s1-ngf, d2·ngf, blocks, u·ngf, c7s1-C) instead of
  two, since a 7×7 bottleneck keeps little of a stroke's geometry, and fewer residual blocks
  (paper: 6 for 128², 9 for 256²; here 6 'full', 3 'quick'). The discriminator has
  ``d_layers = 1``: 16×16 patches, a 12×12 map of logits on a 28×28 digit (the paper's 70×70 on
  256×256 covers a quarter of a side; 16 is a bit over half of 28; 34 with ``d_layers = 2``
  would see the whole digit). The dataclass defaults are the paper's 256×256 setting.
- Identity loss needs both domains to have the same channel count; for data where they differ
  the default config sets ``lambda_identity = 0`` (recorded in the config), and an explicit
  positive value is refused.
- ``lambda_gan`` (1 in the paper) scales both generators' adversarial terms; tests set 0.
- Fully convolutional: an input whose sides are not multiples of 2^n_downsampling is reflection
  padded to the next multiple and the output cropped back.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from baselines import nets as N
from baselines.image_nets import PatchDiscriminator, norm_layer
from baselines.spec import Batch, ImageConditionConfig, ModelSpec
from genbench.data.dataset import Dataset
from genbench.errors import GenbenchError


@dataclass
class CycleGANConfig(ImageConditionConfig):
    ngf: int = 64
    ndf: int = 64
    n_downsampling: int = 2  # c7s1-64, d128, d256
    n_blocks: int = 9  # the paper's 256×256 generator (6 for 128×128)
    d_layers: int = 3  # PatchGAN 70×70
    norm: str = "instance"
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5  # × lambda_cycle, as the paper and the reference code
    lambda_gan: float = 1.0
    pool_size: int = 50
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    # 100 epochs constant + 100 decaying, of ~1,000 images (horse2zebra) at batch size 1
    lr_constant_steps: int = 100_000
    lr_decay_steps: int = 100_000
    steps: int = 200_000
    batch_size: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("ngf", "ndf", "d_layers"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)}")
        for key in ("n_downsampling", "n_blocks", "pool_size", "lr_constant_steps", "lr_decay_steps"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be >= 0, got {getattr(self, key)}")
        for key in ("lambda_cycle", "lambda_identity", "lambda_gan", "lr"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be >= 0, got {getattr(self, key)}")
        if self.norm not in ("instance", "batch", "none"):
            raise ValueError(f"norm must be 'instance', 'batch' or 'none', got {self.norm!r}")


# --- networks -----------------------------------------------------------------------------------
class ResnetBlock(nn.Module):
    """x + (reflect-pad, 3×3 conv, norm, ReLU, reflect-pad, 3×3 conv, norm)(x)."""

    def __init__(self, channels: int, norm: str):
        super().__init__()
        bias = norm == "instance"
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(norm, channels),
            nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(norm, channels),
        )

    def forward(self, x):
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Johnson et al.'s transformation net as CycleGAN uses it (c7s1-k, dk..., Rk..., uk..., c7s1-C)."""

    def __init__(self, in_channels: int, out_channels: int, ngf: int, n_downsampling: int, n_blocks: int, norm: str):
        super().__init__()
        bias = norm == "instance"  # a BatchNorm after the conv makes its bias redundant (junyanz)
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7, bias=bias),
                                   norm_layer(norm, ngf), nn.ReLU(True)]
        for i in range(n_downsampling):
            c = ngf * 2 ** i
            layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=bias), norm_layer(norm, 2 * c), nn.ReLU(True)]
        width = ngf * 2 ** n_downsampling
        layers += [ResnetBlock(width, norm) for _ in range(n_blocks)]
        for i in range(n_downsampling, 0, -1):
            c = ngf * 2 ** i
            layers += [nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1, bias=bias),
                       norm_layer(norm, c // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.multiple = 2 ** n_downsampling

    def forward(self, x):
        h, w = x.shape[-2:]
        pad_h, pad_w = -h % self.multiple, -w % self.multiple
        if pad_h or pad_w:  # any input size: pad to a multiple of the total stride, crop back
            return self.net(F.pad(x, (0, pad_w, 0, pad_h), mode="reflect"))[..., :h, :w]
        return self.net(x)


class HistoryBuffer(nn.Module):
    """Shrivastava et al.'s image history, as CycleGAN's ``ImagePool``: up to ``size`` generated
    images that D sees instead of the newest ones half of the time. Tensor buffers, so the
    checkpoint holds it; every query draws the same numbers from ``gen``, full or not."""

    def __init__(self, size: int, shape: tuple[int, ...]):
        super().__init__()
        self.size = size
        self.register_buffer("images", torch.zeros(size, *shape))
        self.register_buffer("count", torch.zeros((), dtype=torch.int64))

    @torch.no_grad()
    def query(self, images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if self.size == 0:
            return images.detach().to(self.images.dtype)
        n = len(images)
        coins = torch.rand(n, generator=gen, device=gen.device).tolist()
        slots = torch.randint(self.size, (n,), generator=gen, device=gen.device).tolist()
        out = []
        for image, coin, slot in zip(images.detach().to(self.images.dtype), coins, slots):
            filled = int(self.count)
            if filled < self.size:  # filling up: store and return the new image
                self.images[filled] = image
                self.count += 1
                out.append(image)
            elif coin > 0.5:  # return an old image, keep the new one in its place
                out.append(self.images[slot].clone())
                self.images[slot] = image
            else:
                out.append(image)
        return torch.stack(out)


class StepCounter(nn.Module):
    """The number of training steps done, as a buffer: the lr schedule reads it and resumes with it."""

    def __init__(self):
        super().__init__()
        self.register_buffer("step", torch.zeros((), dtype=torch.int64))


# --- losses and schedule ------------------------------------------------------------------------------
def lsgan_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss against target 1 (real) or 0 (fake): mean((D − target)²)."""
    return (logits - (1.0 if real else 0.0)).pow(2).mean()


def learning_rate(step: int, config: CycleGANConfig) -> float:
    """lr for ``step`` (0-based): constant for ``lr_constant_steps``, then linear to 0 over ``lr_decay_steps``."""
    past = step - config.lr_constant_steps
    if past <= 0:
        return config.lr
    if config.lr_decay_steps == 0:
        return 0.0
    return config.lr * max(0.0, 1.0 - past / config.lr_decay_steps)


# --- the model ----------------------------------------------------------------------------------
class CycleGANSpec(ModelSpec):
    name = "cyclegan"
    paper = "Zhu et al. 2017, Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks"
    kinds = ("image",)
    config_class = CycleGANConfig
    image_range = "tanh"
    conditioning = "image"
    pairing = "unpaired"
    fully_convolutional = True
    has_inverse = True

    def default_config(self, dataset: Dataset, profile: str = "quick") -> CycleGANConfig:
        config = super().default_config(dataset, profile)
        if config.cond_shape[0] != config.data_shape[0]:
            config.lambda_identity = 0.0  # G(b) ≈ b cannot hold across channel counts (see the docstring)
        return config

    def profile_values(self, kind: str, profile: str) -> dict:
        if profile == "quick":
            steps = 1200
            return dict(ngf=16, ndf=16, n_downsampling=1, n_blocks=3, d_layers=1, batch_size=8, steps=steps,
                        lr_constant_steps=steps // 2, lr_decay_steps=steps // 2, checkpoint_every=200, log_every=20)
        steps = 100_000
        return dict(ngf=64, ndf=64, n_downsampling=1, n_blocks=6, d_layers=1, batch_size=1, steps=steps,
                    lr_constant_steps=steps // 2, lr_decay_steps=steps // 2, checkpoint_every=5000, log_every=100)

    def build(self, config: CycleGANConfig) -> nn.ModuleDict:
        a, b = tuple(config.cond_shape), tuple(config.data_shape)
        if config.lambda_identity > 0 and a[0] != b[0]:
            raise GenbenchError(f"cyclegan's identity loss needs the same channel count in both domains "
                                f"(A has {a[0]}, B has {b[0]}); set lambda_identity=0")
        g_args = (config.ngf, config.n_downsampling, config.n_blocks, config.norm)
        nets = nn.ModuleDict({
            "G": ResnetGenerator(a[0], b[0], *g_args),  # A → B
            "F": ResnetGenerator(b[0], a[0], *g_args),  # B → A
            "D_B": PatchDiscriminator(b[0], config.ndf, config.d_layers, config.norm),
            "D_A": PatchDiscriminator(a[0], config.ndf, config.d_layers, config.norm),
        })
        for net in nets.values():
            N.dcgan_init(net)  # N(0, 0.02), as the reference code's 'normal' init
        nets["pool_B"] = HistoryBuffer(config.pool_size, b)  # generated B images for D_B
        nets["pool_A"] = HistoryBuffer(config.pool_size, a)
        nets["schedule"] = StepCounter()
        return nets

    def make_optimizers(self, nets, config: CycleGANConfig):
        betas = (config.beta1, config.beta2)
        return {"G": torch.optim.Adam(list(nets["G"].parameters()) + list(nets["F"].parameters()),
                                      lr=config.lr, betas=betas),
                "D": torch.optim.Adam(list(nets["D_B"].parameters()) + list(nets["D_A"].parameters()),
                                      lr=config.lr, betas=betas)}

    def train_step(self, nets, opts, batch: Batch, gen, config: CycleGANConfig) -> dict[str, torch.Tensor]:
        lr = learning_rate(int(nets["schedule"].step), config)
        for opt in opts.values():
            for group in opt.param_groups:
                group["lr"] = lr
        real_a, real_b = batch.cond, batch.x
        G, F_, D_A, D_B = nets["G"], nets["F"], nets["D_A"], nets["D_B"]

        # Generators: adversarial + cycle + identity, both directions, one update.
        for d in (D_A, D_B):
            d.requires_grad_(False)
        fake_b, fake_a = G(real_a), F_(real_b)
        gan = lsgan_loss(D_B(fake_b), True) + lsgan_loss(D_A(fake_a), True)
        cycle = F.l1_loss(F_(fake_b), real_a) + F.l1_loss(G(fake_a), real_b)
        loss_g = config.lambda_gan * gan + config.lambda_cycle * cycle
        identity = torch.zeros((), device=real_a.device)
        if config.lambda_identity > 0:
            identity = F.l1_loss(G(real_b), real_b) + F.l1_loss(F_(real_a), real_a)
            loss_g = loss_g + config.lambda_identity * config.lambda_cycle * identity
        opts["G"].zero_grad(set_to_none=True)
        loss_g.backward()
        opts["G"].step()

        # Discriminators on real images and on the history of generated ones, objective halved.
        for d in (D_A, D_B):
            d.requires_grad_(True)
        pooled_b = nets["pool_B"].query(fake_b, gen)
        pooled_a = nets["pool_A"].query(fake_a, gen)
        loss_d_b = 0.5 * (lsgan_loss(D_B(real_b), True) + lsgan_loss(D_B(pooled_b), False))
        loss_d_a = 0.5 * (lsgan_loss(D_A(real_a), True) + lsgan_loss(D_A(pooled_a), False))
        opts["D"].zero_grad(set_to_none=True)
        (loss_d_b + loss_d_a).backward()
        opts["D"].step()
        nets["schedule"].step += 1
        return {"G": loss_g.detach(), "gan": gan.detach(), "cycle": cycle.detach(), "identity": identity.detach(),
                "D_B": loss_d_b.detach(), "D_A": loss_d_a.detach(), "lr": torch.tensor(lr)}

    def generate(self, nets, cond, z, config: CycleGANConfig) -> torch.Tensor:
        if cond is None:
            raise GenbenchError("cyclegan translates input images (domain A); it has nothing to sample from")
        return nets["G"](cond)

    def generate_inverse(self, nets, images, config: CycleGANConfig) -> torch.Tensor:
        return nets["F"](images)


SPEC = CycleGANSpec()
