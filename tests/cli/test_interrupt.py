"""Ctrl-C in the first seconds of a command, while Keras and TensorFlow load: one line, exit 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0])
@pytest.mark.parametrize("command", [["list", "activations"], ["compare", "--help"]])
def test_ctrl_c_while_the_backend_loads_is_one_line_and_exit_130(delay, command):
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen([sys.executable, "-m", "relulab", *command], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    if process.returncode == 0:
        pytest.skip(f"the command finished within {delay} s, before the signal")
    assert process.returncode == 130
    assert err.decode() == "relulab: interrupted\n" and out == b""
