"""``genbench report``, ``genbench compare`` and ``genbench gate``: reading finished results."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from genbench import atomic
from genbench.errors import GenbenchError

# The CLI imports every command module to build its parser, so the heavy modules (pandas via
# genbench.results, torch via the metric registry the gate reads) are imported by the commands.


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="re-render a run directory's HTML leaderboard",
                       description="Render index.html (self-contained) and summary.json from a run directory.")
    p.add_argument("run_dir", help="a run directory written by `genbench run` (e.g. runs/mnist)")
    p.add_argument("--out", default=None, help="output directory (default: reports/<suite name>)")
    p.add_argument("--format", action="append", choices=("html", "md", "csv", "latex"), default=None,
                   help="html (index.html + summary.json, the default), md, csv or latex (booktabs) writes "
                   "leaderboard.md/.csv/.tex with the same rounded numbers; repeatable")
    p.set_defaults(func=report_command)

    p = sub.add_parser("compare", help="two result sets side by side, with deltas against the measured noise",
                       description="A and B are run directories, summary.json files or job result.json files.")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--markdown", default=None, help="also write the table as Markdown to this file")
    p.add_argument("--html", default=None, metavar="OUT",
                   help="also write a self-contained HTML page: deltas coloured by the noise rule, the changed models' "
                   "samples side by side (when A and B are run directories)")
    p.set_defaults(func=compare_command)

    p = sub.add_parser(
        "gate", help="CI gate: exit 1 when the current results regress against a baseline",
        description="Exit 0 when every rule holds, 1 on a regression, 2 when the results were measured under a "
        "different protocol (dataset fingerprint, extractor, sample count) and cannot be compared. "
        "Rules: [MODEL:]METRIC<=TOL or METRIC>=TOL, TOL like +5%% (relative), +2.0 (absolute) or +2sigma "
        "(measured noise); 'fid<=+5%%|2sigma' allows the larger. Default: every metric may get worse by at "
        "most max(5%%, 2 sigma).",
    )
    p.add_argument("--baseline", required=True, help="baseline summary JSON (e.g. reports/baselines/mnist.json) or run dir")
    p.add_argument("--current", required=True, help="run directory or summary JSON to check")
    p.add_argument("--rule", action="append", default=None, help="a rule (repeatable); replaces the default rules")
    p.add_argument("--markdown", default=None,
                   help="write the Markdown summary here (default: $GITHUB_STEP_SUMMARY when set, appended)")
    p.set_defaults(func=gate_command)


def report_command(args: argparse.Namespace) -> int:
    from genbench.report import render_report, write_table
    from genbench.results import load_run

    run = load_run(args.run_dir)
    out = Path(args.out) if args.out else Path("reports") / (run.suite.get("name") or Path(args.run_dir).name)
    for fmt in dict.fromkeys(args.format or ["html"]):
        path = render_report(args.run_dir, out) if fmt == "html" else write_table(args.run_dir, out, fmt)
        print(f"leaderboard{'' if fmt == 'html' else ' (' + fmt + ')'}: {path.resolve()}")
    if run.missing:
        print(f"note: {len(run.missing)} planned job(s) have no result yet")
    return 0


def compare_command(args: argparse.Namespace) -> int:
    from genbench.gate import COMPARE_HEADER, compare, compare_rows, markdown_table, text_table
    from genbench.results import load_summary

    a, b = load_summary(args.a), load_summary(args.b)
    deltas, diffs = compare(a, b)
    for d in diffs:
        print(f"WARNING: protocols differ: {d}")
    rows = compare_rows(deltas)
    print(f"A = {args.a}\nB = {args.b}\n")
    print(text_table(COMPARE_HEADER, rows))
    n_sig = sum(d.significant for d in deltas)
    print(f"\n{n_sig} of {len(deltas)} differences exceed 2σ of the measured noise")
    if args.markdown:
        _write_md(args.markdown, markdown_table(COMPARE_HEADER, rows) + "\n", append=False)
    if args.html:
        from genbench.report.compare import render_compare

        try:
            path = render_compare(args.a, args.b, args.html)
        except OSError as exc:
            raise GenbenchError(f"--html {args.html}: cannot write the page ({exc.strerror or exc})") from None
        print(f"compare page: {Path(path).resolve()}")
    return 0


def gate_command(args: argparse.Namespace) -> int:
    from genbench.gate import GATE_HEADER, ProtocolMismatch, gate_rows, markdown_table, parse_rule, run_gate, text_table
    from genbench.results import load_summary

    rules = [parse_rule(r) for r in args.rule] if args.rule else None
    baseline, current = load_summary(args.baseline), load_summary(args.current)
    md_path = args.markdown or os.environ.get("GITHUB_STEP_SUMMARY")
    try:
        result = run_gate(baseline, current, rules)
    except ProtocolMismatch as exc:
        if md_path:
            try:
                _write_md(md_path, f"## genbench gate: refused\n\n```\n{exc}\n```\n", append=not args.markdown)
            except GenbenchError as md_error:  # the refusal is the message that matters here
                print(f"genbench gate: warning: {md_error}", file=sys.stderr)
        raise
    rows = gate_rows(result)
    print(text_table(GATE_HEADER, rows))
    n_missing = sum(1 for c in result.failures if c.note)
    verdict = "PASSED" if result.passed else (
        f"FAILED: {len(result.failures) - n_missing} regression(s)"
        + (f", {n_missing} result(s) missing from the current run" if n_missing else ""))
    print(f"\ngenbench gate {verdict} ({len(result.checks)} checks; baseline {args.baseline}, current {args.current})")
    if result.ignored:
        print(f"note: {len(result.ignored)} current result(s) have no baseline and were not checked")
    if md_path:
        icon = "✅" if result.passed else "❌"
        md = (f"## {icon} genbench gate {verdict}\n\nBaseline `{args.baseline}` "
              f"(suite {baseline.get('suite')}, commit {baseline.get('provenance', {}).get('git_commit')}) vs current "
              f"`{args.current}`.\n\n{markdown_table(GATE_HEADER, rows)}\n")
        if args.markdown:
            _write_md(md_path, md, append=False)  # asked for by name: failing to write it is an error
        else:
            try:
                _write_md(md_path, md, append=True)
            except GenbenchError as exc:  # CI's step summary is a nicety; the verdict is the exit code
                print(f"genbench gate: warning: {exc}; the verdict above stands", file=sys.stderr)
    return 0 if result.passed else 1


def _write_md(path: str, text: str, *, append: bool) -> None:
    """Write (or, for $GITHUB_STEP_SUMMARY, append) Markdown; a filesystem error is one line."""
    try:
        if append:  # $GITHUB_STEP_SUMMARY collects several steps' output
            with open(path, "a", encoding="utf-8") as f:
                f.write(text + "\n")
        else:
            atomic.write_text(path, text)
    except OSError as exc:
        source = "$GITHUB_STEP_SUMMARY" if append else "--markdown"
        raise GenbenchError(f"{source} {path}: cannot write the Markdown summary ({exc.strerror or exc})") from None



