"""The lab's results store: one SQLite file per experiment that survives crashes and resumes.

Tables: ``meta`` (schema version, relulab version), ``experiment`` (the grid, the command, library
versions), ``runs`` (one row per FINISHED run with its final metrics) and ``epochs`` (one row per
run, epoch and metric). A run and its epochs are written in one transaction, so a process killed at
any moment leaves either the whole run or none of it: resuming redoes exactly the unfinished runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from relulab import __version__
from relulab._files import as_if_new
from relulab.errors import UserError
from relulab.lab.engine import RunResult
from relulab.lab.grid import Grid, RunSpec

SCHEMA_VERSION = 1
FILENAME = "results.db"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE experiment (
    id INTEGER PRIMARY KEY CHECK (id = 1), fingerprint TEXT NOT NULL, grid TEXT NOT NULL,
    command TEXT NOT NULL, versions TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE runs (
    key TEXT PRIMARY KEY, spec TEXT NOT NULL, activation TEXT NOT NULL, hidden TEXT NOT NULL,
    depth INTEGER NOT NULL, learning_rate REAL NOT NULL, seed INTEGER NOT NULL, initializer TEXT NOT NULL,
    test_loss REAL, test_accuracy REAL, seconds REAL NOT NULL, engine TEXT NOT NULL,
    finished REAL NOT NULL);
CREATE TABLE epochs (
    run_key TEXT NOT NULL REFERENCES runs(key), epoch INTEGER NOT NULL, metric TEXT NOT NULL,
    value REAL, PRIMARY KEY (run_key, epoch, metric));
"""


class Store:
    """An open results store. Use :func:`create` for a new experiment or :func:`open_existing`."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the experiment ---------------------------------------------------------------------------
    def grid(self) -> Grid:
        return Grid.from_dict(json.loads(self._experiment()["grid"]))

    def set_baseline(self, baseline: str) -> None:
        """Record another baseline activation (it changes the analysis, not the runs)."""
        grid = json.loads(self._experiment()["grid"])
        with self.connection:
            self.connection.execute("UPDATE experiment SET grid = ? WHERE id = 1",
                                    (json.dumps({**grid, "baseline": baseline}),))

    def experiment(self) -> dict[str, Any]:
        row = self._experiment()
        return {"fingerprint": row["fingerprint"], "grid": json.loads(row["grid"]),
                "command": json.loads(row["command"]), "versions": json.loads(row["versions"]),
                "created": row["created"]}

    def _experiment(self) -> sqlite3.Row:
        row = self.connection.execute("SELECT * FROM experiment WHERE id = 1").fetchone()
        if row is None:
            raise UserError(f"{self.path} holds no experiment; it was not written by relulab compare.")
        return row

    # -- runs -------------------------------------------------------------------------------------
    def finished_keys(self) -> set[str]:
        return {row[0] for row in self.connection.execute("SELECT key FROM runs")}

    def add(self, result: RunResult, *, engine: str) -> None:
        """Store one finished run and all its epochs in a single transaction."""
        spec = result.spec
        with self.connection:  # one transaction: commit on success, roll back on error
            self.connection.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (spec.key, json.dumps(spec.to_dict()), spec.activation, json.dumps(list(spec.hidden)), spec.depth,
                 spec.learning_rate, spec.seed, spec.kernel_initializer, _nullable_real(result.test_loss),
                 _nullable_real(result.test_accuracy),
                 result.seconds, engine, time.time()),
            )
            self.connection.executemany(
                "INSERT INTO epochs VALUES (?, ?, ?, ?)",
                [(spec.key, epoch + 1, metric, _nullable_real(value))
                 for metric, values in result.history.items() for epoch, value in enumerate(values)],
            )

    def results(self) -> list[RunResult]:
        """Every finished run with its history, in the grid's order."""
        histories: dict[str, dict[str, list[float]]] = {}
        for key, epoch, metric, value in self.connection.execute(
            "SELECT run_key, epoch, metric, value FROM epochs ORDER BY run_key, metric, epoch"
        ):
            histories.setdefault(key, {}).setdefault(metric, []).append(_real(value))
        finished = {
            row["key"]: RunResult(RunSpec.from_dict(json.loads(row["spec"])), histories.get(row["key"], {}),
                                  _real(row["test_loss"]), _real(row["test_accuracy"]), row["seconds"])
            for row in self.connection.execute("SELECT * FROM runs")
        }
        order = {spec.key: index for index, spec in enumerate(self.grid().runs())}
        return sorted(finished.values(), key=lambda r: order.get(r.spec.key, len(order)))


def _nullable_real(value: float) -> float | None:
    value = float(value)
    return value if value == value else None  # NaN (a diverged run's loss, a metric with no value) is NULL


def _real(value: float | None) -> float:
    return float("nan") if value is None else value


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level="DEFERRED")
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode = WAL")  # readers never block the writer; crash-safe
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection


def create(path: Path, grid: Grid, *, command: list[str], versions: dict[str, str]) -> Store:
    """A new store at ``path`` for ``grid``.

    The schema and the experiment are written into a temporary file beside ``path`` that is renamed into
    place only when complete, so a process killed meanwhile leaves no half-made store behind.
    """
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".creating", dir=path.parent)
    os.close(handle)
    as_if_new(temporary)
    try:
        with contextlib.closing(sqlite3.connect(temporary)) as connection, connection:
            connection.executescript(_SCHEMA)
            connection.executemany("INSERT INTO meta VALUES (?, ?)",
                                   [("schema_version", str(SCHEMA_VERSION)), ("relulab_version", __version__)])
            connection.execute(
                "INSERT INTO experiment VALUES (1, ?, ?, ?, ?, ?)",
                (grid.fingerprint(), json.dumps(grid.to_dict()), json.dumps(command), json.dumps(versions),
                 time.time()),
            )
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return Store(_connect(path), path)


def open_existing(path: Path) -> Store:
    """Open the store at ``path``, checking that it is a relulab store of this schema version.

    Raises:
        UserError: missing, corrupt, not a relulab store, or written by another schema version.
    """
    if not path.is_file():
        raise UserError(f"{path} does not exist; run relulab compare first.")
    try:
        connection = _connect(path)
        with contextlib.closing(connection.execute("SELECT value FROM meta WHERE key = 'schema_version'")) as rows:
            row = rows.fetchone()
    except sqlite3.DatabaseError as error:
        raise UserError(f"{path} is not a readable relulab results database ({error}).") from None
    if row is None:
        connection.close()
        raise UserError(f"{path} is not a relulab results database (no schema version).")
    if row[0] != str(SCHEMA_VERSION):
        connection.close()
        raise UserError(
            f"{path} was written with results schema version {row[0]}; this relulab ({__version__}) reads "
            f"version {SCHEMA_VERSION}. Use a new --out folder, or the relulab version that wrote it."
        )
    return Store(connection, path)


@contextlib.contextmanager
def opened(path: Path) -> Iterator[Store]:
    store = open_existing(path)
    try:
        yield store
    finally:
        store.close()
