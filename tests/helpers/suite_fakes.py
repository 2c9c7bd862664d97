"""A fake model zoo and evaluator for the runner/report/gate tests: milliseconds, no torch.

Models write a small checkpoint whose 'quality' decides how close their samples are to the
data; the fake evaluator's 'fid' is the distance between sample and reference means, which
makes leaderboard orderings predictable.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genbench.data.dataset import Dataset, ModeSpec, Split, compute_fingerprint
from genbench.metrics.result import MetricResult


@dataclass(frozen=True)
class FakeConfig:
    quality: float = 0.5
    width: int = 8
    explode: bool = False
    sleep_s: float = 0.0


def make_points_dataset(name="toy", seed=0) -> Dataset:
    rng = np.random.default_rng(seed)
    means = np.array([[np.cos(a), np.sin(a)] for a in np.linspace(0, 2 * np.pi, 4, endpoint=False)])
    def draw(n):
        idx = rng.integers(0, 4, n)
        return (means[idx] + 0.05 * rng.standard_normal((n, 2))).astype(np.float32)
    splits = {"train": Split(draw(300)), "val": Split(draw(100)), "test": Split(draw(100))}
    return Dataset(name=name, kind="points", splits=splits, fingerprint=compute_fingerprint(name, splits),
                   modes=ModeSpec(means=means, std=0.05))


def make_image_dataset(name="digits", seed=0, warnings=()) -> Dataset:
    rng = np.random.default_rng(seed)
    def draw(n):
        return rng.integers(100, 156, (n, 1, 8, 8)).astype(np.uint8)
    splits = {"train": Split(draw(120), np.arange(120) % 10), "val": Split(draw(40), np.arange(40) % 10),
              "test": Split(draw(60), np.arange(60) % 10)}
    return Dataset(name=name, kind="image", splits=splits, fingerprint=compute_fingerprint(name, splits),
                   n_classes=10, warnings=tuple(warnings))


class FakeBackend:
    """Counts every train/sample/evaluate call in ``calls`` (and in ``counter_dir`` when given,
    so a test can count calls made by another process)."""

    MODELS = {"fake-gan": (("points", "image"), False), "fake-ae": (("image",), True)}

    def __init__(self, counter_dir: str | Path | None = None, dataset_warnings=()):
        self.calls: list[tuple] = []
        self.counter_dir = Path(counter_dir) if counter_dir else None
        self.dataset_warnings = dataset_warnings

    def _count(self, *call):
        self.calls.append(call)
        if self.counter_dir:
            self.counter_dir.mkdir(parents=True, exist_ok=True)
            with open(self.counter_dir / "calls.txt", "a") as f:
                f.write(" ".join(map(str, call)) + "\n")

    def load_dataset(self, name, *, data_root):
        if name == "toy":
            return make_points_dataset()
        if name == "digits":
            return make_image_dataset(warnings=self.dataset_warnings)
        raise KeyError(name)

    def model_kinds(self, model):
        return self.MODELS[model][0]

    def can_translate(self, model):
        return self.MODELS[model][1]

    def default_config(self, model, dataset, profile):
        return FakeConfig(quality=0.5 if profile == "quick" else 0.9)

    def train(self, model, dataset, *, out_dir, config, steps, seed, device, progress):
        cfg = dict(config.__dict__)  # the runner passes the config with the suite's overrides applied
        self._count("train", dataset.name, model, seed, cfg["quality"])
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        if cfg["sleep_s"]:
            time.sleep(cfg["sleep_s"])
        if cfg["explode"]:
            raise RuntimeError("loss is NaN at step 3 (fake)")
        with open(out_dir / "train_log.jsonl", "w") as f:
            for step in range(0, (steps or 10) + 1, max(1, (steps or 10) // 10)):
                f.write(json.dumps({"step": step, "loss_d": 1.0 / (1 + step), "loss_g": 2.0 - step / 100,
                                    "wall_time": step * 0.01}) + "\n")
        (out_dir / "config.json").write_text(json.dumps({"model": model, "config": cfg, "seed": seed,
                                                              "kind": dataset.kind}))
        return out_dir

    def _cfg(self, checkpoint):
        return json.loads((Path(checkpoint) / "config.json").read_text())

    def sample(self, checkpoint, n, seed, device):
        info = self._cfg(checkpoint)
        self._count("sample", info["model"], seed)
        rng = np.random.default_rng(seed)
        q = info["config"]["quality"]
        if info["kind"] == "points":
            means = make_points_dataset().modes.means
            pts = means[rng.integers(0, 4, n)] + (0.05 + (1 - q)) * rng.standard_normal((n, 2))
            return pts.astype(np.float32)
        return np.clip(128 + (1 - q) * 100 * rng.standard_normal((n, 1, 8, 8)), 0, 255).astype(np.uint8)

    def translate(self, checkpoint, images, device):
        q = self._cfg(checkpoint)["config"]["quality"]
        return np.clip(images.astype(float) + (1 - q) * 20, 0, 255).astype(np.uint8)

    extractor_weights = "0" * 64

    def extractor_identity(self, dataset, evaluation):
        return {"name": "fake-extractor", "weights_sha256": self.extractor_weights}

    def evaluate(self, samples, dataset, evaluation, *, seed, device, cache_dir, data_root, progress):
        self._count("evaluate", dataset.name, len(samples), seed)
        ref = dataset.split(evaluation.split).samples.astype(np.float64)
        x = np.asarray(samples, dtype=np.float64)
        fid = float(np.mean((x.reshape(len(x), -1).std(0) - ref.reshape(len(ref), -1).std(0)) ** 2))
        metrics = [MetricResult("fid", fid, std=0.01 * fid + 1e-3, params={"fake": True}).to_dict(),
                   MetricResult("is", 10.0 / (1.0 + fid), std=0.05).to_dict()]
        return {"metrics": metrics,
                "protocol": {"n_generated": len(samples), "n_reference": len(ref), "split": evaluation.split,
                             "extractor": self.extractor_identity(dataset, evaluation)},
                "provenance": {"evaluator": "fake"}, "warnings": [], "wall_time_s": 0.0}

    def evaluate_reconstructions(self, originals, reconstructions):
        err = float(np.abs(originals.astype(float) - reconstructions.astype(float)).mean())
        return [MetricResult("psnr", 40.0 - err, std=0.5), MetricResult("ssim", 1.0 - err / 100, std=0.01)]


FAKE_REGISTRIES_KW = dict(models=tuple(FakeBackend.MODELS), datasets=("toy", "digits"),
                          extractors=("fake-extractor",))


SUITE_YAML = """\
name: fake
description: A fake suite for tests.
dataset: digits
seeds: [0, 1]
steps: 20
models:
  - model: fake-gan
    label: good-gan
    overrides: {quality: 0.95}
  - model: fake-gan
    label: bad-gan
    overrides: {quality: 0.1}
  - model: fake-ae
evaluation:
  n: 50
  split: test
  real_split: train
  extractor: fake-extractor
  metrics: [fid, is, psnr, ssim]
  n_reconstruct: 20
profiles:
  quick:
    seeds: [0, 1]
  full:
    datasets: [digits, toy]
    seeds: [0, 1, 2]
    steps: 1000
    evaluation: {n: 100, bootstrap: 10}
    models:
      bad-gan: {steps: 5}
"""
