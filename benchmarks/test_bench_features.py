"""Feature-extraction speed: mnist-classifier throughput, and inception-v3-fid against pytorch-fid.

The Inception comparison runs pytorch-fid and genbench on the same images in the same run and
asserts that the features agree before recording ``speedup`` = pytorch-fid / genbench (min
over interleaved rounds) in ``extra_info``. Two references are timed:

- ``get_activations``: pytorch-fid's own API, which reads the images as PNG files (PIL decode
  + ``ToTensor`` per file, DataLoader with ``num_workers=0`` — on a 2-core machine extra worker
  processes only compete with the network for the cores);
- the bare ``InceptionV3([3])`` forward on the same in-memory tensors (no file reading): the
  network-only baseline, to show the gain is not just skipped PNG decoding.

The Inception weights are random (same shapes, official file name, temporary TORCH_HOME): speed
does not depend on the values, and the benchmark runs offline. Timings are never asserted.

    .venv/bin/python -m pytest benchmarks/test_bench_features.py -s
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from genbench.features import get_extractor
from genbench.features.base import iter_batches

# The random-weights helper lives beside the Inception equality tests; a top-level ``tests``
# package that some dependencies install would shadow ``tests.features``, so import it by folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "features"))
from random_inception import save_random_fid_weights  # noqa: E402

# GENBENCH_BENCH_FULL=1: more images (slow on a CPU).
FULL = os.environ.get("GENBENCH_BENCH_FULL") == "1"
N_INCEPTION = 250 if FULL else 50
DEVICE = os.environ.get("GENBENCH_BENCH_DEVICE", "cpu")


def test_mnist_classifier_throughput(benchmark):
    from genbench.data import load_dataset

    try:
        extractor = get_extractor("mnist-classifier")
    except Exception as exc:  # the shipped weights are produced by scripts/train_mnist_classifier.py
        pytest.skip(f"mnist-classifier not available: {exc}")
    images = load_dataset("mnist-5k").split("test").samples  # 1,000 real digits
    extractor.extract(iter_batches(images[:250], 250), device=DEVICE, progress=False)  # warm-up
    result = benchmark.pedantic(
        lambda: extractor.extract(iter_batches(images, 250), device=DEVICE, progress=False), rounds=5, iterations=1
    )
    assert result.features.shape[0] == len(images)
    rate = len(images) / benchmark.stats.stats.min
    benchmark.extra_info.update(images=len(images), images_per_s=rate, device=DEVICE, threads=torch.get_num_threads())
    print(f"\nmnist-classifier on {DEVICE}: {rate:,.0f} images/s ({len(images)} images, batch 250)")


@pytest.fixture(scope="module")
def random_fid_weights(tmp_path_factory):
    """Random weights under the official name in a temporary TORCH_HOME (pytorch-fid finds them too)."""
    from genbench.features.inception import WEIGHTS_ENV, WEIGHTS_FILENAME

    home = tmp_path_factory.mktemp("torch_home")
    path = home / "hub" / "checkpoints" / WEIGHTS_FILENAME
    save_random_fid_weights(path)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(WEIGHTS_ENV, raising=False)
        mp.setenv("TORCH_HOME", str(home))
        mp.setattr(torch.hub, "_hub_dir", torch.hub._hub_dir, raising=False)
        torch.hub.set_dir(str(home / "hub"))
        yield path


def test_inception_vs_pytorch_fid(benchmark, random_fid_weights, tmp_path):
    from pytorch_fid.fid_score import get_activations
    from pytorch_fid.inception import InceptionV3

    rng = np.random.default_rng(0)
    coarse = torch.from_numpy(rng.random((N_INCEPTION, 3, 4, 4), dtype=np.float32))
    images = (255 * torch.nn.functional.interpolate(coarse, size=(32, 32), mode="bicubic").clamp(0, 1)).round()
    images = images.to(torch.uint8).numpy()  # CIFAR-sized RGB, varied enough to give distinct features
    files = []
    for i, img in enumerate(images):
        files.append(tmp_path / f"{i:04d}.png")
        Image.fromarray(img.transpose(1, 2, 0)).save(files[-1])

    device = torch.device(DEVICE)
    reference = InceptionV3([3]).to(device).eval()

    def pytorch_fid_files():
        return get_activations(files, reference, batch_size=50, dims=2048, device=device, num_workers=0)

    def pytorch_fid_model_only():
        out = []
        with torch.no_grad():
            for batch in iter_batches(images, 50):
                x = torch.from_numpy(batch).to(device).float() / 255
                out.append(reference(x)[0].flatten(1).cpu().double().numpy())
        return np.concatenate(out)

    extractor = get_extractor("inception-v3-fid")

    def genbench():
        return extractor.extract(iter_batches(images, 250), device=device, progress=False)

    # Interleaved rounds (A, B, C, A, B, C): on a CPU shared with other jobs the load drifts, and
    # interleaving exposes all three to the same drift; the minimum per contender is reported.
    times: dict[str, list[float]] = {"files": [], "model": [], "genbench": []}
    for _ in range(2):
        for name, fn in (("files", pytorch_fid_files), ("model", pytorch_fid_model_only), ("genbench", genbench)):
            t0 = time.perf_counter()
            out = fn()
            times[name].append(time.perf_counter() - t0)
            if name == "files":
                expected = out
            elif name == "model":
                expected_in_memory = out
    files_s, model_s = min(times["files"]), min(times["model"])
    result = benchmark.pedantic(genbench, rounds=1, iterations=1)  # pytest-benchmark's own record
    ours_s = min(times["genbench"] + [benchmark.stats.stats.min])

    np.testing.assert_allclose(expected_in_memory, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(result.features, expected, rtol=1e-5, atol=1e-5)
    benchmark.extra_info.update(
        images=N_INCEPTION,
        device=DEVICE,
        threads=torch.get_num_threads(),
        pytorch_fid_get_activations_s=files_s,
        pytorch_fid_model_only_s=model_s,
        genbench_s=ours_s,
        speedup_vs_get_activations=files_s / ours_s,
        speedup_vs_model_only=model_s / ours_s,
        max_abs_feature_difference=float(np.abs(result.features - expected).max()),
    )
    print(
        f"\ninception-v3-fid, {N_INCEPTION} images 32×32 → 299×299 on {DEVICE}: "
        f"pytorch-fid get_activations {files_s:.2f} s ({N_INCEPTION / files_s:.1f} img/s), "
        f"pytorch-fid model only {model_s:.2f} s, genbench {ours_s:.2f} s ({N_INCEPTION / ours_s:.1f} img/s) → "
        f"{files_s / ours_s:.2f}× / {model_s / ours_s:.2f}× faster; "
        f"max |Δfeature| {np.abs(result.features - expected).max():.2e}"
    )
