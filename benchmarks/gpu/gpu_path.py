"""The GPU path, measured: one script, under 8 minutes on one GPU (written for an H200; not yet run).

    python benchmarks/gpu/gpu_path.py --out gpu-report.json            # on a CUDA machine
    python benchmarks/gpu/gpu_path.py --smoke                         # any machine: tiny sizes, CPU only

Offline machines: put the FID Inception weights (pt_inception-2015-12-05-6726825d.pth, the file
pytorch-fid uses too) in $TORCH_HOME/hub/checkpoints/ (or pass --inception-weights PATH, which is
linked there) before running; nothing is downloaded when GENBENCH_OFFLINE=1.

Sections (each prints its figures and lands in the JSON report):
1. determinism: dcgan trained twice on CUDA with the same seed (deterministic algorithms on,
   CUBLAS_WORKSPACE_CONFIG set) → are the weights bit-identical? Also with
   torch.use_deterministic_algorithms off, to say where torch does not guarantee it.
2. cpu-vs-cuda scoring: the same dcgan samples scored on CPU and on CUDA (TF32 off) → the metric
   differences.
3. inception throughput: genbench's extractor vs pytorch-fid's get_activations on the same GPU and
   the same PNG files (features within 1e-4), genbench both from decoded arrays and from the files
   with decoding overlapped on threads; goal ≥ 2× pytorch-fid's images/s.
4. metric timings at 50k × 2048: FID, KID, PRDC on CUDA vs CPU (PRDC on CPU at 10k and scaled by
   (50k/10k)² — its cost is quadratic — so the script stays under 8 minutes).
5. training speed: full-profile steps/s of every image baseline on CUDA.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import baselines  # noqa: E402
from genbench.data import load_dataset  # noqa: E402
from genbench.evaluate import evaluate  # noqa: E402


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _weights(ckpt: Path) -> dict:
    from safetensors.numpy import load_file
    return {k: v for k, v in load_file(Path(ckpt) / "model.safetensors").items() if not k.startswith("optim.")}


def _max_abs_diff(a: dict, b: dict) -> float:
    return max(float(np.max(np.abs(a[k].astype(np.float64) - b[k].astype(np.float64)))) for k in a)


def determinism(device: str, steps: int, tmp: Path) -> dict:
    ds = load_dataset("mnist-5k")
    config = baselines.default_config("dcgan", ds, profile="quick")
    out = {}
    for deterministic in (True, False):
        torch.use_deterministic_algorithms(deterministic, warn_only=False)
        runs = []
        for r in range(2):
            d = tmp / f"det-{deterministic}-{r}"
            try:
                runs.append(_weights(baselines.train("dcgan", ds, out_dir=d, config=config, steps=steps, seed=0,
                                                     device=device, progress=False)))
            except RuntimeError as exc:  # an op without a deterministic CUDA kernel
                out[f"deterministic_algorithms={deterministic}"] = {"error": str(exc).splitlines()[0]}
                break
        else:
            diff = _max_abs_diff(*runs)
            out[f"deterministic_algorithms={deterministic}"] = {"bit_identical": diff == 0.0, "max_abs_diff": diff}
    torch.use_deterministic_algorithms(False)
    return out


def cpu_vs_cuda_scores(device: str, steps: int, n: int, tmp: Path) -> dict:
    ds = load_dataset("mnist-5k")
    ckpt = baselines.train("dcgan", ds, out_dir=tmp / "score-ckpt", config=baselines.default_config("dcgan", ds, profile="quick"),
                           steps=steps, seed=0, device=device, progress=False)
    samples = baselines.load(ckpt, device="cpu").sample(n, 0)  # the same images for both devices
    prev = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    scores, times = {}, {}
    try:
        for dev in ("cpu", device):
            t = time.perf_counter()
            res = evaluate(samples, dataset=ds, split="test", metrics=["fid", "kid", "is", "prdc"], n=n,
                           extractor="inception-v3-fid", device=dev, seed=0, progress=False,
                           cache_dir=str(tmp / f"cache-{dev}"))
            times[dev] = time.perf_counter() - t
            scores[dev] = {m.name: float(m.value) for m in res.metrics}
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = prev
    diffs = {k: {"cpu": scores["cpu"][k], device: scores[device][k], "abs_diff": abs(scores["cpu"][k] - scores[device][k]),
                 "rel_diff": abs(scores["cpu"][k] - scores[device][k]) / max(abs(scores["cpu"][k]), 1e-12)}
             for k in scores["cpu"]}
    return {"n": n, "metrics": diffs, "wall_s": times}


def _write_pngs(images: np.ndarray, folder: Path) -> list[str]:
    from PIL import Image
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, img in enumerate(images):
        p = folder / f"{i:06d}.png"
        Image.fromarray(np.ascontiguousarray(img.transpose(1, 2, 0))).save(p)
        paths.append(str(p))
    return paths


def _decoded_batches(paths: list[str], batch: int, threads: int):
    """PNG decoding on threads, one batch ahead of the GPU (overlapped with extraction)."""
    from PIL import Image

    def load(chunk):
        return np.stack([np.asarray(Image.open(p).convert("RGB")).transpose(2, 0, 1) for p in chunk])

    chunks = [paths[i:i + batch] for i in range(0, len(paths), batch)]
    with ThreadPoolExecutor(threads) as pool:
        yield from pool.map(load, chunks)


def inception_throughput(device: str, n: int, tmp: Path) -> dict:
    from pytorch_fid.fid_score import get_activations
    from pytorch_fid.inception import InceptionV3
    from genbench.features.inception import InceptionV3FidExtractor

    digits = load_dataset("mnist-5k").split("train").samples  # N×1×28×28 uint8
    reps = int(np.ceil(n / len(digits)))
    images = np.repeat(np.tile(digits, (reps, 1, 1, 1))[:n], 3, axis=1)
    images = np.ascontiguousarray(images)
    paths = _write_pngs(images, tmp / "pngs")

    ref_model = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).to(device).eval()
    get_activations(paths[:200], ref_model, batch_size=50, dims=2048, device=device, num_workers=4)  # warm-up
    _sync(device)
    t = time.perf_counter()
    ref = get_activations(paths, ref_model, batch_size=50, dims=2048, device=device, num_workers=8)
    _sync(device)
    t_ref = time.perf_counter() - t

    out = {"n": n, "pytorch_fid": {"batch_size": 50, "img_per_s": n / t_ref}}
    for chunk in (200, 500):
        for channels_last in (False, True):
            ext = InceptionV3FidExtractor(chunk_size=chunk, channels_last=channels_last)
            ext.extract([images[:chunk]], device=device, progress=False)  # warm-up (cudnn, allocator)
            _sync(device)
            t = time.perf_counter()
            feats = ext.extract((images[i:i + 1000] for i in range(0, n, 1000)), device=device, progress=False)
            _sync(device)
            t_arr = time.perf_counter() - t
            t = time.perf_counter()
            from_files = ext.extract(_decoded_batches(paths, 1000, 8), device=device, progress=False)
            _sync(device)
            t_files = time.perf_counter() - t
            diff = float(np.max(np.abs(feats.features - ref.astype(np.float64))))
            diff_files = float(np.max(np.abs(from_files.features - ref.astype(np.float64))))
            out[f"genbench chunk={chunk} channels_last={channels_last}"] = {
                "img_per_s_from_arrays": n / t_arr, "img_per_s_from_pngs_overlapped": n / t_files,
                "speedup_vs_pytorch_fid_from_pngs": t_ref / t_files, "max_abs_feature_diff": max(diff, diff_files),
                "features_within_1e-4": max(diff, diff_files) <= 1e-4}
    return out


def metric_timings(device: str, n: int, n_cpu_prdc: int) -> dict:
    from genbench.metrics.fid import frechet_distance, gaussian_statistics
    from genbench.metrics.kid import kid
    from genbench.metrics.prdc import prdc

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, 2048)).astype(np.float64)
    b = (rng.standard_normal((n, 2048)) * 1.1 + 0.05).astype(np.float64)
    out = {"n": n, "dim": 2048}

    def timed(fn):
        _sync(device)
        t = time.perf_counter()
        value = fn()
        _sync(device)
        return time.perf_counter() - t, value

    for dev in ("cpu", device):
        ta, tb = torch.from_numpy(a).to(dev), torch.from_numpy(b).to(dev)
        t_fid, fid = timed(lambda: frechet_distance(*gaussian_statistics(ta), *gaussian_statistics(tb), device=dev).value)
        t_kid, k = timed(lambda: kid(ta, tb, subsets=100, subset_size=1000, seed=0, device=dev).value)
        m = n if dev != "cpu" else n_cpu_prdc
        t_prdc, p = timed(lambda: [r.value for r in prdc(ta[:m], tb[:m], k=5, device=dev)])
        out[dev] = {"fid_s": t_fid, "fid": float(fid), "kid_s": t_kid, "kid": float(k),
                    "prdc_s": t_prdc * (n / m) ** 2, "prdc_measured_at": m, "prdc": p}
    out["speedup"] = {k: out["cpu"][f"{k}_s"] / out[device][f"{k}_s"] for k in ("fid", "kid", "prdc")}
    return out


def training_speed(device: str, steps: int, tmp: Path) -> dict:
    ds = load_dataset("mnist-5k")
    out = {}
    for name in sorted(baselines.MODELS):
        if "image" not in baselines.MODELS[name].kinds:
            continue
        config = baselines.default_config(name, ds, profile="full")
        try:
            baselines.train(name, ds, out_dir=tmp / f"warm-{name}", config=config, steps=3, seed=0, device=device,
                            progress=False)
            _sync(device)
            t = time.perf_counter()
            baselines.train(name, ds, out_dir=tmp / f"speed-{name}", config=config, steps=steps, seed=0,
                            device=device, progress=False)
            _sync(device)
            dt = time.perf_counter() - t
            out[name] = {"steps": steps, "steps_per_s": steps / dt,
                         "note": "includes one checkpoint write; full-profile config on mnist-5k"}
        except Exception as exc:  # report and go on: one model must not hide the others' figures
            out[name] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="gpu-report.json")
    p.add_argument("--smoke", action="store_true", help="tiny sizes on the CPU (checks the script, not the GPU)")
    p.add_argument("--inception-weights", default=None)
    p.add_argument("--skip", action="append", default=[], choices=["determinism", "scores", "inception", "metrics", "training"])
    args = p.parse_args()
    if args.inception_weights:
        hub = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache/torch")) / "hub/checkpoints"
        hub.mkdir(parents=True, exist_ok=True)
        target = hub / "pt_inception-2015-12-05-6726825d.pth"
        if not target.exists():
            shutil.copyfile(args.inception_weights, target)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if args.smoke:
        device, sizes = "cpu", dict(det_steps=4, score_steps=4, score_n=200, inc_n=200, metric_n=2000, prdc_cpu=1000, train_steps=2)
    else:
        if not torch.cuda.is_available():
            print("no CUDA device: run with --smoke for a CPU check of the script", file=sys.stderr)
            return 2
        device, sizes = "cuda", dict(det_steps=300, score_steps=1000, score_n=5000, inc_n=20000, metric_n=50000,
                                     prdc_cpu=10000, train_steps=100)
    report = {"device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu", "torch": torch.__version__,
              "sizes": sizes}
    sections = {
        "determinism": lambda tmp: determinism(device, sizes["det_steps"], tmp),
        "scores": lambda tmp: cpu_vs_cuda_scores(device, sizes["score_steps"], sizes["score_n"], tmp),
        "inception": lambda tmp: inception_throughput(device, sizes["inc_n"], tmp),
        "metrics": lambda tmp: metric_timings(device, sizes["metric_n"], sizes["prdc_cpu"]),
        "training": lambda tmp: training_speed(device, sizes["train_steps"], tmp),
    }
    t0 = time.perf_counter()
    for name, fn in sections.items():
        if name in args.skip:
            continue
        t = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"genbench-gpu-{name}-") as tmp:
            try:
                report[name] = fn(Path(tmp))
            except Exception as exc:  # one section failing must not lose the others' figures
                report[name] = {"error": f"{type(exc).__name__}: {exc}"}
        report.setdefault("wall_s", {})[name] = time.perf_counter() - t
        print(f"== {name} ({time.perf_counter() - t:.1f} s)\n{json.dumps(report[name], indent=1, default=str)}", flush=True)
        Path(args.out).write_text(json.dumps(report, indent=1, default=str))
    print(f"total {time.perf_counter() - t0:.1f} s; report in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
