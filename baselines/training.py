"""The one training loop every baseline shares.

Why it is built this way:

- **Stateless randomness.** Step ``s`` draws its minibatch from the permutation of epoch
  ``s // (N // batch)`` seeded by ``(seed, epoch)``, and its noise from a generator seeded by
  ``(seed, s)``. Nothing random carries over between steps, so a run resumed from the checkpoint
  of step ``s`` computes exactly what the uninterrupted run computed (bit for bit on CPU), with
  no RNG state to save. Network initialisation uses ``seed`` inside a forked RNG, so training
  never disturbs the caller's global RNG. A batch carries what the model conditions on: class
  labels, or input images (paired: the targets' own inputs; unpaired: the input domain in an
  epoch order seeded on a stream of its own).
- **Resumable.** The checkpoint holds weights, buffers (BatchNorm statistics) and the full
  optimizer state; see ``baselines.checkpoint``. Resuming with a different config, seed, model or
  dataset is refused; only ``steps``, ``checkpoint_every`` and ``log_every`` may change.
- **Divergence stops the run.** A non-finite loss or weight raises ``GenbenchError`` before
  anything is saved, so the last good checkpoint stays on disk.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from genbench import atomic
from genbench.data.dataset import Dataset, Split
from genbench.device import resolve_device
from genbench.errors import GenbenchError
from genbench.provenance import environment

from baselines import checkpoint
from baselines import config as configs
from baselines.codec import DataCodec
from baselines.spec import BaseConfig, Batch, ModelSpec, check_image_data

log = logging.getLogger(__name__)

# Stream tags so the data order, the training noise and the sampling noise never share seeds;
# the input domain of unpaired image-to-image data is ordered by a stream of its own.
_DATA, _STEP, _SAMPLE, _INPUTS = 1, 2, 3, 4


def derive_seed(seed: int, stream: int, index: int) -> int:
    """A 63-bit seed for one (seed, stream, index) triple; independent streams via SeedSequence."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(seed) >> 32, stream, int(index)]).generate_state(2)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)


class EpochOrder:
    """Minibatch indices for any step without state: shuffled epochs, last partial batch dropped."""

    def __init__(self, n: int, batch_size: int, seed: int, stream: int = _DATA, what: str = "the training split"):
        if batch_size > n:
            raise GenbenchError(f"batch_size {batch_size} is larger than {what} ({n} samples)")
        self.n, self.batch_size, self.seed, self.stream = n, batch_size, seed, stream
        self.per_epoch = n // batch_size
        self._epoch, self._perm = -1, None

    def indices(self, step: int) -> torch.Tensor:
        epoch, pos = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(derive_seed(self.seed, self.stream, epoch))
            self._epoch, self._perm = epoch, torch.randperm(self.n, generator=g)
        return self._perm[pos * self.batch_size:(pos + 1) * self.batch_size]


