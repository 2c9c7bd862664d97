"""``genbench eval`` (score samples against a dataset, a source or a statistics file; or outputs
against their targets image by image: a folder paired by file name, or a super-resolution
translator on a folder of HR images) and ``genbench stats`` (write pytorch-fid compatible μ/Σ
statistics with genbench's provenance)."""

from __future__ import annotations

import argparse
import logging
import os
import re
from pathlib import Path

from genbench.errors import GenbenchError

log = logging.getLogger(__name__)

SOURCE_HELP = (
    "samples to score: a .npz/.npy array (uint8 images N×H×W, N×H×W×C or N×C×H×W; floats need "
    "--range; float N×2 = points), a folder of images (bmp, jpg, jpeg, pgm, png, ppm, tif, tiff, "
    "webp; read recursively), a TorchScript generator .pt, a genbench checkpoint folder, or a Python "
    "entry point package.module:function"
)


def _accept_negative_ranges(p: argparse.ArgumentParser) -> None:
    """Let ``--range -1,1`` parse: argparse takes any "-…" that is not a plain number for an option."""
    p._negative_number_matcher = re.compile(r"^-\d+$|^-\d*\.\d+$|^-\d*\.?\d*,-?\d*\.?\d+$")


def _add_source_options(p: argparse.ArgumentParser) -> None:
    _accept_negative_ranges(p)
    g = p.add_argument_group("how to read the samples")
    g.add_argument("--range", dest="value_range", metavar="LO,HI",
                   help="value range of float images: 0,1 or -1,1 (required for float images, never guessed)")
    g.add_argument("--latent-dim", type=int, metavar="D",
                   help="latent size of a generator (z ~ N(0, I) of shape B×D), if it does not declare latent_dim")
    g.add_argument("--resize", metavar="HxW", help="resize every image to H×W (PIL bicubic), e.g. 28x28")


def _add_run_options(p: argparse.ArgumentParser, *, n_default: int | None, n_help: str) -> None:
    p.add_argument("--extractor", metavar="NAME",
                   help="feature extractor (see `genbench extractors`); default: mnist-classifier for digit "
                        "datasets, inception-v3-fid otherwise")
    p.add_argument("--n", type=int, default=n_default, metavar="N", help=n_help)
    p.add_argument("--device", default="auto", metavar="cpu|cuda|auto", help="torch device (default auto: cuda if available)")
    p.add_argument("--batch-size", type=int, default=250, metavar="N", help="batch size for sampling and extraction")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the generator's latents and of resampling")
    p.add_argument("--data-root", metavar="DIR", help="where MNIST/raw lives (default $GENBENCH_DATA)")
    p.add_argument("--cache-dir", metavar="DIR", help="feature cache (default $GENBENCH_CACHE or ~/.cache/genbench)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")


