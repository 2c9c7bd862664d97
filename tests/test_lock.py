"""The run lock: one holder at a time, even when several processes race to take over a stale lock."""

import errno
import json
import multiprocessing
import os
import socket
import subprocess
import sys

import pytest

from genbench.errors import GenbenchError
from genbench.lock import RunLock

TRIALS = 150
RACERS = 3


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _racer(directory, record, barrier, trials):
    for _ in range(trials):
        barrier.wait()
        lock = RunLock(directory)
        try:
            lock.acquire()
        except GenbenchError:
            pass
        else:
            # Record "holding" in the shared file while holding; O_APPEND lines do not interleave.
            fd = os.open(record, os.O_WRONLY | os.O_APPEND)
            os.write(fd, f"+{os.getpid()}\n".encode())
            os.sched_yield()
            os.write(fd, f"-{os.getpid()}\n".encode())
            os.close(fd)
            lock.release()
        barrier.wait()


def test_racing_takeover_of_a_stale_lock_never_gives_two_holders(tmp_path):
    ctx = multiprocessing.get_context("fork")
    record = tmp_path / "holders.txt"
    record.touch()
    dead = _dead_pid()
    stale = json.dumps({"pid": dead, "host": socket.gethostname(), "started": "long ago"})
    barrier = ctx.Barrier(RACERS + 1)
    procs = [ctx.Process(target=_racer, args=(tmp_path / "run", record, barrier, TRIALS)) for _ in range(RACERS)]
    (tmp_path / "run").mkdir()
    for p in procs:
        p.start()
    try:
        for _ in range(TRIALS):
            (tmp_path / "run" / ".lock").write_text(stale)  # left by a process killed with -9
            barrier.wait(timeout=60)
            barrier.wait(timeout=60)
    finally:
        for p in procs:
            p.join(timeout=60)
    assert all(p.exitcode == 0 for p in procs)
    holding, most, acquisitions = set(), 0, 0
    for line in record.read_text().split():
        if line[0] == "+":
            holding.add(line[1:])
            acquisitions += 1
        else:
            holding.discard(line[1:])
        most = max(most, len(holding))
    assert most == 1, "two processes held the lock at once"
    assert acquisitions >= TRIALS  # every trial's stale lock was taken over by someone


def test_live_holder_refused_with_one_line_and_released_lock_is_gone(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(GenbenchError, match=rf"in use by another genbench run \(pid {os.getpid()} ") as exc:
            RunLock(tmp_path).acquire()
        assert "\n" not in str(exc.value)
    assert not (tmp_path / ".lock").exists()
    with RunLock(tmp_path):  # and can be taken again
        pass


def test_out_dir_at_or_under_a_file_is_one_line_error(tmp_path):
    f = tmp_path / "results.txt"
    f.write_text("x")
    with pytest.raises(GenbenchError, match="results.txt is a file, not a directory"):
        RunLock(f).acquire()
    with pytest.raises(GenbenchError, match="is under .*results.txt, which is a file"):
        RunLock(f / "sub").acquire()


def test_full_disk_writing_the_lock_leaves_no_lock_file(tmp_path, monkeypatch):
    def full(fd, data, offset):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "pwrite", full)
    with pytest.raises(GenbenchError, match="cannot write the lock file .*No space left on device"):
        RunLock(tmp_path).acquire()
    assert not (tmp_path / ".lock").exists()
    monkeypatch.undo()
    with RunLock(tmp_path):
        pass


def test_genbench_train_takes_the_lock_of_its_out_dir(tmp_path, monkeypatch, capsys):
    import baselines
    import genbench.data
    from genbench.cli import main

    monkeypatch.setattr(genbench.data, "load_dataset", lambda name, data_root=None: object())
    monkeypatch.setattr(baselines, "default_config", lambda *a, **kw: None)
    held = []

    def train(model, dataset, *, out_dir, **kw):
        with pytest.raises(GenbenchError):  # a second training into this directory is refused meanwhile
            RunLock(out_dir).acquire()
        held.append(out_dir)
        return out_dir

    monkeypatch.setattr(baselines, "train", train)
    argv = ["train", "gan", "--dataset", "ring8", "--out", str(tmp_path / "ckpt"), "--no-progress"]
    assert main(argv) == 0 and held == [tmp_path / "ckpt"]
    with RunLock(tmp_path / "ckpt"):  # and a training while another holds it is refused in one line
        assert main(argv) == 2
    assert "is in use by another genbench" in capsys.readouterr().err and len(held) == 1
