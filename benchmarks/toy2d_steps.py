"""Training steps per second of the mode-collapse suite's models (``suites/toy2d-paper.yaml``).

Two ratios, each measured within one run (interleaved rounds, so a change of machine load hits
both sides alike):

- **loop overhead**: ``baselines.training.train_model`` (data order, per-step seeding, loss
  checks, log, one checkpoint) against a bare loop of ``train_step`` calls on the same batches.
  1.00 means the loop costs nothing; at the papers' network sizes the step is matrix products.
- **generator backward**: ``GANSpec.generator_step`` as it is (back-propagation into G's
  parameters only) against the former full ``loss.backward()``, which also computed D's weight
  gradients and threw them away. Both give G the same bits (``tests/baselines/test_model_contract.py``).
  Not applicable to unrolled-gan, whose generator step has its own ``autograd.grad``.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/toy2d_steps.py [--steps 40] [--rounds 5]

One torch thread (the shared 2-core machine's setting). Figures from a loaded machine are
ratios, not speeds: quote steps/s only from an idle one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import baselines  # noqa: E402
from baselines.codec import DataCodec  # noqa: E402
from baselines.gan import GANSpec  # noqa: E402
from baselines.losses import generator_loss  # noqa: E402
from baselines.training import BatchReader, build_networks, step_generator, train_model  # noqa: E402
from genbench.data import load_dataset  # noqa: E402
from genbench.overrides import apply_overrides  # noqa: E402
from genbench.suite import load_suite  # noqa: E402

SUITE = Path(__file__).resolve().parents[1] / "suites" / "toy2d-paper.yaml"
LABELS = ("gan", "pacgan2", "unrolled-gan")


class FullBackwardGAN(GANSpec):
    """``gan`` with the former generator step: ``loss.backward()`` into every parameter."""

    def generator_step(self, nets, opts, batch, gen, config):
        n = self.samples_per_batch(config)
        fake = self.generate(nets, None, self.latent(n, gen, config), config)
        loss = generator_loss(self.discriminate(nets, fake, None, config), config.generator_loss)
        opts["G"].zero_grad(set_to_none=True)
        loss.backward()
        opts["G"].step()
        return loss


def _setup(spec, config, dataset, seed: int = 0):
    nets = build_networks(spec, config, seed)
    opts = spec.make_optimizers(nets, config)
    train = dataset.split("train")
    read = BatchReader(spec, config, train, DataCodec.fit("points", spec.image_range, train.samples), seed,
                       torch.device("cpu"))
    return nets, opts, read


def _bare(spec, config, state, start: int, steps: int) -> float:
    nets, opts, read = state
    batches = [read(s) for s in range(start, start + steps)]
    gens = [step_generator(0, s, torch.device("cpu")) for s in range(start, start + steps)]
    t = time.perf_counter()
    for b, g in zip(batches, gens):
        spec.train_step(nets, opts, b, g, config)
    return time.perf_counter() - t


def _loop(spec, config, dataset, out: Path, upto: int, steps: int) -> float:
    t = time.perf_counter()
    train_model(spec, dataset, out_dir=out, config=config, steps=upto, progress=False)
    return time.perf_counter() - t


def measure(label: str, dataset, steps: int, rounds: int) -> dict:
    model = load_suite(SUITE, "quick").model(label)
    spec = baselines.get_spec(model.model)
    config = apply_overrides(baselines.default_config(model.model, dataset, "quick"),
                             {**model.overrides, "checkpoint_every": 10**9, "log_every": 100})
    bare_state = _setup(spec, config, dataset)
    _bare(spec, config, bare_state, 0, 2)  # warm-up
    t_bare, t_loop = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        for r in range(rounds):  # train_model resumes its own checkpoint each round (+1 save per round)
            t_loop.append(_loop(spec, config, dataset, out, (r + 1) * steps, steps) / steps)
            t_bare.append(_bare(spec, config, bare_state, r * steps, steps) / steps)
    row = {"label": label, "bare_ms": 1e3 * statistics.median(t_bare), "loop_ms": 1e3 * statistics.median(t_loop)}
    if model.model == "gan":
        full_spec = FullBackwardGAN()
        new_state, old_state = _setup(spec, config, dataset), _setup(full_spec, config, dataset)
        t_new, t_old = [], []
        for r in range(rounds):
            t_old.append(_bare(full_spec, config, old_state, r * steps, steps) / steps)
            t_new.append(_bare(spec, config, new_state, r * steps, steps) / steps)
        row.update(old_ms=1e3 * statistics.median(t_old), new_ms=1e3 * statistics.median(t_new))
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=40, help="steps per round (default 40)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are reported (default 5)")
    p.add_argument("--dataset", default="ring8")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    dataset = load_dataset(args.dataset)
    print(f"{args.dataset}, paper settings, 1 torch thread, {args.rounds} rounds x {args.steps} steps, medians")
    print("| model | bare train_step ms | train_model ms | loop / bare | full-backward G step ms | G-only ms | speed-up |")
    print("|---|---|---|---|---|---|---|")
    for label in LABELS:
        r = measure(label, dataset, args.steps, args.rounds)
        g = (f"{r['old_ms']:.1f} | {r['new_ms']:.1f} | {r['old_ms'] / r['new_ms']:.2f}x" if "old_ms" in r
             else "— | — | —")
        print(f"| {label} | {r['bare_ms']:.1f} | {r['loop_ms']:.1f} | {r['loop_ms'] / r['bare_ms']:.3f} | {g} |",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
