"""On a cluster every job of a dataset wants the same reference features at the same moment:
concurrent writers of one feature-cache entry (separate processes, as on separate nodes sharing
the filesystem) must all get the same features and leave one valid entry, nothing half-written."""

import hashlib
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from suite_fakes import make_image_dataset
from genbench.features.base import ExtractorIdentity
from genbench.stats import dataset_features

REPO = Path(__file__).resolve().parents[2]
HELPERS = REPO / "tests" / "helpers"

EXTRACTOR = '''
import time
import numpy as np
from genbench.features.base import ExtractorIdentity, Features

class SlowFake:
    """Features = per-image pixel statistics; slow enough that the writers overlap."""
    identity = ExtractorIdentity("fake-extractor", "0" * 64)
    feature_dim = 3
    def extract(self, batches, *, device=None, progress=True, total=None):
        rows = []
        for b in batches:
            x = np.asarray(b, dtype=np.float64).reshape(len(b), -1)
            rows.append(np.stack([x.mean(1), x.std(1), x.max(1)], 1))
            time.sleep(0.2)
        return Features(np.concatenate(rows), None, self.identity)
'''


class _Refuses:
    identity = ExtractorIdentity("fake-extractor", "0" * 64)

    def extract(self, *a, **kw):
        raise AssertionError("the cache entry should have been read, not recomputed")


@pytest.mark.slow
def test_concurrent_writers_of_one_reference_cache_entry(tmp_path):
    start = time.time() + 4.0  # every process past its imports before any starts extracting
    script = textwrap.dedent(f"""
        import hashlib, sys, time
        sys.path.insert(0, {str(HELPERS)!r})
        from suite_fakes import make_image_dataset
        from genbench.stats import dataset_features
    """) + EXTRACTOR + textwrap.dedent(f"""
        ds = make_image_dataset()
        time.sleep(max(0.0, {start!r} - time.time()))
        f = dataset_features(ds, "test", SlowFake(), batch_size=10, cache_dir={str(tmp_path / 'cache')!r}, progress=False)
        print(hashlib.sha256(f.features.tobytes()).hexdigest())
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(set(outs)) == 1 and len(outs[0]) == 64
    entries = list((tmp_path / "cache/features").iterdir())
    assert len(entries) == 1 and entries[0].suffix == ".npz"  # one entry, no temporary file left
    again = dataset_features(make_image_dataset(), "test", _Refuses(), batch_size=10,
                             cache_dir=tmp_path / "cache", progress=False)
    assert hashlib.sha256(again.features.tobytes()).hexdigest() == outs[0]
    x = make_image_dataset().split("test").samples.astype(np.float64).reshape(60, -1)
    assert np.allclose(again.features, np.stack([x.mean(1), x.std(1), x.max(1)], 1))  # the oracle
