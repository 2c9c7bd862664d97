"""``genbench train`` (one reference baseline into a resumable checkpoint) and ``genbench models``."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import yaml

from genbench.errors import GenbenchError
from genbench.lock import LOCK_NAME, RunLock
from genbench.profiles import PROFILES


def parse_set(items: list[str] | None) -> dict:
    """``key=value`` strings → dict; values are YAML scalars/flow lists (``1e-3``, ``true``, ``[128, 128]``).

    Only parsing happens here: the values are checked by ``apply_overrides``, the one override path.
    """
    out: dict = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise GenbenchError(f"--set expects key=value, got {item!r}")
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except (yaml.YAMLError, ValueError, RecursionError) as exc:  # ValueError: an int too long to convert
            raise GenbenchError(f"--set {key}: cannot parse value {raw[:40]!r} ({str(exc).splitlines()[0]})") from None
        if isinstance(value, str):  # YAML 1.1 reads 1e-3 (no dot) as a string
            try:
                value = float(value)
            except ValueError:
                pass
        out[key] = value
    return out


def default_out_dir(model: str, dataset: str, seed: int, profile: str | None) -> Path:
    suffix = "" if profile in (None, "quick") else f"_{profile}"
    # a folder dataset's name holds a path (folder:/data/celeba?size=64): one directory name of it
    dataset = re.sub(r"[^A-Za-z0-9._-]+", "_", dataset).strip("_.")
    return Path("runs") / "train" / f"{model}_{dataset}_seed{seed}{suffix}"


def run_train(args: argparse.Namespace) -> int:
    import baselines
    from genbench.data import load_dataset

    baselines.get_spec(args.model)  # unknown model → error listing the models, before loading data
    overrides = parse_set(args.set)
    dataset = load_dataset(args.dataset, data_root=args.data_root)
    out = Path(args.out) if args.out else default_out_dir(args.model, args.dataset, args.seed, args.profile)
    created = not out.exists()
    try:
        with RunLock(out, what="genbench train"):  # two trainings into one directory would corrupt it
            config = None
            if args.profile is not None or not baselines.has_checkpoint(out):
                config = baselines.default_config(args.model, dataset, args.profile or "quick")
            path = baselines.train(args.model, dataset, out_dir=out, config=config, overrides=overrides,
                                   steps=args.steps, seed=args.seed, device=args.device, progress=not args.no_progress)
    except GenbenchError:
        if created:  # refused before writing anything: leave no folder holding only the lock behind
            _remove_if_only_lock(out)
        raise
    print(f"checkpoint: {path}")
    return 0


def _remove_if_only_lock(out: Path) -> None:
    try:
        if {p.name for p in out.iterdir()} <= {LOCK_NAME}:
            (out / LOCK_NAME).unlink(missing_ok=True)
            out.rmdir()
    except OSError:
        pass  # another process wrote there meanwhile: keep it


def list_models(args: argparse.Namespace) -> int:
    import baselines

    rows = [("name", "data", "conditioning", "translate", "paper")]
    for info in baselines.MODELS.values():
        rows.append((info.name, ",".join(info.kinds), info.conditioning, "yes" if info.can_translate else "no", info.paper))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    print("\n".join("  ".join([c.ljust(w) for c, w in zip(r, widths)] + [r[-1]]) for r in rows))
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "train", help="train a reference baseline (resumes a checkpoint found in --out)",
        description="Train one reference baseline on a dataset. The checkpoint directory (safetensors + "
                    "config.json + train_log.jsonl) is a valid `genbench eval` source. Running the same "
                    "command again resumes an interrupted run; a different config is refused.",
    )
    p.add_argument("model", help="model name (see `genbench models`)")
    p.add_argument("--dataset", required=True, help="dataset name (see `genbench datasets`)")
    p.add_argument("--steps", type=int, default=None, help="total training steps (default: the profile's)")
    p.add_argument("--seed", type=int, default=0, help="seed for initialisation, data order and noise (default 0)")
    p.add_argument("--device", default="auto", help="cpu | cuda | cuda:N | auto (default: cuda when available)")
    p.add_argument("--out", default=None, help="checkpoint directory (default runs/train/MODEL_DATASET_seedS)")
    p.add_argument("--profile", choices=PROFILES, default=None,
                   help="quick = sized for a 2-core CPU (default for a new run), full = the paper's sizes")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a config field (YAML value, e.g. --set lr_g=1e-3 --set g_hidden=[128,128])")
    p.add_argument("--data-root", default=None, help="where datasets are stored (default: genbench's)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_train)
    sub.add_parser("models", help="list the baseline models and their papers",
                   description="List the reference baselines `genbench train` can train.").set_defaults(func=list_models)
