"""Image-to-image fakes for the runner and report tests: real mnist-5k test digits made into each
task (translation, inpainting, SR ×2, unpaired), and fake image-conditioned models that map
their inputs by fixed rules a test can score by hand; the task evaluation itself is the real one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from suite_fakes import FakeBackend
from genbench.data.dataset import Dataset, Split, Task, compute_fingerprint
from genbench.data.mnist5k import load_mnist5k
from genbench.runner import GenbenchBackend, Runner
from genbench.suite import Registries, parse_suite

HOLE = (7, 7, 14, 14)
N_TEST = 60  # ≥ MIN_FEATURE_IMAGES, so FID is computed; SR keeps 4 (FID skipped)


def digits():
    ds = load_mnist5k()
    test, train = ds.split("test"), ds.split("train")
    return test.samples, test.labels, train.samples, train.labels


def _holed(x):
    y = x.copy()
    t, l, h, w = HOLE
    y[..., t:t + h, l:l + w] = 0
    return y


def _down2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5)).round().astype(np.uint8)


def make_datasets() -> dict[str, Dataset]:
    xa, ya, xt, yt = digits()
    xs, ys = xa[:N_TEST], ya[:N_TEST]
    out = {}

    def add(name, task, test, train):
        splits = {"train": train, "test": test}
        out[name] = Dataset(name, "image", splits, compute_fingerprint(name, splits), n_classes=10, task=task)

    add("fake-edges", Task("translation", classifier="mnist-classifier"),
        Split(xs, ys, inputs=255 - xs), Split(xt[:40], yt[:40], inputs=255 - xt[:40]))
    add("fake-hole", Task("inpainting", hole=HOLE, classifier="mnist-classifier"),
        Split(xs, ys, inputs=_holed(xs)), Split(xt[:40], yt[:40], inputs=_holed(xt[:40])))
    # SR trains on 16×16 HR patches and is tested on whole 28×28 digits (a fully convolutional model)
    patches = xt[:8, :, 6:22, 6:22]
    add("fake-sr", Task("sr", scale=2), Split(xs[:4], inputs=_down2(xs[:4])), Split(patches, inputs=_down2(patches)))
    # unpaired: A = 60 digits, B = 70 inverted digits made from other source digits
    add("fake-unpaired", Task("unpaired", classifier="mnist-classifier"),
        Split(255 - xa[100:170], ya[100:170], inputs=xs, paired=False, input_labels=ys),
        Split(255 - xt[:20], yt[:20], inputs=xt[20:40], paired=False, input_labels=yt[20:40]))
    return out


DATASETS = make_datasets()


class I2IBackend(FakeBackend):
    """Image-conditioned fakes. 'oracle' inverts edges exactly, fills holes with black, upsamples
    by nearest neighbour, maps A → B as 255 − x + 3 (clipped) and B → A as 255 − x; 'broken'
    returns its input unchanged (the wrong shape for SR)."""

    MODELS = {"oracle": (("image",), True), "broken": (("image",), True), "fake-gan": (("image",), False)}

    def __init__(self):
        super().__init__()
        self.translated: list[tuple] = []

    def load_dataset(self, name, *, data_root):
        return DATASETS[name]

    def conditioning(self, model):
        return "image" if model in ("oracle", "broken") else "none"

    def has_inverse(self, model):
        return model == "oracle"

    def train(self, model, dataset, *, out_dir, config, steps, seed, device, progress):
        out = super().train(model, dataset, out_dir=out_dir, config=config, steps=steps, seed=seed, device=device,
                            progress=progress)
        (Path(out) / "task.json").write_text(json.dumps({"dataset": dataset.name, "task": dataset.task.kind}))
        return out

    def translate_images(self, checkpoint, images, *, seed, device, inverse=False):
        info = json.loads((Path(checkpoint) / "task.json").read_text())
        model = self._cfg(checkpoint)["model"]
        self.translated.append((model, info["dataset"], inverse, len(images)))
        x = images.astype(np.int64)
        if model == "broken":
            return images
        if info["task"] == "sr":
            return images.repeat(2, axis=2).repeat(2, axis=3)
        if info["task"] == "inpainting":
            return images
        if info["task"] == "unpaired" and not inverse:
            return np.clip(255 - x + 3, 0, 255).astype(np.uint8)
        return (255 - x).astype(np.uint8)

    # the real extractor identities and the real task evaluation: only the models are fake
    def extractor_identity(self, dataset, evaluation):
        return GenbenchBackend().extractor_identity(dataset, evaluation)

    def classifier_identity(self, name):
        return GenbenchBackend().classifier_identity(name)

    def evaluate_translations(self, translations, dataset, evaluation, **kw):
        self._count("evaluate-translations", dataset.name)
        return GenbenchBackend().evaluate_translations(translations, dataset, evaluation, **kw)


SUITE = """\
name: i2i
dataset: {datasets}
seeds: [0]
steps: 2
models:
  - oracle
{extra}evaluation:
  n: 100
  split: test
  extractor: mnist-classifier
  metrics: [psnr, ssim, l1, hole, fid, task_accuracy, inverse, cycle_psnr, source_only_accuracy]
"""


def suite(tmp_path, datasets, extra="", text=None):
    reg = Registries(models=tuple(I2IBackend.MODELS), datasets=tuple(DATASETS), extractors=("mnist-classifier",))
    return parse_suite(text or SUITE.format(datasets=datasets, extra=extra), str(tmp_path / "s.yaml"), registries=reg)


def run(tmp_path, suite, backend=None):
    backend = backend or I2IBackend()
    summary = Runner(suite, tmp_path / "run", backend=backend, progress=False, echo=lambda s: None,
                     cache_dir=str(tmp_path / "cache")).run()
    return summary, backend
