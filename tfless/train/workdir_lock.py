"""One training process per workdir: an OS-level lock on ``workdir/lock``.

Two processes training into one workdir overwrite each other's checkpoints (the step in
``checkpoints/checkpoint`` goes backwards) and leave a metrics file, a checkpoint and a
history from different processes. :class:`WorkdirLock` takes ``fcntl.flock`` on a lock
file: the kernel releases it when the holder exits, however it exits (``kill -9``
included), so a stale lock never blocks a restart. The file also records the holder's
PID and host, for the message that refuses a second process.

``flock`` locks are not shared over every network file system; on those the lock only
guards against processes of the same host.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import socket

#: The lock file inside a workdir.
LOCK_FILE = "lock"


class WorkdirLocked(ValueError):
    """Another live process holds the workdir (a usage error: pick another workdir).

    Attributes:
      holder: the holder's record (``pid``, ``host``, ``started``), ``{}`` if unreadable.
    """

    def __init__(self, message: str, holder: dict):
        super().__init__(message)
        self.holder = holder


def read_holder(workdir: str) -> dict:
    """The record the last holder of ``workdir``'s lock wrote (``{}`` if none or unreadable)."""
    try:
        with open(os.path.join(workdir, LOCK_FILE)) as f:
            record = json.load(f)
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


class WorkdirLock:
    """Exclusive, non-blocking lock of a workdir; a context manager.

    Example::

        with WorkdirLock(workdir):
            ...  # the only process writing to workdir

    Raises:
      WorkdirLocked: on entry, when a live process (this one included, through another
        ``WorkdirLock``) holds the workdir; the message names its PID and host.
    """

    def __init__(self, workdir: str):
        self.workdir = workdir
        self.path = os.path.join(workdir, LOCK_FILE)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Takes the lock and writes this process's record; raises :class:`WorkdirLocked`."""
        os.makedirs(self.workdir, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = read_holder(self.workdir)
            who = (
                f"PID {holder.get('pid', '?')} on host {holder.get('host', '?')} "
                f"(since {holder.get('started', '?')})"
                if holder
                else "another process"
            )
            raise WorkdirLocked(
                f"workdir {self.workdir!r} is in use by {who}: only one training process "
                "may write to a workdir. Wait for it to finish, stop it, or use another "
                "workdir.",
                holder,
            ) from None
        # The file is never removed: a process waiting on the old inode while a new file
        # appears under the same name would let two processes hold "the" lock.
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode() + b"\n", 0)
        self._fd = fd

    def release(self) -> None:
        """Clears the record and releases the lock (a no-op when not held)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def __enter__(self) -> WorkdirLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> bool:
        self.release()
        return False
