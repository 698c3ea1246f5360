"""One ``relulab compare`` per experiment folder: the second fails at once and says who holds the lock."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import pytest

from relulab.cli import main
from relulab.errors import UserError
from relulab.lab.lock import LOCK_FILE, experiment_lock

HOLD = """
import fcntl, json, os, sys, time
descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(descriptor, fcntl.LOCK_EX)
os.write(descriptor, json.dumps({"pid": os.getpid(), "host": "elsewhere", "started": "2026-12-01 10:00:00Z"}).encode())
print("locked", flush=True)
time.sleep(600)
"""


def test_a_second_compare_into_a_locked_folder_fails_at_once_naming_the_holder(tmp_path, capsys):
    out = tmp_path / "lab"
    out.mkdir()
    with experiment_lock(out):  # flock locks conflict between two open files, even in one process
        assert main(["compare", "--dataset", "digits", "--train-size", "60", "--test-size", "30", "--epochs", "1",
                     "--seeds", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.fullmatch(rf"relulab compare: error: --out {re.escape(str(out))} is in use by another relulab compare "
                        rf"\(pid {os.getpid()} on {re.escape(socket.gethostname())} since \d{{4}}-\d\d-\d\d "
                        rf"\d\d:\d\d:\d\dZ\); wait for it to finish or choose another folder\.", err), err
    assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]  # no store was made


def test_the_lock_of_a_killed_process_is_released(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / LOCK_FILE)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"locked\n"
        with pytest.raises(UserError, match=rf"in use by another relulab compare \(pid {holder.pid} on elsewhere "
                                            r"since 2026-12-01 10:00:00Z\)"):
            with experiment_lock(tmp_path):
                pass
    finally:
        holder.kill()
        holder.wait()
    with experiment_lock(tmp_path):  # the kernel released it with the killed process
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
