"""The ``genbench`` command line. Each sub-command lives in its own module under
``genbench.commands`` and adds itself with ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

import genbench
from genbench.errors import GenbenchError

# One module per group of sub-commands, in the order ``genbench --help`` lists them.
COMMAND_MODULES = (
    "genbench.commands.run",  # run
    "genbench.commands.eval",  # eval, stats
    "genbench.commands.train",  # train, models
    "genbench.commands.report",  # report, compare, gate
    "genbench.commands.catalog",  # metrics, datasets, extractors
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genbench",
        description="Benchmark and evaluate generative models: train reference baselines, "
        "score samples (FID, KID, IS, Parzen, mode coverage, PSNR/SSIM, PRDC), render leaderboards.",
    )
    parser.add_argument("--version", action="version", version=f"genbench {genbench.__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (GenbenchError, ValueError) as exc:
        print(f"genbench {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a path under a file, no permission: the machine, not a bug
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"genbench {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"genbench {args.command}: interrupted; finished results are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
