"""Interrupting a remote training job part-way, for the executors' resume tests."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

# A real toy2d GAN that checkpoints every 100 of its 700 steps: long enough to be interrupted
# between checkpoints, short enough for a test.
TOY_SUITE = """\
name: {name}
dataset: ring8
seeds: [0]
models:
  - model: gan
    overrides: {{checkpoint_every: 100, log_every: 10}}
steps: 700
evaluation:
  n: 500
  split: test
  real_split: train
  metrics: [modes]
"""


def signal_mid_training(job_dir: Path, sig: int, record: dict, *, first: int = 100, last: int = 700,
                        timeout_s: float = 120.0) -> threading.Thread:
    """Start a thread that waits until the job's checkpoint lies in [first, last), then sends
    ``sig`` to its worker (pid in ``job_dir/.worker.pid``); ``record`` gets the step and pid."""

    def watch() -> None:
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            cfg = next(iter(job_dir.glob("train-*/config.json")), None)
            try:
                step = json.loads(cfg.read_text())["step"] if cfg else 0
            except (OSError, ValueError):  # a checkpoint being written
                step = 0
            if first <= step < last:
                record["step"] = step
                record["pid"] = int((job_dir / ".worker.pid").read_text())
                os.kill(record["pid"], sig)
                return
            time.sleep(0.02)

    thread = threading.Thread(target=watch)
    thread.start()
    return thread
