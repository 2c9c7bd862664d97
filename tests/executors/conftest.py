"""One local Ray cluster (2 CPUs) for the whole test session: starting one costs ~8 s."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HELPERS = REPO / "tests" / "helpers"


@pytest.fixture(scope="session")
def ray_cluster():
    """The cluster's address; its workers import this checkout and the test helpers (fake backend)."""
    ray = pytest.importorskip("ray")
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "RAY_USAGE_STATS_ENABLED")}
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), str(HELPERS), *filter(None, [saved["PYTHONPATH"]])])
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    try:  # the raylet and its workers inherit this environment, drivers started later included
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(autouse=True)
def _workers_use_one_torch_thread(monkeypatch):
    """The tests compare workers' weights with a local run computed in this process, where
    tests/conftest.py sets one torch thread; a worker process (submitit's local executor, a Ray
    worker) must use the same thread count, or a resumed run can differ in the last bits (seen
    for a Slurm job requeued at step 100: CPU kernels may split work by thread count). Ray sets
    OMP_NUM_THREADS from a task's CPUs itself; submitit's local jobs inherit this environment."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
