"""The results store: round trips, resume bookkeeping, and the errors for foreign or broken files."""

from __future__ import annotations

import math
import sqlite3
import stat

import pytest

from relulab.errors import UserError
from relulab.lab import store as results_store
from relulab.lab.engine import RunResult
from relulab.lab.grid import Grid


def _result(spec, accuracy=0.9):
    history = {"loss": [1.0, 0.5], "val_accuracy": [0.8, accuracy], "dead_fraction/dense_1": [0.0, math.nan]}
    return RunResult(spec, history, test_loss=0.4, test_accuracy=accuracy, seconds=1.5)


@pytest.fixture
def grid():
    return Grid(activations=("relu", "tanh"), seeds=(0, 1), epochs=2)


def test_runs_round_trip_with_their_histories_in_grid_order(tmp_path, grid):
    runs = grid.runs()
    with results_store.create(tmp_path / "results.db", grid, command=["relulab"], versions={"x": "1"}) as store:
        for spec in reversed(runs):
            store.add(_result(spec, accuracy=0.5 + spec.seed / 10), engine="test")
    with results_store.opened(tmp_path / "results.db") as store:
        assert store.grid() == grid
        assert store.experiment()["command"] == ["relulab"]
        results = store.results()
    assert [r.spec for r in results] == runs
    assert results[0].history["loss"] == [1.0, 0.5]
    assert math.isnan(results[0].history["dead_fraction/dense_1"][1])  # NaN survives as NULL
    assert [r.test_accuracy for r in results] == [0.5, 0.5, 0.6, 0.6]


def test_finished_keys_are_what_resume_skips(tmp_path, grid):
    with results_store.create(tmp_path / "results.db", grid, command=[], versions={}) as store:
        store.add(_result(grid.runs()[1]), engine="test")
        assert store.finished_keys() == {grid.runs()[1].key}


def test_a_new_store_has_the_mode_of_any_new_file(tmp_path, grid):
    results_store.create(tmp_path / "results.db", grid, command=[], versions={}).close()
    (tmp_path / "plain").touch()
    assert stat.S_IMODE((tmp_path / "results.db").stat().st_mode) == stat.S_IMODE((tmp_path / "plain").stat().st_mode)


def test_a_failed_write_leaves_no_partial_run(tmp_path, grid):
    spec = grid.runs()[0]
    broken = RunResult(spec, {"loss": ["not a number"]}, 0.1, 0.9, 1.0)
    with results_store.create(tmp_path / "results.db", grid, command=[], versions={}) as store:
        with pytest.raises(ValueError):
            store.add(broken, engine="test")
        assert store.finished_keys() == set()
        assert store.connection.execute("SELECT COUNT(*) FROM epochs").fetchone()[0] == 0


def test_missing_corrupt_foreign_and_other_version_files_are_refused(tmp_path, grid):
    with pytest.raises(UserError, match=r"does not exist; run relulab compare first"):
        results_store.open_existing(tmp_path / "none.db")
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(UserError, match=r"is not a readable relulab results database"):
        results_store.open_existing(corrupt)
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(UserError, match=r"is not a readable relulab results database|is not a relulab results"):
        results_store.open_existing(foreign)
    old = tmp_path / "old.db"
    results_store.create(old, grid, command=[], versions={}).close()
    with sqlite3.connect(old) as connection:
        connection.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(UserError, match=r"written with results schema version 0; this relulab .* reads version 1"):
        results_store.open_existing(old)