def step_generator(seed: int, step: int, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(derive_seed(seed, _STEP, step))


def sample_generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(derive_seed(seed, _SAMPLE, 0))


def build_networks(spec: ModelSpec, config: BaseConfig, seed: int) -> nn.ModuleDict:
    """Initialise on the CPU (same weights on every device) without touching the global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return spec.build(config)


def _all_finite(nets: nn.ModuleDict) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in nets.state_dict().values() if t.is_floating_point())


def _read_log(path: Path, upto: int) -> list[str]:
    """Lines of an existing log with step <= ``upto`` (drops a torn last line after kill -9)."""
    if not path.exists():
        return []
    keep = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("step"), int) and entry["step"] <= upto:
            keep.append(line)
    return keep


def train_model(spec: ModelSpec, dataset: Dataset, *, out_dir: str | Path, config: BaseConfig | None = None,
                overrides: dict | None = None, steps: int | None = None, seed: int = 0,
                device: str | torch.device | None = None, progress: bool = True) -> Path:
    """Train (or resume) one baseline; return the checkpoint directory."""
    out_dir = Path(out_dir)
    device = resolve_device(device)
    record = tensors = None
    if checkpoint.exists(out_dir):
        record, tensors = checkpoint.read(out_dir)
        _check_same_run(spec, dataset, seed, record, out_dir)
        if config is None:
            config = configs.from_dict(spec.config_class, record["config"], str(out_dir / checkpoint.MODEL_FILE))
    if config is None:
        config = spec.default_config(dataset, "quick")
    if not isinstance(config, spec.config_class):
        raise GenbenchError(f"config for {spec.name!r} must be a {spec.config_class.__name__}, got {type(config).__name__}")
    config = configs.apply_overrides(config, overrides)
    if steps is not None:
        config = configs.apply_overrides(config, {"steps": int(steps)})
    configs.check_matches_dataset(config, dataset)
    _check_conditions(spec, config, dataset)
    if config.amp and device.type != "cuda":
        raise GenbenchError("amp=true needs a CUDA device (mixed precision is a GPU speed-up; CPU runs stay float32)")
    if record is not None:
        diff = configs.differences(record["config"], config.to_dict())
        if diff:
            raise GenbenchError(
                f"{out_dir} holds a checkpoint trained with a different config ({'; '.join(diff)}); "
                "resume with the same settings or choose another --out directory"
            )

    train = dataset.split("train")
    if record is not None:
        stats = record["data_stats"]
        codec = DataCodec(config.data_kind, spec.image_range,
                          tuple(stats["mean"]) if stats["mean"] else None, tuple(stats["std"]) if stats["std"] else None)
    else:
        codec = DataCodec.fit(config.data_kind, spec.image_range, train.samples)

    nets = build_networks(spec, config, seed).to(device)
    opts = spec.make_optimizers(nets, config)
    start = 0
    if record is not None:
        model_path = out_dir / checkpoint.MODEL_FILE
        checkpoint.load_networks(nets, tensors, model_path)
        checkpoint.load_optimizers(opts, record, tensors, model_path)
        start = int(record["step"])
        log.info("resuming %s from step %d in %s", spec.name, start, out_dir)
    del tensors

    base_record = {
        "model": spec.name,
        "paper": spec.paper,
        "config": config.to_dict(),
        "dataset": dataset.name,
        "dataset_fingerprint": dataset.fingerprint.to_dict(),
        "seed": int(seed),
        "data_stats": codec.stats(),
        "image_range": None if config.data_kind == "points" else spec.image_range,
        "provenance": environment(device),
    }

    def save(step: int) -> None:
        if not _all_finite(nets):
            raise GenbenchError(
                f"training of {spec.name!r} diverged at step {step}: weights became NaN/Inf; "
                f"the last good checkpoint in {out_dir} is kept"
            )
        checkpoint.save(out_dir, nets, opts, {**base_record, "step": step, "finished": step >= config.steps})

    log_path = out_dir / checkpoint.LOG_FILE
    out_dir.mkdir(parents=True, exist_ok=True)
    kept = _read_log(log_path, start)
    atomic.write_text(log_path, "".join(line + "\n" for line in kept))
    if start >= config.steps:
        if record is None or not record.get("finished") or record["config"] != config.to_dict():
            save(start)
        return out_dir

    batches = BatchReader(spec, config, train, codec, seed, device)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if config.amp else contextlib.nullcontext()
    t0 = time.perf_counter()
    nets.train()
    bar = tqdm(total=config.steps, initial=start, desc=f"train {spec.name}", disable=not progress,
               dynamic_ncols=True, leave=False)
    try:
        with open(log_path, "a", encoding="utf-8") as log_file:
            for step in range(start, config.steps):
                batch = batches(step)
                with amp:
                    losses = spec.train_step(nets, opts, batch, step_generator(seed, step, device), config)
                values = {k: float(v.detach()) for k, v in losses.items()}
                bad = [k for k, v in values.items() if not math.isfinite(v)]
                if bad:
                    raise GenbenchError(
                        f"training of {spec.name!r} diverged at step {step + 1}: loss {bad[0]} is {values[bad[0]]}; "
                        f"the last good checkpoint in {out_dir} is kept (try a smaller learning rate)"
                    )
                done = step + 1
                bar.update(1)
                if done % config.log_every == 0 or done == config.steps:
                    entry = {"step": done, **{k: round(v, 6) for k, v in values.items()},
                             "wall_time_s": round(time.perf_counter() - t0, 3)}
                    log_file.write(json.dumps(entry) + "\n")
                    log_file.flush()
                    bar.set_postfix({k: f"{v:.3f}" for k, v in values.items()}, refresh=False)
                if done % config.checkpoint_every == 0 or done == config.steps:
                    save(done)
    finally:
        bar.close()
    log.info("trained %s for %d steps in %.1fs → %s", spec.name, config.steps - start, time.perf_counter() - t0, out_dir)
    return out_dir


class BatchReader:
    """The minibatch of any step, conditions included, without state (see the module docstring).

    Targets follow ``EpochOrder`` on the data stream; a class model's labels and a paired image
    model's inputs share the targets' indices; an unpaired image model reads the input domain in
    an order of its own (stream ``_INPUTS``), so neither domain's order depends on the other's size.
    """

    def __init__(self, spec: ModelSpec, config: BaseConfig, train: Split, codec: DataCodec, seed: int,
                 device: torch.device):
        n = spec.examples_per_step(config)
        self.codec, self.device = codec, device
        self.samples = torch.as_tensor(train.samples).to(device)
        self.order = EpochOrder(len(train), n, seed)
        self.labels = self.inputs = self.input_order = None
        if spec.conditioning == "class":
            self.labels = torch.as_tensor(train.labels, dtype=torch.int64).to(device)
        elif spec.conditioning == "image":
            self.inputs = torch.as_tensor(train.inputs).to(device)
            if spec.pairing == "unpaired":
                self.input_order = EpochOrder(len(train.inputs), n, seed, _INPUTS, "the input domain")
        elif spec.conditioning == "text":  # captions share the targets' indices, like labels
            from baselines.spec import check_captions

            if train.captions is None:
                raise GenbenchError(f"model {spec.name!r} conditions on captions but the train split has none")
            check_captions(train.captions, config, "the train split's captions")
            self.labels = torch.as_tensor(train.captions, dtype=torch.int64).to(device)

    def __call__(self, step: int) -> Batch:
        idx = self.order.indices(step).to(self.device)
        x = self.codec.encode(self.samples[idx], self.device)
        if self.labels is not None:
            return Batch(x, self.labels[idx])
        if self.inputs is not None:
            if self.input_order is not None:
                idx = self.input_order.indices(step).to(self.device)
            return Batch(x, self.codec.encode(self.inputs[idx], self.device))
        return Batch(x)


def _check_conditions(spec: ModelSpec, config: BaseConfig, dataset: Dataset) -> None:
    """The data holds what the model conditions on, in the shape its config was built for."""
    train = dataset.split("train")
    if spec.conditioning == "class" and train.labels is None:
        raise GenbenchError(f"model {spec.name!r} needs labels but dataset {dataset.name!r} has none in its train split")
    if spec.conditioning == "image":
        check_image_data(spec, dataset)
        shape = tuple(int(s) for s in train.inputs.shape[1:])
        if tuple(config.cond_shape) != shape:
            raise GenbenchError(f"config is for input images of shape {tuple(config.cond_shape)} but dataset "
                                f"{dataset.name!r} holds inputs of shape {shape}")


def _check_same_run(spec: ModelSpec, dataset: Dataset, seed: int, record: dict, out_dir: Path) -> None:
    if record.get("model") != spec.name:
        raise GenbenchError(f"{out_dir} holds a {record.get('model')!r} checkpoint, not {spec.name!r}; choose another --out")
    if record.get("dataset_fingerprint") != dataset.fingerprint.to_dict():
        fp = record.get("dataset_fingerprint") or {}
        raise GenbenchError(
            f"{out_dir} was trained on dataset {fp.get('name')!r}@{str(fp.get('sha256'))[:12]}, "
            f"not {dataset.fingerprint.short}; choose another --out"
        )
    if int(record.get("seed", -1)) != int(seed):
        raise GenbenchError(f"{out_dir} was trained with seed {record.get('seed')}, not {seed}; resume with the same seed")

