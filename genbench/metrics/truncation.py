"""Truncation sweep (BigGAN, Brock et al. 2019 §3.1; StyleGAN, Karras et al. 2019 §2.1): FID and IS
of a model's samples at each ψ of a grid — the fidelity/variety trade-off the truncation trick
buys. Each ψ samples the same seed (``TrainedModel.sample(n, seed, truncation=ψ)``), so ψ = 1 is
the model's untruncated sample set and its FID is the suite's ``fid`` for the same n and seed.

Two leaderboard numbers summarise the curve: the lowest FID over the grid and the highest IS
(each with the ψ that gave it in params); the whole curve (ψ, FID ± std, IS ± std) is in the
params, which the leaderboard draws.
"""

from __future__ import annotations

from typing import Sequence

from genbench.errors import GenbenchError
from genbench.metrics.result import MetricResult

DEFAULT_GRID = (1.0, 0.8, 0.6, 0.4, 0.2)


def grid_problem(psis) -> str | None:
    """Why ``psis`` is not a valid ψ grid (a non-empty list of distinct numbers in (0, 1]), or None."""
    if not isinstance(psis, (list, tuple)) or not psis:
        return f"the truncation grid must be a non-empty list of ψ in (0, 1], got {psis!r}"
    bad = [p for p in psis if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < float(p) <= 1]
    if bad:
        return f"truncation ψ must be in (0, 1], got {bad[0]!r}"
    if len(set(float(p) for p in psis)) != len(psis):
        return f"the truncation grid lists a ψ twice: {list(psis)}"
    return None


def truncation_sweep(model, dataset, *, psis: Sequence[float] = DEFAULT_GRID, n: int, seed: int = 0,
                     split: str = "test", extractor: str | None = None, device=None, cache_dir=None,
                     batch_size: int = 250) -> list[MetricResult]:
    """``truncation_best_fid`` and ``truncation_max_is`` of ``model`` (a trained baseline that
    ``supports_truncation``) over ``psis``, scored against ``dataset``'s ``split``."""
    from genbench.evaluate import evaluate  # the evaluation core imports this package: only here

    why = grid_problem(psis)
    if why:
        raise GenbenchError(why)
    if not getattr(model.spec, "supports_truncation", False):
        raise GenbenchError(f"model {model.name!r} does not support the truncation trick")
    curve = {"psi": [], "fid": [], "fid_std": [], "is": [], "is_std": []}
    ext = None
    for psi in sorted((float(p) for p in psis), reverse=True):
        samples = model.sample(n, seed, truncation=psi)
        r = evaluate(samples, dataset=dataset, split=split, metrics=["fid", "is"], n=n, extractor=extractor,
                     device=device, batch_size=batch_size, seed=seed, cache_dir=cache_dir, progress=False)
        by = {m.name: m for m in r.metrics}
        ext = r.protocol["extractor"]
        curve["psi"].append(psi)
        for name in ("fid", "is"):
            curve[name].append(float(by[name].value))
            curve[f"{name}_std"].append(None if by[name].std is None else float(by[name].std))
    i_fid = min(range(len(curve["psi"])), key=lambda i: curve["fid"][i])
    i_is = max(range(len(curve["psi"])), key=lambda i: curve["is"][i])
    common = {"psi_grid": curve["psi"], "n": int(n), "seed": int(seed), "split": split, "extractor": ext,
              "curve": curve, "sampling": "TrainedModel.sample(n, seed, truncation=ψ): the same seed at every ψ"}
    return [MetricResult("truncation_best_fid", curve["fid"][i_fid], std=curve["fid_std"][i_fid],
                         params={**common, "psi": curve["psi"][i_fid]}),
            MetricResult("truncation_max_is", curve["is"][i_is], std=curve["is_std"][i_is],
                         params={**common, "psi": curve["psi"][i_is]})]
