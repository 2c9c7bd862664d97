"""``vae`` — Kingma & Welling 2014, "Auto-Encoding Variational Bayes".

Faithful: Gaussian encoder q(z|x) = N(μ(x), diag σ²(x)) that outputs (μ, log σ²); the
reparameterisation z = μ + σ·ε; the closed-form KL(q(z|x) ‖ N(0, I)) (the paper's appendix B);
a Bernoulli decoder (images, grey levels in [0, 1] as Bernoulli means, as the paper did for MNIST)
or a Gaussian decoder with per-dimension mean and log-variance (the paper's Frey-faces decoder;
the default for 2-D points); one sample of ε per data point per step (L = 1, M = 100).
``elbo`` reports the test ELBO and ``iwae_log_likelihood`` the importance-weighted estimate of
log p(x) of Burda et al. 2016 (k = 5000 there; the default here).

Chosen: Adam lr 1e-3 instead of Adagrad (every modern reproduction); z in R^20 for images and R^2
for points; conv encoder/decoder from ``baselines.nets`` for images, 2 × 128 ReLU MLPs for points.
Numbers are in nats per example. A Bernoulli "likelihood" of grey-level MNIST is not a discrete
likelihood of the uint8 pixels, so compare these values only with papers that used the same
convention (not with binarised-MNIST results such as Burda's −85 nats). For points the Gaussian
decoder's density is reported in data units (the standardisation's Jacobian is included).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from genbench.errors import GenbenchError

from baselines.ae import AEConfig, AESpec
from baselines.losses import bernoulli_log_likelihood, gaussian_kl, gaussian_log_likelihood
from baselines.spec import Batch

DECODERS = ("bernoulli", "gaussian")


@dataclass
class VAEConfig(AEConfig):
    decoder: str = "bernoulli"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, got {self.decoder!r}")
        if self.decoder == "bernoulli" and self.data_kind == "points":
            raise ValueError("a Bernoulli decoder needs data in [0, 1]; use decoder=gaussian for points")


class VAESpec(AESpec):
    name = "vae"
    paper = "Kingma & Welling 2014, Auto-Encoding Variational Bayes"
    config_class = VAEConfig

    def profile_values(self, kind: str, profile: str) -> dict:
        values = super().profile_values(kind, profile)
        if kind == "points":
            values["decoder"] = "gaussian"
        return values

    def encoder_outputs(self, config) -> int:
        return 2 * config.z_dim

    def decoder_channels(self, config) -> int:
        c = config.data_shape[0]
        return 2 * c if config.decoder == "gaussian" else c

    def posterior(self, nets, x, config) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = nets["E"](x).chunk(2, dim=1)
        return mu, logvar

    def encode(self, nets, x, config) -> torch.Tensor:
        return self.posterior(nets, x, config)[0]

    def split_output(self, out, config) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Decoder output → (mean or logits, log-variance or None)."""
        if config.decoder == "bernoulli":
            return out, None
        mean, logvar = out.chunk(2, dim=1)
        if config.data_kind == "image":
            mean = torch.sigmoid(mean)
        return mean, logvar

    def output_mean(self, out, config) -> torch.Tensor:
        first, _ = self.split_output(out, config)
        return torch.sigmoid(first) if config.decoder == "bernoulli" else first

    def log_likelihood(self, out, x, config) -> torch.Tensor:
        first, logvar = self.split_output(out, config)
        if config.decoder == "bernoulli":
            return bernoulli_log_likelihood(first, x)
        return gaussian_log_likelihood(first, logvar, x)

    def train_step(self, nets, opts, batch: Batch, gen, config) -> dict[str, torch.Tensor]:
        mu, logvar = self.posterior(nets, batch.x, config)
        eps = torch.randn(mu.shape, generator=gen, device=gen.device, dtype=mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps
        rec = self.log_likelihood(nets["Dec"](z), batch.x, config)
        kl = gaussian_kl(mu, logvar)
        loss = (kl - rec).mean()
        opts["AE"].zero_grad(set_to_none=True)
        loss.backward()
        opts["AE"].step()
        return {"loss": loss.detach(), "rec": (-rec.mean()).detach(), "kl": kl.mean().detach()}


SPEC = VAESpec()


def _check(model) -> None:
    if not isinstance(model.spec, VAESpec):
        raise GenbenchError(f"ELBO / IWAE need a vae checkpoint, got model {model.name!r}")


def _log_jacobian(model) -> float:
    """log |d(standardised)/d(data)| per example: converts the density to data units (points)."""
    if model.kind != "points":
        return 0.0
    return -float(np.sum(np.log(np.asarray(model.codec.std, dtype=np.float64))))


@torch.no_grad()
def elbo(model, samples: np.ndarray, *, seed: int = 0, batch_size: int = 500) -> np.ndarray:
    """Per-example evidence lower bound (nats), one posterior sample each; float64 array."""
    _check(model)
    cfg, nets, spec = model.config, model.nets, model.spec
    gen = torch.Generator(device=model.device).manual_seed(seed)
    out = []
    for i in range(0, len(samples), batch_size):
        x = model.encode_images(samples[i:i + batch_size])
        mu, logvar = spec.posterior(nets, x, cfg)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen, device=mu.device)
        value = spec.log_likelihood(nets["Dec"](z), x, cfg) - gaussian_kl(mu, logvar)
        out.append(value.double().cpu().numpy())
    return np.concatenate(out) + _log_jacobian(model) if out else np.zeros(0)


@torch.no_grad()
def iwae_log_likelihood(model, samples: np.ndarray, *, k: int = 5000, seed: int = 0,
                        chunk: int = 500) -> np.ndarray:
    """Importance-weighted estimate of log p(x) per example (Burda et al. 2016, eq. 8).

    log p(x) ≈ log (1/k) Σ_i p(x, z_i) / q(z_i | x), z_i ~ q(z | x); a lower bound that tightens
    as k grows. ``chunk`` posterior samples are decoded at a time. float64 array, nats.
    """
    _check(model)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    cfg, nets, spec = model.config, model.nets, model.spec
    gen = torch.Generator(device=model.device).manual_seed(seed)
    results = []
    for j in range(len(samples)):
        x = model.encode_images(samples[j:j + 1])
        mu, logvar = spec.posterior(nets, x, cfg)
        std = torch.exp(0.5 * logvar)
        log_w = []
        for start in range(0, k, chunk):
            m = min(chunk, k - start)
            eps = torch.randn((m, mu.shape[1]), generator=gen, device=mu.device)
            z = mu + std * eps
            log_q = (-0.5 * (math.log(2 * math.pi) + logvar + eps.pow(2))).sum(1)
            log_prior = (-0.5 * (math.log(2 * math.pi) + z.pow(2))).sum(1)
            log_px = spec.log_likelihood(nets["Dec"](z), x.expand(m, *x.shape[1:]), cfg)
            log_w.append((log_px + log_prior - log_q).double())
        lw = torch.cat(log_w)
        results.append(float(torch.logsumexp(lw, 0) - math.log(k)))
    return np.asarray(results, dtype=np.float64) + _log_jacobian(model)
