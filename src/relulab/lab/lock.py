"""One ``relulab compare`` at a time per experiment folder.

The lock is an advisory ``fcntl.flock`` on ``.relulab-lock`` inside the folder, taken without waiting:
a second process into the same folder fails at once, naming who holds it (pid, host, start time, as the
holder wrote them into the file). The kernel releases the lock when the holder's descriptor closes, so a
process that crashes or is killed never leaves a stale lock; the file itself stays (a lock file that is
removed on exit lets two later processes lock two different files).
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from relulab.errors import UserError

LOCK_FILE = ".relulab-lock"


def holder(path: Path) -> str:
    """Who holds the lock at ``path``, as its holder described itself: "pid 12 on host since 2026-...Z"."""
    try:
        who = json.loads(path.read_text())
        return f"pid {who['pid']} on {who['host']} since {who['started']}"
    except (OSError, ValueError, TypeError, KeyError):
        return "another process (it has not said which yet)"


@contextlib.contextmanager
def experiment_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s lock for the block (``folder`` must exist).

    Raises:
        UserError: another process holds it.
    """
    path = folder / LOCK_FILE
    try:  # never through a symbolic link: a folder from elsewhere must not make relulab truncate a file
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
    except OSError as error:
        raise UserError(f"--out {folder}: its lock file {LOCK_FILE} cannot be opened ({error.strerror}); "
                        f"relulab compare needs a plain file there, remove it.") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"--out {folder} is in use by another relulab compare ({holder(path)}); wait for it "
                            f"to finish or choose another folder.") from None
        started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        os.ftruncate(descriptor, 0)
        os.write(descriptor, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                         "started": started}).encode())
        yield
    finally:
        os.close(descriptor)  # releases the lock
