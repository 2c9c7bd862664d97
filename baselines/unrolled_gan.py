"""``unrolled-gan`` — Metz, Poole, Pfau & Sohl-Dickstein 2017, "Unrolled Generative Adversarial Networks".

Faithful: the generator minimises the surrogate f_K(θ_G, θ_D) = f(θ_G, θ_D^K), where θ_D^K is
reached from θ_D by K = 5 (default) differentiable steps of the discriminator's own optimiser
(Adam, with its current moment estimates) on the current minibatch; the generator's gradient
flows back through all K updates (second-order terms included, via ``torch.func.functional_call``
on fast weights). The discriminator itself takes one ordinary step per iteration (θ_D ← θ_D^1);
the unrolled copies are discarded. The surrogate is the paper's value function f, i.e. the
*saturating* generator loss log(1 − D(G(z))) (the default; ``generator_loss`` can switch it).
2-D setup from the paper's appendix A: G = 2 hidden layers of 128 ReLU units, D = 1 hidden layer
of 128 ReLU units, orthogonal initialisation with gain 0.8, z ~ N(0, I₂₅₆), Adam lr 1e-4,
β1 = 0.5, batch 512. (The paper scales D's input by 1/4; ``baselines.codec`` standardises points.)

Chosen: the unrolled steps start from D after its own update of the iteration and reuse that
iteration's real and generated minibatch; BatchNorm statistics touched while unrolling are thrown
away; Adam's denominator uses sqrt(v̂ + 1e-16) so that its derivative stays finite where v̂ = 0.
Images use ``gan``'s DCGAN conv nets. 'quick' (points) halves the batch to 256, trains
2,000 steps and raises both learning rates to 1e-3: at the paper's 1e-4, 2,000 steps are too few
for the saturating surrogate to leave its start (2 of 8 ring modes, seed 0). 'quick' (images)
unrolls K = 2 steps instead of 5, because each unrolled step costs about one more GAN step of
CPU time (the 'full' profile and the dataclass default keep K = 5). Both image profiles use the
non-saturating generator loss: with the DCGAN conv nets D wins early and the saturating
surrogate then gives G no gradient (quick run on mnist-5k: D loss 3e-4, FID 1691, IS 1.0, i.e.
nothing learnt) — the failure Goodfellow et al. describe, not a property of unrolling.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.func import functional_call

from baselines import nets as N
from baselines.gan import GANConfig, GANSpec
from baselines.losses import discriminator_loss, generator_loss


@dataclass
class UnrolledGANConfig(GANConfig):
    unroll_steps: int = 5
    generator_loss: str = "saturating"
    g_hidden: tuple[int, ...] = (128, 128)
    g_batchnorm: bool = False
    d_hidden: tuple[int, ...] = (128,)
    d_activation: str = "relu"
    init_gain: float = 0.8  # orthogonal init for the MLP form

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.unroll_steps < 0:
            raise ValueError(f"unroll_steps must be >= 0, got {self.unroll_steps}")


def adam_unrolled_step(params: dict, grads: dict, state: dict, group: dict, k: int) -> dict:
    """One differentiable Adam step (torch.optim.Adam's update without weight decay/amsgrad).

    ``state[name]`` holds the optimizer's current (step, exp_avg, exp_avg_sq); the moments of the
    unrolled trajectory live in ``state`` copies, updated in place of the dict entries.
    """
    beta1, beta2 = group["betas"]
    lr, eps = group["lr"], group["eps"]
    new = {}
    for name, p in params.items():
        g = grads[name]
        st = state[name]
        t = st["step"] + 1
        m = beta1 * st["m"] + (1 - beta1) * g
        v = beta2 * st["v"] + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        new[name] = p - lr * m_hat / (torch.sqrt(v_hat + 1e-16) + eps)
        state[name] = {"step": t, "m": m, "v": v}
    return new


class UnrolledGANSpec(GANSpec):
    name = "unrolled-gan"
    paper = "Metz et al. 2017, Unrolled Generative Adversarial Networks"
    config_class = UnrolledGANConfig

    def profile_values(self, kind: str, profile: str) -> dict:
        if kind == "points":
            values = dict(z_dim=256, batch_size=512, lr_g=1e-4, lr_d=1e-4, beta1=0.5, steps=25000)
            if profile == "quick":
                values.update(lr_g=1e-3, lr_d=1e-3, batch_size=256, steps=2000)
            return values
        values = super().profile_values(kind, profile)
        # With conv nets D soon wins and the saturating surrogate's gradient vanishes (see docstring).
        values["generator_loss"] = "non-saturating"
        if profile == "quick":
            values["unroll_steps"] = 2  # K = 5 costs ~6 GAN steps per step: too slow for a CPU quick run
        return values

    def build_generator(self, config, extra_in: int = 0):
        g = super().build_generator(config, extra_in)
        if config.data_kind == "points" and config.init_std == 0:  # init_std > 0: GANSpec's N(0, std²)
            N.orthogonal_init(g, config.init_gain)
        return g

    def build_discriminator(self, config):
        d = super().build_discriminator(config)
        if config.data_kind == "points" and config.init_std == 0:  # init_std > 0: GANSpec's N(0, std²)
            N.orthogonal_init(d, config.init_gain)
        return d

    def generator_step(self, nets, opts, batch, gen, config):
        n = self.samples_per_batch(config)
        fake = self.packed(self.generate(nets, None, self.latent(n, gen, config), config), config)
        real = self.packed(batch.x[:n], config)
        d = nets["D"]
        params = dict(d.named_parameters())
        buffers = {k: b.clone() for k, b in d.named_buffers()}
        opt = opts["D"]
        group = opt.param_groups[0]
        state = {}
        for name, p in params.items():
            st = opt.state.get(p, {})
            state[name] = {
                "step": float(st["step"]) if "step" in st else 0.0,
                "m": st["exp_avg"].detach() if "exp_avg" in st else torch.zeros_like(p),
                "v": st["exp_avg_sq"].detach() if "exp_avg_sq" in st else torch.zeros_like(p),
            }
        fast = params
        for k in range(config.unroll_steps):
            d_loss = discriminator_loss(functional_call(d, {**fast, **buffers}, (real,)).view(-1),
                                        functional_call(d, {**fast, **buffers}, (fake,)).view(-1))
            grads = torch.autograd.grad(d_loss, list(fast.values()), create_graph=True)
            fast = adam_unrolled_step(fast, dict(zip(fast, grads)), state, group, k)
        logits = functional_call(d, {**fast, **buffers}, (fake,)).view(-1)  # fake is packed already
        loss = generator_loss(logits, config.generator_loss)
        opts["G"].zero_grad(set_to_none=True)
        g_params = list(nets["G"].parameters())
        g_grads = torch.autograd.grad(loss, g_params)
        for p, g in zip(g_params, g_grads):
            p.grad = g
        opts["G"].step()
        return loss


SPEC = UnrolledGANSpec()
