"""Train stackgan's quick profile on captioned-digits and score each stage (what the issue-10
report quotes): FID on mnist-classifier features against the test split (n = 1000, one image per
test caption, seed 0) and caption consistency, for Stage I (14×14, bilinearly up-sampled) and
Stage II (28×28); plus the references (real train digits; real test digits through 14×14).

    PYTHONPATH=. python scripts/measure_stackgan.py OUT_DIR [--steps N --stage1-steps M]

Until the runner samples text models (suites/text2digit.yaml), this is how the suite's numbers are made.
"""

from __future__ import annotations

import argparse
import json

import torch

import baselines
from baselines.stackgan import with_stage
from genbench.data import load_dataset
from genbench.data.captioned import caption_classes
from genbench.evaluate import evaluate
from genbench.metrics.caption import caption_consistency


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--stage1-steps", type=int)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    ds = load_dataset("captioned-digits")
    overrides = {k: v for k, v in (("steps", args.steps), ("stage1_steps", args.stage1_steps)) if v is not None}
    path = baselines.train("stackgan", ds, out_dir=args.out, config=baselines.default_config("stackgan", ds, "quick"),
                           overrides=overrides, seed=args.seed, progress=False)
    model = baselines.load(path)
    test, train = ds.split("test"), ds.split("train")
    classes = caption_classes(test.captions, ds.vocabulary)

    def fid(images):
        return evaluate(images, dataset=ds, split="test", metrics=["fid"], n=len(images), extractor="mnist-classifier",
                        progress=False, seed=0)["fid"].value

    out = {"checkpoint": str(path), "step": model.step, "dataset": ds.fingerprint.short, "config": model.config.to_dict()}
    for stage in (1, 2):
        images = with_stage(model, stage).sample_captions(test.captions, seed=0)
        out[f"stage{stage}"] = {"fid": fid(images), "caption_consistency": caption_consistency(images, classes).to_dict()}
    low = torch.nn.functional.avg_pool2d(torch.as_tensor(test.samples, dtype=torch.float32), 2)
    up = torch.nn.functional.interpolate(low, size=(28, 28), mode="bilinear", align_corners=False)
    out["references"] = {"real_train_fid": fid(train.samples[:1000]),
                         "real_test_through_14px_fid": fid(up.round().clamp(0, 255).to(torch.uint8).numpy()),
                         "real_test_caption_consistency": caption_consistency(test.samples, classes).value}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
