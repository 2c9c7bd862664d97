"""The fake backend plus the real ``memorized`` metric, so report tests see real memorisation
results (nearest training samples computed by genbench's code on the fake datasets)."""

import json

import numpy as np

from suite_fakes import FakeBackend
from genbench.metrics.registry import MetricInputs, get_metric


class MemoBackend(FakeBackend):
    """Also: a checkpoint's quality grows with its training steps (quality × steps / (steps + 5)),
    so metric curves over training have a shape."""

    def train(self, model, dataset, *, out_dir, config, steps, seed, device, progress):
        ckpt = super().train(model, dataset, out_dir=out_dir, config=config, steps=steps, seed=seed, device=device,
                             progress=progress)
        info = json.loads((ckpt / "config.json").read_text())
        info["config"]["quality"] *= (steps or 10) / ((steps or 10) + 5)
        (ckpt / "config.json").write_text(json.dumps(info))
        return ckpt

    def evaluate(self, samples, dataset, evaluation, **kw):
        out = super().evaluate(samples, dataset, evaluation, **kw)
        if "memorized" in evaluation.metrics:
            spec = get_metric("memorized")
            x = MetricInputs(kind=dataset.kind, dataset=dataset, split=evaluation.split, n_real=evaluation.n,
                             samples=np.asarray(samples, dtype=np.float64 if dataset.kind == "points" else np.uint8))
            out["metrics"] += [r.to_dict() for r in spec.compute(x, **dict(spec.params))]
        return out
