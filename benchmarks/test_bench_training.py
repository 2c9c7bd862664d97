"""Training speed of every baseline at its 'quick' size on the CPU (and CUDA when present).

For each model and data kind (mnist-5k images, ring8 points) this times ``baselines.train`` for a
few steps (the full genbench loop: data order, seeding, logging, NaN checks, one checkpoint) and,
as the reference in the same run, a bare loop calling the model's ``train_step`` on the same
batches. ``extra_info`` records steps/s of both and their ratio (loop / bare; 1.0 = no overhead).

    .venv/bin/python -m pytest benchmarks/test_bench_training.py --benchmark-only -s
"""

from __future__ import annotations

import tempfile
import time

import pytest
import torch

import baselines
from baselines.codec import DataCodec
from baselines.training import BatchReader, build_networks, step_generator
from genbench.data import load_dataset

STEPS = {"image": 10, "points": 40}
DATASETS = {"image": "mnist-5k", "points": "ring8"}
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _bare_loop(spec, config, dataset, steps: int, device: torch.device) -> float:
    """Seconds for ``steps`` calls of ``train_step`` with nothing around them (the reference)."""
    nets = build_networks(spec, config, 0).to(device)
    opts = spec.make_optimizers(nets, config)
    train = dataset.split("train")
    codec = DataCodec.fit(config.data_kind, spec.image_range, train.samples)
    read = BatchReader(spec, config, train, codec, 0, device)
    batches = [read(s) for s in range(steps)]
    gens = [step_generator(0, s, device) for s in range(steps)]
    if device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for b, g in zip(batches, gens):
        spec.train_step(nets, opts, b, g, config)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", ["image", "points"])
@pytest.mark.parametrize("name", list(baselines.MODELS))
def test_training_steps_per_second(benchmark, name, kind, device):
    if device == "cpu":
        torch.set_num_threads(1)  # the reference CPU setting on a shared 2-core machine
    dataset = load_dataset(DATASETS[kind])
    config = baselines.default_config(name, dataset, "quick")
    steps = STEPS[kind]
    spec = baselines.get_spec(name)
    _bare_loop(spec, config, dataset, 1, torch.device(device))  # warm-up (lazy inits, allocator)

    def run():
        with tempfile.TemporaryDirectory() as d:
            baselines.train(name, dataset, out_dir=d, config=config, steps=steps, device=device, progress=False,
                            overrides={"checkpoint_every": 10**9})

    benchmark.pedantic(run, rounds=1, iterations=1)
    loop_s = benchmark.stats.stats.mean
    bare_s = _bare_loop(spec, config, dataset, steps, torch.device(device))
    benchmark.extra_info.update({
        "model": name, "data": DATASETS[kind], "device": device, "steps": steps,
        "batch_size": config.batch_size, "threads": torch.get_num_threads(),
        "genbench_steps_per_s": steps / loop_s, "bare_steps_per_s": steps / bare_s,
        "ratio_loop_over_bare": (steps / loop_s) / (steps / bare_s),
    })
    print(f"\n{name:14s} {kind:6s} {device}: genbench {steps / loop_s:7.2f} steps/s, bare {steps / bare_s:7.2f} steps/s"
          f" (ratio {bare_s / loop_s:.2f})")
