"""``genbench metrics``, ``genbench datasets``, ``genbench extractors``: what is available, one line each."""

from __future__ import annotations

import argparse


_ARROW = {True: "↑", False: "↓", None: ""}


def _table(rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns; the last column is free text and is not padded."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join([c.ljust(w) for c, w in zip(r, widths)] + [r[-1]]) for r in rows)


def metric_rows() -> list[tuple[str, ...]]:
    """One row per registered metric: name, columns with their better direction (↑ higher,
    ↓ lower is better), data kinds with the inputs each needs, description."""
    # Here, not at the top: the CLI imports every command module at start, and the metric
    # registry imports the metric library (torch).
    from genbench.metrics import registry

    rows = [("metric", "columns (↑ higher, ↓ lower is better)", "data: inputs", "description")]
    for m in registry.METRICS.values():
        rows.append((m.name, " ".join(c.name + _ARROW[c.higher_is_better] for c in m.columns),
                     "; ".join(f"{k}: {'+'.join(m.inputs_for(k))}" for k in m.kinds)
                     + (" (+ dataset)" if m.needs_dataset else ""),
                     m.description))
    return rows


def list_metrics(args: argparse.Namespace) -> int:
    print(_table(metric_rows()))
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
    sub.add_parser("metrics", help="list the metrics: their columns, better directions, data and inputs",
                   description="List every registered metric (third-party ones included) with the "
                               "leaderboard columns it produces and which direction of each is better, "
                               "the data kinds it scores and the inputs it needs, and what it measures.").set_defaults(func=list_metrics)
    sub.add_parser("datasets", help="list the datasets",
                   description="List the datasets genbench can load by name.").set_defaults(func=list_datasets)
    sub.add_parser("extractors", help="list the feature extractors",
                   description="List the feature extractors FID/KID/IS/PRDC can use.").set_defaults(func=list_extractors)
