"""``srgan`` — Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a
Generative Adversarial Network".

Faithful: the SRResNet generator (``baselines.srresnet``), initialised from a trained
``srresnet`` checkpoint (``init_from``: its directory; the paper initialises G with the
MSE-trained SRResNet "to avoid undesired local optima"); the discriminator of Fig. 4 — eight
3×3 convs 64 → 512 channels (×2 every second layer) with alternating stride 1 / 2, BN after all
but the first, LeakyReLU 0.2, then dense 1024, LeakyReLU 0.2, dense 1 and a sigmoid (inside the
logistic loss, on logits); perceptual loss = content + 10⁻³ · adversarial, with the
non-saturating −log D(G(x)) adversarial term; D and G updated once per step on the same
minibatch of 16; Adam β1 = 0.9; 10⁵ updates at lr 10⁻⁴ then 10⁵ at 10⁻⁵ (``lr_decay_after``,
counted in adversarial updates). Content loss ``mse`` (the paper's SRGAN-MSE, pixel MSE in the
[-1, 1] HR range; the offline default) or ``vgg54`` (SRGAN-VGG54: MSE between φ5,4 VGG19 feature
maps, rescaled by 1/12.75 as the paper does to match the MSE's scale; needs the VGG19 weights, see
``genbench.features.vgg``, and is refused up front without them).

Without ``init_from``: the 'full' profile refuses to train (the paper's SRGAN needs a trained
SRResNet: train ``srresnet`` first and pass ``--set init_from=DIR``; in a suite,
``init_from: srresnet`` hands it the suite's srresnet job's checkpoint). The 'quick' profile instead
pre-trains G with MSE inside the same run for ``pretrain_steps`` steps (at ``pretrain_lr`` with
its step decay: SRResNet's quick settings, so the phase reproduces an srresnet quick run) and then trains adversarially (one Adam for G across both phases,
where the paper starts SRGAN with a fresh one); both are recorded in the config, and
``init_from`` together with ``pretrain_steps`` > 0 is refused. The step counters that choose the
phase and the learning rate are the optimizers' own (saved in the checkpoint), so resuming is
bit-exact. Like SRResNet, the paper's fresh random crops are a fixed patch pool here.

Measured (seed 0, under load; Y-PSNR / SSIM): photos-sr4 test, G from a 2,000-step quick srresnet
(26.11 / 0.779) then 500 adversarial steps: 25.44 / 0.738 (bicubic 26.03 / 0.790) — lower PSNR
than SRResNet, as in the paper. mnist-sr2 (1,500 pre-training steps + 500 adversarial): 24.9 /
0.932 (srresnet 25.1 / 0.947, bicubic 18.3 / 0.828).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from baselines import checkpoint
from baselines.losses import discriminator_loss, generator_loss
from baselines.spec import Batch
from baselines.srresnet import SRResNetConfig, SRResNetSpec, set_lr, updates
from genbench.errors import GenbenchError

CONTENT_LOSSES = ("mse", "vgg54")
VGG_RESCALE = 1.0 / 12.75  # Ledig et al.: VGG feature maps rescaled to give losses of the MSE's scale


@dataclass
class SRGANConfig(SRResNetConfig):
    init_from: str = ""  # directory of a trained srresnet checkpoint whose G starts the run
    pretrain_steps: int = 0  # without init_from: MSE steps of G before the adversarial phase
    pretrain_lr: float = 1e-4
    pretrain_lr_decay_after: int = 0  # the pre-training phase's step decay (srresnet's lr_decay_after)
    content_loss: str = "mse"
    adversarial_weight: float = 1e-3
    d_channels: int = 64
    d_dense: int = 1024
    lr_decay_after: int = 100_000  # counted in adversarial (D) updates
    steps: int = 200_000

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.content_loss not in CONTENT_LOSSES:
            raise ValueError(f"content_loss must be one of {CONTENT_LOSSES}, got {self.content_loss!r}")
        if min(self.pretrain_steps, self.pretrain_lr_decay_after, self.adversarial_weight) < 0:
            raise ValueError("pretrain_steps, pretrain_lr_decay_after and adversarial_weight must be >= 0")
        if self.d_channels < 1 or self.d_dense < 1:
            raise ValueError("d_channels and d_dense must be >= 1")


class Discriminator(nn.Module):
    """Ledig et al. Fig. 4: HR image (model space [-1, 1]) → one real/fake logit."""

    def __init__(self, image_shape: tuple[int, int, int], channels: int, dense: int):
        super().__init__()
        c_in, h, w = image_shape
        layers: list[nn.Module] = [nn.Conv2d(c_in, channels, 3, 1, 1), nn.LeakyReLU(0.2)]
        c = channels
        for i in range(1, 8):
            out, stride = channels * 2 ** (i // 2), 2 if i % 2 == 1 else 1
            layers += [nn.Conv2d(c, out, 3, stride, 1), nn.BatchNorm2d(out), nn.LeakyReLU(0.2)]
            c = out
            if stride == 2:
                h, w = (h - 1) // 2 + 1, (w - 1) // 2 + 1
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, dense), nn.LeakyReLU(0.2), nn.Linear(dense, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).view(-1)


_VGG_CACHE: dict[tuple[str, str], nn.Module] = {}


def vgg54(device: torch.device) -> nn.Module:
    """The φ5,4 network (loaded once per process and device)."""
    from genbench.features.vgg import find_weights, load_vgg54

    path = find_weights()
    key = (str(path.resolve()), str(device))
    if key not in _VGG_CACHE:
        _VGG_CACHE[key] = load_vgg54(path).to(device)
    return _VGG_CACHE[key]


class SRGANSpec(SRResNetSpec):
    name = "srgan"
    paper = "Ledig et al. 2017, Photo-Realistic Single Image Super-Resolution Using a GAN (SRGAN)"
    config_class = SRGANConfig
    init_sources = ("srresnet",)

    def check_init_source(self, config: SRGANConfig, source_model: str, source_config: SRResNetConfig) -> None:
        """A suite's init_from: the srresnet's generator must be this one's, and it replaces the
        in-run pre-training (which the quick profile otherwise does)."""
        problem = _generator_mismatch(config, source_config.to_dict())
        if problem:
            raise GenbenchError(f"srgan: the srresnet it starts from has {problem}")
        if config.pretrain_steps:
            raise GenbenchError(f"srgan: starting from a trained srresnet replaces the in-run pre-training; "
                                f"set pretrain_steps: 0 (it is {config.pretrain_steps})")
        if config.init_from:
            raise GenbenchError("srgan: the suite's init_from gives the checkpoint; drop the init_from override")

    def profile_values(self, kind: str, profile: str) -> dict:
        if profile == "quick":
            # pre-training = srresnet's quick run (same seed → the same G), then 500 adversarial steps
            return dict(channels=16, n_blocks=4, pretrain_steps=2000, pretrain_lr=1e-3, pretrain_lr_decay_after=1500,
                        lr=1e-4, d_channels=16, d_dense=128, batch_size=16, steps=2500, lr_decay_after=100_000,
                        checkpoint_every=500, log_every=50)
        return dict(steps=200_000, checkpoint_every=10_000, log_every=100)

    def build(self, config: SRGANConfig) -> nn.ModuleDict:
        return nn.ModuleDict({"G": self.build_generator(config),
                              "D": Discriminator(tuple(config.data_shape), config.d_channels, config.d_dense)})

    def make_optimizers(self, nets, config: SRGANConfig):
        """Also where G is initialised from ``init_from``: this runs once per training run, before any
        step, and never when a trained srgan is loaded (which must not need the srresnet checkpoint)."""
        if config.init_from:
            if config.pretrain_steps:
                raise GenbenchError("srgan: init_from and pretrain_steps > 0 are alternatives; "
                                    "with an srresnet checkpoint set pretrain_steps=0")
            self.initialise_generator(nets["G"], config)
        elif config.pretrain_steps == 0:
            raise GenbenchError("srgan starts from a trained SRResNet (Ledig et al.): train srresnet first and "
                                "set init_from=<its checkpoint directory> (or pretrain_steps=N to pre-train G here)")
        if config.content_loss == "vgg54":
            from genbench.features.vgg import find_weights

            find_weights()  # refuse now, not at the first step
        betas = (config.beta1, config.beta2)
        return {"G": torch.optim.Adam(nets["G"].parameters(), lr=config.lr, betas=betas),
                "D": torch.optim.Adam(nets["D"].parameters(), lr=config.lr, betas=betas)}

    def initialise_generator(self, generator: nn.Module, config: SRGANConfig) -> None:
        """Copy G's weights and BN statistics from the srresnet checkpoint at ``config.init_from``."""
        directory = Path(config.init_from).expanduser()
        record, tensors = checkpoint.read(directory)
        if record.get("model") != "srresnet":
            raise GenbenchError(f"srgan: init_from {directory} holds a {record.get('model')!r} checkpoint, not srresnet")
        problem = _generator_mismatch(config, record["config"])
        if problem:
            raise GenbenchError(f"srgan: init_from {directory} has {problem}")
        weights = {k[len("G."):]: v for k, v in tensors.items() if k.startswith("G.")}
        try:
            generator.load_state_dict(weights, strict=True)
        except RuntimeError as exc:
            raise GenbenchError(f"srgan: the generator in {directory} does not fit ({exc})") from None

    def content_loss(self, fake: torch.Tensor, real: torch.Tensor, config: SRGANConfig) -> torch.Tensor:
        if config.content_loss == "mse":
            return F.mse_loss(fake, real)
        net = vgg54(fake.device)

        def phi(x):  # [-1, 1] → VGG's [0, 1] RGB (grey tiled to three channels), rescaled features
            x = (x + 1.0) / 2.0
            return net(x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x) * VGG_RESCALE

        return F.mse_loss(phi(fake), phi(real).detach())

    def train_step(self, nets, opts, batch: Batch, gen, config: SRGANConfig) -> dict[str, torch.Tensor]:
        done_g = updates(opts["G"])
        if not config.init_from and done_g < config.pretrain_steps:
            set_lr(opts["G"], config.pretrain_lr, done_g, config.pretrain_lr_decay_after)
            mse = self.mse_step(nets, opts, batch, config)["loss_mse"]  # SRResNet's step
            return {"loss_g": mse, "loss_content": mse}
        for opt in (opts["G"], opts["D"]):
            set_lr(opt, config.lr, updates(opts["D"]), config.lr_decay_after)
        fake = self.generate(nets, batch.cond, None, config)
        loss_d = discriminator_loss(nets["D"](batch.x), nets["D"](fake.detach()))
        opts["D"].zero_grad(set_to_none=True)
        loss_d.backward()
        opts["D"].step()
        content = self.content_loss(fake, batch.x, config)
        adversarial = generator_loss(nets["D"](fake), "non-saturating")
        loss_g = content + config.adversarial_weight * adversarial
        opts["G"].zero_grad(set_to_none=True)
        loss_g.backward()
        opts["G"].step()
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(), "loss_content": content.detach(),
                "loss_adv": adversarial.detach()}


def _generator_mismatch(config: SRGANConfig, theirs: dict) -> str | None:
    """How an srresnet config (a dict, as its checkpoint records it) differs from ``config``'s G."""
    for key in ("channels", "n_blocks", "data_shape", "cond_shape"):
        mine = list(getattr(config, key)) if isinstance(getattr(config, key), tuple) else getattr(config, key)
        ours = list(theirs.get(key)) if isinstance(theirs.get(key), tuple) else theirs.get(key)
        if ours != mine:
            return f"{key}={ours!r}, this config {mine!r}"
    return None


SPEC = SRGANSpec()
