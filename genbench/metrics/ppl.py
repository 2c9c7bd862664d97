"""Perceptual path length (Karras et al. 2019, §4.1): how much the image changes per step in latent space.

    l = E[ d(G(interp(a, b; t)), G(interp(a, b; t + ε))) / ε² ],   t ~ U(0, 1) ('full') or t = 0 ('end')

with interp = slerp between unit-normalised z's in Z (the paper's normalised latent space) and
lerp between mapped w = f(z) in W. As in the official ``metrics/perceptual_path_length.py``: ε =
1e-4; distances below the 1st and above the 99th percentile are discarded before averaging; both
images of a pair share their noise inputs; 'end' sampling takes t = 0 (the paper writes
t ∈ {0, 1}, the same distribution by symmetry). n defaults to 10,000 pairs (the official metric
configs, as we read them, use 100,000). The paper crops faces and measures at 256²; digits are
measured at their own 28×28.

The distance d is LPIPS (VGG, v0.1) when its weights are present (``genbench.metrics.lpips``);
otherwise — or when asked — a feature distance: the squared L2 distance between the
mnist-classifier's penultimate features of the two images (digits), or between the pixels. Which
one was used is recorded in the result's params; they are different numbers and never comparable.
Images stay floating point throughout: ε-steps are far below one grey level, so quantising to
uint8 (what sample() returns) would erase them.

Registered as the suite metric ``ppl`` (:mod:`genbench.metrics.builtin`), scored by the suite
runner from the checkpoint: it needs the generator, not a set of samples.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from genbench.errors import GenbenchError
from genbench.metrics.result import MetricResult

SPACES = ("z", "w")
SAMPLINGS = ("full", "end")
DISTANCES = ("auto", "lpips", "mnist-classifier", "pixel-l2")


@dataclass
class LatentPaths:
    """What the path length needs from a generator, in model space (images in [−1, 1] or [0, 1]).

    ``draw(n, gen)`` → (z to interpolate, the rest of the latent code that both images of a pair
    share, e.g. StyleGAN's noise maps, or None); ``from_z(z, rest)`` → images; and, for W,
    ``to_w(z)`` and ``from_w(w, rest)``.
    """

    draw: Callable[[int, torch.Generator], tuple[torch.Tensor, torch.Tensor | None]]
    from_z: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]
    image_range: str = "tanh"
    to_w: Callable[[torch.Tensor], torch.Tensor] | None = None
    from_w: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor] | None = None
    name: str = "generator"


def latent_paths(model, dtype: torch.dtype = torch.float32) -> LatentPaths:
    """The ``LatentPaths`` of a trained baseline (``baselines.trained.TrainedModel``).

    A style-based model (its spec has ``split_latent``, ``mapping`` and ``synthesis``) gets Z and
    W; any other unconditional model with latent codes gets Z (its whole code is interpolated).
    """
    if isinstance(model, LatentPaths):
        return model
    spec, config = model.spec, model.config
    if getattr(model, "kind", "image") != "image" or spec.conditioning != "none":
        raise GenbenchError(f"perceptual path length needs an unconditional image generator; "
                            f"{spec.name!r} is {spec.conditioning}-conditioned {model.kind} model")
    nets = copy.deepcopy(model.nets).to(dtype).eval()
    device = model.device

    def draw(n, gen):
        code = spec.latent(n, gen, config)
        if code is None:
            raise GenbenchError(f"model {spec.name!r} has no latent codes to interpolate")
        code = code.to(device=device, dtype=dtype)
        if hasattr(spec, "split_latent"):
            z_dim = spec.split_latent(code[:1], config)[0].shape[1]
            return code[:, :z_dim], code[:, z_dim:]
        return code, None

    def from_z(z, rest):
        code = z if rest is None else torch.cat([z, rest], dim=1)
        return spec.generate(nets, None, code, config)

    if not all(hasattr(spec, a) for a in ("split_latent", "mapping", "synthesis")):
        return LatentPaths(draw, from_z, spec.image_range, name=spec.name)

    def to_w(z):
        return spec.mapping(nets, z, config)

    def from_w(w, rest):
        z0 = torch.zeros(rest.shape[0], 1, dtype=rest.dtype, device=rest.device)
        _, noise = spec.split_latent(torch.cat([z0.expand(-1, config.z_dim), rest], dim=1), config)
        return spec.synthesis(nets, w, noise, config)

    return LatentPaths(draw, from_z, spec.image_range, to_w, from_w, name=spec.name)


def paths_problem(model, space: str = "z") -> str | None:
    """Why ``model`` (a trained baseline) has no latent paths in ``space`` to measure, or None."""
    spec = model.spec
    if getattr(model, "kind", "image") != "image" or spec.conditioning != "none":
        return (f"path length needs an unconditional image generator; {spec.name!r} is "
                f"{spec.conditioning}-conditioned ({getattr(model, 'kind', 'image')} data)")
    if spec.latent(1, torch.Generator().manual_seed(0), model.config) is None:
        return f"model {spec.name!r} has no latent codes to interpolate"
    if space == "w" and not all(hasattr(spec, a) for a in ("split_latent", "mapping", "synthesis")):
        return f"model {spec.name!r} has no intermediate latent space W (only style-based generators do)"
    return None


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between the directions of a and b; unit-norm result (official code)."""
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    d = (a * b).sum(dim=-1, keepdim=True)
    p = t * torch.acos(d.clamp(-1.0, 1.0))
    c = b - d * a
    c = c / c.norm(dim=-1, keepdim=True)
    out = a * torch.cos(p) + c * torch.sin(p)
    return out / out.norm(dim=-1, keepdim=True)


def _to_signed(images: torch.Tensor, image_range: str) -> torch.Tensor:
    """Model-space images → [−1, 1] (LPIPS's and the pixel distance's convention)."""
    return images * 2.0 - 1.0 if image_range == "unit" else images


def resolved_distance(name: str) -> dict:
    """Which distance ``name`` ("auto" included) means on this machine, and the weights' files:
    what, besides the parameters, fixes a path length (a cache key, not a measurement)."""
    if name in ("auto", "lpips"):
        from genbench.metrics import lpips

        try:
            lin, vgg = lpips.find_weights()
            return {"distance": "lpips", "weights": [str(p) for p in (lin, vgg)],
                    "sizes": [Path(p).stat().st_size for p in (lin, vgg)]}
        except GenbenchError:
            if name == "lpips":
                raise
            name = "mnist-classifier"
    if name == "mnist-classifier":
        from genbench.features import get_extractor

        return {"distance": name, "extractor": get_extractor(name).identity.to_dict()}
    return {"distance": name}


def _distance(name: str, dtype: torch.dtype) -> tuple[Callable[[torch.Tensor, torch.Tensor], torch.Tensor], dict]:
    """d(x0, x1) per pair on images in [−1, 1], and the record of what it is."""
    if name == "auto":
        from genbench.metrics import lpips

        try:
            lpips.find_weights()
            name = "lpips"
        except GenbenchError:
            name = "mnist-classifier"
    if name == "lpips":
        from genbench.metrics.lpips import load_lpips

        net = load_lpips().to(dtype)
        return net, {"distance": "lpips", **net.identity}
    if name == "pixel-l2":
        return (lambda x0, x1: (x0 - x1).pow(2).flatten(1).sum(dim=1)), {"distance": "pixel-l2 (squared, images in [-1, 1])"}
    if name == "mnist-classifier":
        from genbench.features import mnist_classifier as mc

        extractor = mc.MnistClassifierExtractor()
        model = mc.load_model(extractor.weights_path).to(dtype).eval()

        def features(x: torch.Tensor) -> torch.Tensor:
            if x.shape[2:] != (mc.IMAGE_SIZE, mc.IMAGE_SIZE) or x.shape[1] not in (1, 3):
                raise GenbenchError(f"the mnist-classifier distance needs 1- or 3-channel 28×28 images, got {tuple(x.shape[1:])}")
            unit = ((x + 1.0) / 2.0).clamp(0.0, 1.0)  # the pixels sample() would quantise
            flat = unit.reshape(-1, 1, mc.IMAGE_SIZE, mc.IMAGE_SIZE)
            return model((flat - mc.PIXEL_MEAN) / mc.PIXEL_STD)[0].reshape(x.shape[0], -1)

        def d(x0, x1):
            return (features(x0) - features(x1)).pow(2).sum(dim=1)

        return d, {"distance": "mnist-classifier features (squared L2, penultimate layer)",
                   "extractor": extractor.identity.to_dict()}
    raise GenbenchError(f"unknown path-length distance {name!r}; choose one of {', '.join(DISTANCES)}")


@torch.no_grad()
def perceptual_path_length(model, n: int = 10_000, *, epsilon: float = 1e-4, space: str = "z", sampling: str = "full",
                           distance: str = "auto", seed: int = 0, batch_size: int = 250,
                           dtype: torch.dtype = torch.float32) -> MetricResult:
    """The path length of ``model`` (a trained baseline or a ``LatentPaths``), as ``ppl_<space>_<sampling>``."""
    if space not in SPACES:
        raise GenbenchError(f"path-length space must be one of {', '.join(SPACES)}, got {space!r}")
    if sampling not in SAMPLINGS:
        raise GenbenchError(f"path-length sampling must be one of {', '.join(SAMPLINGS)}, got {sampling!r}")
    if not (isinstance(n, int) and n >= 2) or batch_size < 1:
        raise GenbenchError(f"perceptual path length needs n >= 2 pairs and batch_size >= 1, got n={n!r}")
    if not (isinstance(epsilon, (int, float)) and 0 < epsilon < 1):
        raise GenbenchError(f"epsilon must be in (0, 1), got {epsilon!r}")
    paths = latent_paths(model, dtype)
    if space == "w" and paths.to_w is None:
        raise GenbenchError(f"model {paths.name!r} has no intermediate latent space W (only style-based generators do)")
    d, record = _distance(distance, dtype)
    gen = torch.Generator().manual_seed(int(seed))
    values = []
    for start in range(0, n, batch_size):
        b = min(batch_size, n - start)
        z0, rest = paths.draw(b, gen)
        z1, _ = paths.draw(b, gen)
        t = torch.rand(b, 1, generator=gen, dtype=torch.float64) if sampling == "full" else torch.zeros(b, 1, dtype=torch.float64)
        t = t.to(device=z0.device, dtype=z0.dtype)
        both = None if rest is None else torch.cat([rest, rest])
        if space == "z":
            pts = torch.cat([slerp(z0, z1, t), slerp(z0, z1, t + epsilon)])
            images = paths.from_z(pts, both)
        else:
            w0, w1 = paths.to_w(z0), paths.to_w(z1)
            pts = torch.cat([torch.lerp(w0, w1, t), torch.lerp(w0, w1, t + epsilon)])
            images = paths.from_w(pts, both)
        images = _to_signed(images, paths.image_range)
        values.append((d(images[:b], images[b:]) / epsilon ** 2).double().cpu().numpy())
    all_d = np.concatenate(values)
    lo = np.percentile(all_d, 1, method="lower")
    hi = np.percentile(all_d, 99, method="higher")
    kept = all_d[(all_d >= lo) & (all_d <= hi)]
    return MetricResult(
        name=f"ppl_{space}_{sampling}", value=float(kept.mean()),
        std=float(kept.std(ddof=1) / math.sqrt(len(kept))) if len(kept) > 1 else None,
        params={"n": n, "epsilon": epsilon, "space": space, "sampling": sampling, "seed": int(seed),
                "interpolation": "slerp (unit-norm z)" if space == "z" else "lerp", "percentiles_kept": [1, 99],
                "n_kept": int(len(kept)), "dtype": str(dtype).replace("torch.", ""), **record},
    )