def register(sub) -> None:
    p = sub.add_parser(
        "eval",
        help="score samples (FID, KID, IS, PRDC, Parzen, modes) against a dataset, a source or a stats file; "
             "or outputs against their targets (PSNR, SSIM) image by image with --targets",
        description="Score SOURCE against a dataset split (--dataset) or a reference (--reference: "
                    "another source, or a statistics .npz made by `genbench stats` or pytorch-fid, "
                    "which allows only fid and is). Prints a table; --json writes the full protocol.",
    )
    p.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    ref = p.add_mutually_exclusive_group(required=True)
    ref.add_argument("--dataset", metavar="NAME", help="dataset to compare with (see `genbench datasets`)")
    ref.add_argument("--reference", metavar="OTHER", help="another source, or a statistics .npz (mu, sigma)")
    ref.add_argument("--targets", metavar="DIR",
                     help="a folder of target images: SOURCE is a folder of outputs paired with them by file name "
                          "(sizes may differ from pair to pair), or, with --task srN, a translator given LR images "
                          "made from these HR images; each pair is scored, then averaged over images")
    p.add_argument("--split", default="test", help="dataset split to compare with (default test)")
    p.add_argument("--metrics", metavar="LIST",
                   help="comma-separated, from fid,kid,is,prdc,parzen,modes (default: fid,kid,is,prdc for "
                        "images, modes for points; fid with a statistics file; psnr,ssim with --targets)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="B",
                   help="FID bootstrap resamples for its std and 95%% CI (default 0: none)")
    p.add_argument("--json", metavar="OUT", help="write the result with its full protocol to this JSON file")
    _add_run_options(p, n_default=10000, n_help="number of generated samples, and at most as many real ones "
                     "(default 10000; a stored source or split with fewer is used whole, with a warning)")
    _add_source_options(p)
    p.add_argument("--reference-range", metavar="LO,HI", help="like --range, for a float-array --reference")
    g = p.add_argument_group("paired images (--targets)")
    g.add_argument("--task", metavar="srN",
                   help="super-resolution by N: HR targets trimmed to a multiple of N (right/bottom, MATLAB "
                        "modcrop); a translator gets LR = MATLAB-bicubic HR ×1/N (uint8) and must return N× it; "
                        "defaults --y-channel and --crop-border N")
    g.add_argument("--crop-border", type=int, metavar="K",
                   help="pixels cut from each border before scoring (default: N with --task srN, else 0)")
    g.add_argument("--y-channel", action=argparse.BooleanOptionalAction, default=None,
                   help="score RGB images on their BT.601 luma (grey images on grey values); default: on with "
                        "--task srN, else off (--no-y-channel scores every RGB channel)")
    p.set_defaults(func=run_eval)

    s = sub.add_parser(
        "stats",
        help="write reference statistics (mu, sigma) of a dataset split or a source, like pytorch-fid --save-stats",
        description="Compute the mean and covariance of the extractor's features and save them as a .npz "
                    "readable by pytorch-fid (keys mu, sigma) with genbench's provenance keys.",
    )
    s.add_argument("source", metavar="SOURCE", nargs="?", help=SOURCE_HELP)
    s.add_argument("--dataset", metavar="NAME", help="dataset instead of SOURCE")
    s.add_argument("--split", default="test", help="dataset split (default test)")
    s.add_argument("--out", required=True, metavar="STATS.npz", help="output file")
    _add_run_options(s, n_default=None, n_help="number of samples (default: the whole split or every stored "
                     "sample; a generator needs it)")
    _add_source_options(s)
    s.set_defaults(func=run_stats)


