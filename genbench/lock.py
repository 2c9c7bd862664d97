"""One process per output directory (``genbench run`` and ``genbench train``).

The lock is an ``fcntl.flock`` on ``DIR/.lock``, not the file's existence: the kernel drops a
flock when its process dies (``kill -9`` included), so taking over a stale lock is one atomic
system call and two processes can never both win the race for it (an "is the pid alive? then
unlink and recreate" takeover can: both see the stale file, one unlinks the other's new one).
The file's content (pid, host, start time) only serves the error message.

A holder unlinks the file before it lets go, so another process may have the old inode open
and lock it after the unlink; every acquirer therefore checks that the inode it locked is still
the one at ``DIR/.lock`` and retries otherwise.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path

from genbench.atomic import check_dir
from genbench.errors import GenbenchError

log = logging.getLogger(__name__)

LOCK_NAME = ".lock"


class RunLock:
    """Exclusive use of ``out_dir`` by this process; ``with RunLock(d): ...``.

    ``what`` names the holder in the message another process gets ("genbench run", "genbench train").
    """

    def __init__(self, out_dir: str | os.PathLike, *, what: str = "genbench run"):
        self.path = Path(out_dir) / LOCK_NAME
        self.what = what
        self.held = False
        self._fd: int | None = None

    def acquire(self) -> None:
        _make_dir(self.path.parent)
        for _ in range(100):  # each retry means a holder unlinked the file under us: rare
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise GenbenchError(f"cannot create the lock file {self.path}: {exc.strerror or exc}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise GenbenchError(
                    f"{self.path.parent} is in use by another {holder.get('command', 'genbench process')} (pid {holder.get('pid', '?')} on "
                    f"{holder.get('host', '?')}, started {holder.get('started', '?')}); wait for it to finish "
                    f"or use another output directory"
                ) from None
            if not _same_file(fd, self.path):
                os.close(fd)  # the holder we waited for unlinked it: lock the new one
                continue
            previous = _read_holder(fd)
            if previous:
                log.warning("taking over the stale lock %s left by pid %s on %s (started %s)", self.path,
                            previous.get("pid", "?"), previous.get("host", "?"), previous.get("started", "?"))
            me = {"command": self.what, "pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            try:
                os.ftruncate(fd, 0)
                data = json.dumps(me).encode()
                if os.pwrite(fd, data, 0) != len(data):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            except OSError as exc:
                self._fd = fd
                self._unlock()  # no empty lock file left behind
                raise GenbenchError(f"cannot write the lock file {self.path}: {exc.strerror or exc}") from None
            self._fd = fd
            self.held = True
            return
        raise GenbenchError(f"could not take the lock {self.path}: other processes keep replacing it")

    def release(self) -> None:
        if self.held:
            self._unlock()
            self.held = False

    def _unlock(self) -> None:
        try:
            self.path.unlink()  # while still locked: see the module docstring
        except OSError:
            pass
        os.close(self._fd)  # closing drops the flock
        self._fd = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _make_dir(path: Path) -> None:
    """Create the output directory, or say in one line why it cannot be one."""
    check_dir(path, "output directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GenbenchError(f"cannot create the output directory {path}: {exc.strerror or exc}") from None


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def _read_holder(fd: int) -> dict:
    """The holder info in the lock file, or {} (empty, garbage, being written)."""
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}
