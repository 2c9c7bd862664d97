"""The fake backend plus the real ``memorized`` metric, so report tests see real memorisation
results (nearest training samples computed by genbench's code on the fake datasets)."""

import numpy as np

from suite_fakes import FakeBackend
from genbench.metrics.registry import MetricInputs, get_metric


class MemoBackend(FakeBackend):
    def evaluate(self, samples, dataset, evaluation, **kw):
        out = super().evaluate(samples, dataset, evaluation, **kw)
        if "memorized" in evaluation.metrics:
            spec = get_metric("memorized")
            x = MetricInputs(kind=dataset.kind, dataset=dataset, split=evaluation.split, n_real=evaluation.n,
                             samples=np.asarray(samples, dtype=np.float64 if dataset.kind == "points" else np.uint8))
            out["metrics"] += [r.to_dict() for r in spec.compute(x, **dict(spec.params))]
        return out
