"""``genbench metrics``, ``genbench datasets``, ``genbench extractors``: what is available, one line each."""

from __future__ import annotations

import argparse


def _direction(higher_is_better: bool | None) -> str:
    return {True: "higher is better", False: "lower is better", None: "no better direction"}[higher_is_better]


def _table(rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns; the last column is free text and is not padded."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join([c.ljust(w) for c, w in zip(r, widths)] + [r[-1]]) for r in rows)


def list_metrics(args: argparse.Namespace) -> int:
    from genbench.metrics import METRICS

    print(_table([(m.name, _direction(m.higher_is_better), m.description) for m in METRICS.values()]))
    return 0


def list_datasets(args: argparse.Namespace) -> int:
    from genbench.data import DATASETS

    print(_table([(d.name, d.kind, d.extractor or "-", d.description) for d in DATASETS.values()]))
    return 0


def list_extractors(args: argparse.Namespace) -> int:
    from genbench.features import EXTRACTORS

    print(_table([(e.name, e.description) for e in EXTRACTORS.values()]))
    return 0


def register(sub) -> None:
    sub.add_parser("metrics", help="list the metrics, what they measure and which direction is better",
                   description="List every metric genbench reports with a one-line description and "
                               "whether higher or lower is better.").set_defaults(func=list_metrics)
    sub.add_parser("datasets", help="list the built-in datasets",
                   description="List the datasets genbench can load by name.").set_defaults(func=list_datasets)
    sub.add_parser("extractors", help="list the feature extractors",
                   description="List the feature extractors FID/KID/IS/PRDC can use.").set_defaults(func=list_extractors)
