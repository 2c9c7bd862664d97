"""Paired digit translation table (issue 9): pix2pix vs the L1-only U-Net on mnist-edges, SPADE on
mnist-labels; not a unit test.

Trains (quick profile, cached in --work: a finished checkpoint is reused) and scores each model on
the dataset's test split by the translation protocol: PSNR / SSIM / mean |output − target| in grey
levels (0–255) against the target, FID of the outputs against the test targets in mnist-classifier
features (with its bootstrap standard deviation, 100 redraws), and mnist-classifier accuracy on the
outputs against the digits' labels. The 'stroke mask' row of mnist-labels scores the label map's
stroke mask drawn at 255 as the output: what a model adds over copying its input (its mean PSNR
is infinite: one test digit of mnist-5k is purely 0/255, so the mask reproduces it exactly).

    python scripts/paired_digits_table.py --work runs/paired [--seeds 0 1] [--spade] [--steps N]

``--steps N`` trains (or continues a finished checkpoint in --work, bit-exactly) to N steps
instead of the quick profile's length; each row records its steps and training wall time.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import baselines
from genbench.data import load_dataset
from genbench.features import get_extractor
from genbench.metrics.fid import fid
from genbench.metrics.image_quality import psnr, ssim


def score(outputs: np.ndarray, split, real, extractor) -> dict:
    feats = extractor.extract([outputs], progress=False)
    diff = outputs.astype(np.float64) - split.samples.astype(np.float64)
    return {"psnr": float(psnr(outputs, split.samples, 255).value), "ssim": float(ssim(outputs, split.samples, 255).value),
            "l1": float(np.abs(diff).mean()), "fid": float(fid(feats.features, real.features).value),
            "fid_std": float(fid(feats.features, real.features, bootstrap=100).std),
            "accuracy": float((feats.probs.argmax(1) == split.labels).mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--spade", action="store_true", help="also train and score spade on mnist-labels")
    parser.add_argument("--steps", type=int, default=None, help="train to this many steps (default: quick profile's)")
    args = parser.parse_args()
    extractor = get_extractor("mnist-classifier")
    runs = [("mnist-edges", "pix2pix", "pix2pix", {}), ("mnist-edges", "pix2pix", "L1-only U-Net", {"lambda_gan": 0.0})]
    if args.spade:
        runs.append(("mnist-labels", "spade", "spade", {}))
    rows = []
    for name in dict.fromkeys(r[0] for r in runs):
        ds = load_dataset(name)
        test = ds.split("test")
        real = extractor.extract([test.samples], progress=False)
        rows.append({"dataset": name, "model": "real test digits",
                     "accuracy": float((real.probs.argmax(1) == test.labels).mean())})
        if name == "mnist-labels":
            mask = np.where(test.inputs > 0, 255, 0).astype(np.uint8)
            rows.append({"dataset": name, "model": "stroke mask", **score(mask, test, real, extractor)})
        for _, model, label, overrides in (r for r in runs if r[0] == name):
            for seed in args.seeds:
                out_dir = args.work / f"{label.replace(' ', '_')}_seed{seed}"
                t = time.perf_counter()
                baselines.train(model, ds, out_dir=out_dir, overrides=overrides, seed=seed, steps=args.steps,
                                progress=False)
                train_s = time.perf_counter() - t
                outputs = baselines.load(out_dir, device="cpu").translate(test.inputs, seed=0)
                steps = json.loads((out_dir / "train_log.jsonl").read_text().strip().splitlines()[-1])["step"]
                rows.append({"dataset": name, "model": label, "seed": seed, "steps": steps, "train_s": train_s,
                             **score(outputs, test, real, extractor)})
                print(json.dumps(rows[-1]), flush=True)
    for row in rows:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}))


if __name__ == "__main__":
    main()
