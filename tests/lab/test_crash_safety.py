"""Killing ``relulab compare`` with SIGKILL at any moment loses no finished run and leaves no partial or
duplicate rows; running the same command again resumes and finishes the grid."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ACTIVATIONS, SEEDS, EPOCHS = ("relu", "tanh"), 5, 2


def _command(out: Path, engine: str) -> list[str]:
    return [sys.executable, "-m", "relulab", "compare", "--dataset", "digits", "--train-size", "160",
            "--test-size", "60", "--epochs", str(EPOCHS), "--batch-size", "16", "--activations", ",".join(ACTIVATIONS),
            "--seeds", str(SEEDS), "--engine", engine, "--out", str(out)]


def _finished(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=0.1) as connection:
            return connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.Error:
        return 0


def _check_consistent(db: Path) -> int:
    """Integrity, no orphan or missing epoch rows, the same rows for every run; returns finished runs."""
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        runs = connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        orphans = connection.execute("SELECT COUNT(*) FROM epochs WHERE run_key NOT IN (SELECT key FROM runs)")
        assert orphans.fetchone()[0] == 0
        per_run = {count for (count,) in connection.execute("SELECT COUNT(*) FROM epochs GROUP BY run_key")}
        assert len(per_run) <= 1, f"runs have different numbers of epoch rows: {per_run}"
        epochs = {n for (n,) in connection.execute("SELECT COUNT(DISTINCT epoch) FROM epochs GROUP BY run_key")}
        assert epochs <= {EPOCHS}
    return runs


def _kill_when(process: subprocess.Popen, db: Path, condition, extra_delay: float, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not condition(_finished(db)) and process.poll() is None:
        assert time.monotonic() < deadline, "the experiment did not get far enough in time"
        time.sleep(0.02)
    time.sleep(extra_delay)
    if process.poll() is not None:  # finished before the kill point: it must have finished well
        assert process.returncode == 0, process.stderr.read().decode()[-2000:]
        return
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


@pytest.mark.parametrize("engine", ["sequential", "stacked"])
def test_sigkill_at_several_points_then_resume(tmp_path, engine):
    out, db = tmp_path / "lab", tmp_path / "lab" / "results.db"
    total = len(ACTIVATIONS) * SEEDS
    kill_points = [
        (lambda n: db.exists(), 0.0),  # right after the store is created, before any run
        (lambda n: n >= 1, 0.0),  # the instant a run has been committed
        (lambda n: n >= 1, 0.35),  # somewhere inside the next runs
    ]
    seen = 0
    for condition, delay in kill_points:
        process = subprocess.Popen(_command(out, engine), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _kill_when(process, db, condition, delay)
        finished = _check_consistent(db)
        assert seen <= finished <= total
        seen = finished
    result = subprocess.run(_command(out, engine), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _check_consistent(db) == total
    if seen:
        assert f"resumed: {seen} runs were already finished" in result.stdout
    assert (out / "report.html").is_file()