def check_output_path(path: str | os.PathLike, option: str) -> Path:
    """Refuse an output file that cannot be written *before* minutes of evaluation, not after:
    a directory, a path under a file, or a folder without write permission."""
    path = Path(path)
    if path.is_dir():
        raise GenbenchError(f"{option} {path}: is a directory; give a file name, e.g. {path / 'result.json'}")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:  # missing folders are created when writing
        parent = parent.parent
    if not parent.is_dir():
        raise GenbenchError(f"{option} {path}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise GenbenchError(f"{option} {path}: no permission to write there")
    return path


def _save(write, path, option: str) -> None:
    """The pre-check cannot foresee a full disk or a folder that vanished meanwhile."""
    try:
        write(path)
    except OSError as exc:
        raise GenbenchError(f"{option} {path}: cannot write it ({exc.strerror or exc})") from exc


def _open(spec, args, value_range, device):
    from genbench.sources import open_source

    return open_source(spec, value_range=value_range, latent_dim=args.latent_dim, resize=args.resize, device=device)


def run_eval(args: argparse.Namespace) -> int:
    from genbench.device import resolve_device
    from genbench.evaluate import _is_stats_file, evaluate, parse_metrics

    if args.targets is not None:
        return _run_paired(args)
    given = [o for o, v in (("--task", args.task), ("--crop-border", args.crop_border), ("--y-channel", args.y_channel))
             if v is not None]
    if given:
        raise GenbenchError(f"{given[0]} applies with --targets DIR (outputs scored against their targets image by "
                            "image); a dataset's own task sets its protocol")
    metrics = parse_metrics(args.metrics)  # unknown names fail before any loading
    if args.dataset and args.reference_range:
        raise GenbenchError("--reference-range applies only with --reference")
    if args.json:
        check_output_path(args.json, "--json")
    device = resolve_device(args.device)
    source = _open(args.source, args, args.value_range, device)
    reference = None
    if args.reference is not None:
        if _is_stats_file(args.reference):
            if args.reference_range:
                raise GenbenchError(f"--reference-range does not apply: {args.reference} holds statistics, not samples")
            reference = args.reference
        else:
            from genbench.sources import open_source

            reference = open_source(args.reference, value_range=args.reference_range, resize=args.resize,
                                    device=device)
    # evaluate() returns its warnings instead of logging them; format_table prints them once.
    result = evaluate(
        source, dataset=args.dataset, split=args.split, reference=reference, metrics=metrics, n=args.n,
        extractor=args.extractor, device=device, batch_size=args.batch_size, seed=args.seed,
        data_root=args.data_root, cache_dir=args.cache_dir, progress=args.progress, bootstrap=args.bootstrap,
    )
    print(result.format_table())
    if args.json:
        _save(result.save_json, args.json, "--json")
        print(f"\nwrote {args.json}")
    return 0


def _run_paired(args: argparse.Namespace) -> int:
    """Outputs against targets image by image: a folder of outputs, or an SR translator (--task srN)."""
    from genbench.device import resolve_device
    from genbench.imaging.sr import parse_sr_task
    from genbench.paired import PairProtocol, evaluate_folders, evaluate_sr_translator, format_pair_table, pair_metric_specs
    from genbench.sources.checkpoint import is_checkpoint_dir

    for option, value in (("--resize", args.resize), ("--latent-dim", args.latent_dim), ("--extractor", args.extractor),
                          ("--reference-range", args.reference_range), ("--bootstrap", args.bootstrap or None)):
        if value is not None:
            raise GenbenchError(f"{option} does not apply with --targets (pairs are scored at their own size, "
                                "with pair metrics only)")
    try:
        scale = parse_sr_task(args.task) if args.task is not None else None
    except GenbenchError as exc:
        raise GenbenchError(f"{exc}; --targets scores super-resolution only (other tasks: a --dataset)") from None
    protocol = PairProtocol.make(scale, args.y_channel, args.crop_border)
    pair_metric_specs(args.metrics, protocol)  # unknown or unpaired metrics fail before any reading
    if args.json:
        check_output_path(args.json, "--json")
    device = resolve_device(args.device)
    source = Path(args.source)
    if source.is_dir() and not is_checkpoint_dir(source):
        if args.value_range is not None:
            raise GenbenchError(f"--range does not apply: {source} is a folder of 8-bit images")
        result = evaluate_folders(source, args.targets, metrics=args.metrics, protocol=protocol, device=device)
    else:
        if scale is None:
            raise GenbenchError(f"{args.source} is not a folder of outputs; a translator scored against --targets needs "
                                "--task srN, which makes its LR inputs from the targets (other tasks: --dataset)")
        result = evaluate_sr_translator(args.source, args.targets, scale=scale, metrics=args.metrics,
                                        protocol=protocol, value_range=args.value_range, device=device)
    print(format_pair_table(result))
    if args.json:
        _save(result.save_json, args.json, "--json")
        print(f"\nwrote {args.json}")
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from genbench.device import resolve_device
    from genbench.evaluate import compute_reference_stats

    if (args.source is None) == (args.dataset is None):
        raise GenbenchError("give either SOURCE or --dataset NAME (not both)")
    if not str(args.out).endswith(".npz"):
        raise GenbenchError(f"--out {args.out}: statistics are written as .npz (pytorch-fid's format)")
    check_output_path(args.out, "--out")
    device = resolve_device(args.device)
    source = None if args.source is None else _open(args.source, args, args.value_range, device)
    stats = compute_reference_stats(
        source, dataset=args.dataset, split=args.split, extractor=args.extractor, n=args.n, device=device,
        batch_size=args.batch_size, seed=args.seed, data_root=args.data_root, cache_dir=args.cache_dir,
        progress=args.progress,
    )
    _save(stats.save_npz, args.out, "--out")
    print(f"wrote {args.out}: mu {tuple(stats.mu.shape)}, sigma {tuple(stats.sigma.shape)}, n={stats.n}, "
          f"extractor {stats.extractor.get('name') if stats.extractor else '?'}")
    return 0
