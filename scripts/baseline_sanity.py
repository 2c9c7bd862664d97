"""Sanity table for the reference baselines (issue 4's closing note); not a unit test.

Toy part: on ring8 and grid25, train gan, unrolled-gan and minibatch-gan with the 'quick'
profile for 3 seeds, draw 2,500 samples each and report modes covered and % high-quality samples
(``genbench.metrics.mode_coverage_2d``, nearest mode, within 3σ), mean ± std over seeds.
Image part (``--images``): on mnist-5k, train every image model (quick), report FID and IS under
the mnist-classifier extractor against the test split, and PSNR/SSIM of test reconstructions for
ae, vae, aae (plus the VAE's test ELBO and IWAE log-likelihood).

CPU cost: the toy part trains 18 small models (minutes each on a loaded 2-core machine); runs are
cached in --work (a finished checkpoint is reused), so the script can be interrupted and rerun.

    python scripts/baseline_sanity.py --work runs/sanity [--images] [--seeds 0 1 2] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import baselines  # noqa: E402
from baselines import checkpoint  # noqa: E402
from genbench.data import load_dataset  # noqa: E402
from genbench.metrics import mode_coverage_2d  # noqa: E402

TOY_MODELS = ("gan", "unrolled-gan", "minibatch-gan")
TOY_DATASETS = ("ring8", "grid25")
IMAGE_MODELS = ("gan", "dcgan", "cgan", "ae", "vae", "aae", "unrolled-gan", "minibatch-gan")
AUTOENCODERS = ("ae", "vae", "aae")


def train_cached(model: str, dataset, work: Path, seed: int, overrides: dict | None) -> Path:
    out = work / f"{model}_{dataset.name}_seed{seed}"
    if checkpoint.exists(out):
        record, _ = checkpoint.read(out)
        if record.get("finished"):
            return out
    t = time.perf_counter()
    baselines.train(model, dataset, out_dir=out, overrides=overrides, seed=seed, device="cpu", progress=False)
    print(f"  trained {model} on {dataset.name} seed {seed} in {time.perf_counter() - t:.0f}s", flush=True)
    return out


def toy_table(work: Path, seeds: list[int], models, datasets, overrides: dict | None,
              json_path: str | None = None) -> list[dict]:
    """Seed-major order, so an interrupted run still has every model at its first seeds."""
    results: dict[tuple[str, str], dict] = {}
    for seed in seeds:
        for ds_name in datasets:
            ds = load_dataset(ds_name)
            for model in models:
                path = train_cached(model, ds, work, seed, overrides)
                pts = baselines.load(path, device="cpu").sample(2500, seed=seed)
                res = {r.name: r.value for r in mode_coverage_2d(pts, ds.modes.means, ds.modes.std, threshold=3.0)}
                row = results.setdefault((ds_name, model), {
                    "dataset": ds_name, "model": model, "n_modes": len(ds.modes.means),
                    "seeds": [], "modes": [], "high_quality_pct": []})
                row["seeds"].append(seed)
                row["modes"].append(res["modes"])
                row["high_quality_pct"].append(100.0 * res["high_quality"])
                print(f"  {ds_name} {model} seed {seed}: {res['modes']:.0f} modes, "
                      f"{100 * res['high_quality']:.1f}% high quality", flush=True)
                if json_path:
                    from genbench import atomic

                    atomic.write_json(json_path, {"toy": list(results.values())})
    for row in results.values():
        m, hq = np.array(row["modes"]), np.array(row["high_quality_pct"])
        print(f"{row['dataset']:7s} {row['model']:14s} modes {m.mean():5.1f} ± {m.std():.1f} / {row['n_modes']}"
              f"   high quality {hq.mean():5.1f} ± {hq.std():.1f} %   ({len(m)} seeds)", flush=True)
    return list(results.values())


def image_table(work: Path, seed: int, n: int, models=IMAGE_MODELS) -> list[dict]:
    from genbench.evaluate import evaluate, evaluate_reconstructions

    from baselines.vae import elbo, iwae_log_likelihood

    ds = load_dataset("mnist-5k")
    test = ds.split("test").samples
    rows = []
    for model in models:
        path = train_cached(model, ds, work, seed, None)
        result = evaluate(str(path), dataset=ds, split="test", metrics=["fid", "is"], n=n,
                          extractor="mnist-classifier", device="cpu", seed=seed, progress=False)
        row = {"model": model, **{m.name: m.value for m in result.metrics}}
        if model in AUTOENCODERS:
            trained = baselines.load(path, device="cpu")
            row.update({m.name: m.value for m in evaluate_reconstructions(test, trained.translate(test))})
            if model == "vae":
                row["elbo"] = float(np.mean(elbo(trained, test)))
                row["iwae_k100"] = float(np.mean(iwae_log_likelihood(trained, test[:200], k=100)))
        rows.append(row)
        print("mnist-5k", model, {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", default="runs/sanity", help="where checkpoints are kept (reused when finished)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--models", nargs="+", default=list(TOY_MODELS))
    p.add_argument("--datasets", nargs="+", default=list(TOY_DATASETS))
    p.add_argument("--images", action="store_true", help="also the mnist-5k part")
    p.add_argument("--no-toy", action="store_true", help="skip the toy part")
    p.add_argument("--image-models", nargs="+", default=list(IMAGE_MODELS), help="models for the image part")
    p.add_argument("--n", type=int, default=1000, help="samples for FID/IS (mnist-5k test has 1,000)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a shared machine)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="config override for every toy run")
    p.add_argument("--json", default=None, help="write the rows here")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    work = Path(args.work)
    out = {}
    if not args.no_toy:
        from genbench.commands.train import parse_set

        out["toy"] = toy_table(work, args.seeds, args.models, args.datasets, parse_set(args.set) or None,
                               args.json)
    if args.images:
        out["images"] = image_table(work, args.seeds[0], args.n, args.image_models)
    if args.json:
        from genbench import atomic

        atomic.write_json(args.json, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
