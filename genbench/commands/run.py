"""``genbench run SUITE``: train, sample and evaluate every model of a suite, then render its leaderboard."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from genbench.atomic import check_dir
from genbench.executors import make_executor
from genbench.suite import load_suite

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run a benchmark suite (train → sample → evaluate, cached) and render its leaderboard",
        description="Run every (model × seed) job of a suite YAML. Each step is cached by a hash of its "
        "config and inputs, so a rerun only does what changed; an interrupted run resumes. "
        "The leaderboard lands in reports/<suite>/index.html.",
    )
    p.add_argument("suite", help="suite YAML file, e.g. suites/mnist.yaml")
    p.add_argument("--profile", choices=("quick", "full"), default="quick",
                   help="quick: sized for a 2-core CPU (default); full: paper-sized, for a GPU")
    p.add_argument("--only", action="append", metavar="MODEL", help="run only this model label (repeatable)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda (default: auto)")
    p.add_argument("--jobs", type=int, default=1, help="jobs run at once (threads; useful on a GPU) (default: 1)")
    p.add_argument("--executor", choices=("local", "ray", "slurm"), default="local",
                   help="where jobs run: local (this process; default), ray (one Ray task per job), "
                   "slurm (one Slurm job per job, via submitit)")
    p.add_argument("--ray-address", default=None, metavar="auto|ray://HOST:PORT",
                   help="Ray cluster to use (default: start a local one)")
    p.add_argument("--ray-num-cpus", type=float, default=None, help="CPUs each Ray task reserves (default: 1)")
    p.add_argument("--ray-no-shared-fs", action="store_true",
                   help="Ray workers do not see --out: job files travel as bytes and the driver writes them")
    p.add_argument("--gpu-wait", type=float, default=None, metavar="S",
                   help="how long a CUDA job waits for a GPU on the Ray cluster before failing (default: 60)")
    p.add_argument("--slurm-partition", default=None)
    p.add_argument("--slurm-gpus-per-job", type=int, default=None, help="(default: 1 for CUDA jobs, else 0)")
    p.add_argument("--slurm-time", type=int, default=None, metavar="MIN", help="time limit per job in minutes (default: 240)")
    p.add_argument("--slurm-account", default=None)
    p.add_argument("--out", default=None, help="run directory (default: runs/<suite name>)")
    p.add_argument("--report-dir", default=None, help="where index.html goes (default: reports/<suite name>)")
    p.add_argument("--no-report", action="store_true", help="do not render the leaderboard")
    p.add_argument("--data-root", default=None,
                   help="where dataset files live, and the folders a suite's srN:* / folder:*?size=N entries find "
                   "(default: $GENBENCH_DATA)")
    p.add_argument("--cache-dir", default=None, help="feature/statistics cache (default: $GENBENCH_CACHE or ~/.cache/genbench)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (they are off anyway with --jobs > 1)")
    p.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    # Imported here: they pull in torch (runner, device) or pandas (report), which every other
    # genbench command would then pay for at startup.
    from genbench.device import resolve_device
    from genbench.report import render_report
    from genbench.runner import Runner

    suite = load_suite(args.suite, args.profile, data_root=args.data_root)
    if args.device not in ("auto", None):
        resolve_device(args.device)  # explicit cuda without CUDA: fail now, not in every job
    out = Path(args.out) if args.out else Path("runs") / suite.name
    report_dir = Path(args.report_dir) if args.report_dir else Path("reports") / suite.name
    check_dir(out, "--out")
    if not args.no_report:
        check_dir(report_dir, "--report-dir")  # now, not after hours of training
    runner = Runner(suite, out, device=args.device, jobs=args.jobs, only=args.only, cache_dir=args.cache_dir,
                    data_root=args.data_root, progress=not args.no_progress, executor=_executor(args))
    summary = runner.run()
    n_ok = len(summary.outcomes) - len(summary.failed)
    print(f"genbench run: {n_ok}/{len(summary.outcomes)} jobs finished in {summary.wall_time_s:.1f} s; results in {out}")
    if not args.no_report:
        html = render_report(out, report_dir)
        print(f"leaderboard: {html.resolve()}")
    for o in summary.failed:
        print(f"\nFAILED {o.job.id}: {o.error}\n  log: {o.log_path}")
        for line in _tail(o.log_path, 25):
            print(f"  | {line}")
    if summary.failed:
        print(f"\n{len(summary.failed)} job(s) failed; the others' results are kept. Fix and rerun: finished steps are cached.")
        return 1
    return 0


def _executor(args: argparse.Namespace):
    """The executor the command line asks for (options not given keep the executor's defaults).

    Read with getattr: callers that build ``args`` by hand (older scripts, tests) mean ``local``.
    """
    opt = lambda name: getattr(args, name, None)  # noqa: E731
    if opt("executor") in (None, "local"):
        return make_executor("local", jobs=opt("jobs") or 1)
    if opt("executor") == "ray":
        return make_executor("ray", address=opt("ray_address"), num_cpus=opt("ray_num_cpus"),
                             gpu_wait_s=opt("gpu_wait"), shared_fs=False if opt("ray_no_shared_fs") else None)
    return make_executor("slurm", partition=opt("slurm_partition"), gpus_per_job=opt("slurm_gpus_per_job"),
                         time_min=opt("slurm_time"), account=opt("slurm_account"))


def _tail(path: Path | None, n: int) -> list[str]:
    if path is None:
        return []
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:]
    except OSError:
        return []
