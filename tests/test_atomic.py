"""Atomic writes: on a full disk the target is untouched, no temporary file is left, one-line error."""

import errno
import json
import os

import numpy as np
import pytest

from genbench import atomic
from genbench.errors import GenbenchError


def _full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_full_disk_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "result.json"
    atomic.write_json(target, {"fid": 1.0})
    monkeypatch.setattr(os, "fsync", _full_disk)  # ext4 reports a full disk at write or fsync time
    with pytest.raises(GenbenchError, match=r"^cannot write .*result.json: No space left on device$") as exc:
        atomic.write_json(target, {"fid": 2.0})
    assert isinstance(exc.value, OSError) and exc.value.errno == errno.ENOSPC
    assert json.loads(target.read_text()) == {"fid": 1.0}
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_full_disk_inside_the_block_cleans_up(tmp_path):
    target = tmp_path / "samples.npz"
    with pytest.raises(GenbenchError, match="No space left on device"):
        with atomic.atomic_path(target) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, x=np.zeros(3))
            _full_disk()
    assert list(tmp_path.iterdir()) == []


def test_target_is_a_directory_or_under_a_file(tmp_path):
    (tmp_path / "out.json").mkdir()
    with pytest.raises(GenbenchError, match="cannot write .*out.json"):
        atomic.write_json(tmp_path / "out.json", {})
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(GenbenchError, match="cannot write .*file/x.json"):
        atomic.write_json(tmp_path / "file" / "x.json", {})
