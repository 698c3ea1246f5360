"""The lab's results store: one SQLite file per experiment that survives crashes and resumes.

Tables: ``meta`` (schema version, relulab version), ``experiment`` (the grid, the command, library
versions), ``runs`` (one row per FINISHED run with its final metrics) and ``epochs`` (one row per
run, epoch and metric). A run and its epochs are written in one transaction, so a process killed at
any moment leaves either the whole run or none of it: resuming redoes exactly the unfinished runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relulab import __version__
from relulab._files import as_if_new
from relulab.errors import UserError
from relulab.lab.engine import RunResult
from relulab.lab.grid import Grid, RunSpec

if TYPE_CHECKING:
    from relulab.lab.stats import SummaryRow

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


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """An experiment as its store holds it, read once (:meth:`Store.snapshot`)."""

    experiment: dict[str, Any]  # fingerprint, grid (dict), command, versions, created
    grid: Grid
    results: list[RunResult]  # the finished runs, in the grid's order

    @functools.cached_property
    def rows(self) -> list[SummaryRow]:
        """The summary: one row per configuration, with intervals and paired differences (computed once)."""
        from relulab.lab import stats

        return stats.summarise(self.results, self.grid.baseline)


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

    def _rows(self, sql: str) -> list[sqlite3.Row]:
        """The rows of a query; a damaged file (garbage in a page, a missing table) is a UserError."""
        try:
            return self.connection.execute(sql).fetchall()
        except sqlite3.DatabaseError as error:
            raise UserError(f"{self.path} is damaged ({error}); it cannot be read as a relulab results "
                            f"database.") from None

    # -- the experiment (what a file says is data: it is checked, and nothing it names is imported) --
    def grid(self) -> Grid:
        """The stored grid, taken as it was written (see :meth:`Grid.from_dict`): nothing is imported."""
        return self._grid(self.experiment()["grid"])

    def _grid(self, payload: dict[str, Any]) -> Grid:
        try:
            return Grid.from_dict(payload, stored=True)
        except (KeyError, TypeError, ValueError) as error:
            raise UserError(f"{self.path}: the stored grid is not a valid relulab grid ({error}).") from None

    def set_baseline(self, baseline: str) -> None:
        """Record another baseline activation (it changes the analysis, not the runs)."""
        grid = self.experiment()["grid"]
        with self.connection:
            self.connection.execute("UPDATE experiment SET grid = ? WHERE id = 1",
                                    (json.dumps({**grid, "baseline": baseline}),))

    def experiment(self) -> dict[str, Any]:
        """The experiment's record: ``fingerprint``, ``grid`` (dict), ``command`` (list), ``versions``
        (dict) and ``created`` (Unix time), each checked to be of its kind."""
        rows = self._rows("SELECT * FROM experiment WHERE id = 1")
        if not rows:
            raise UserError(f"{self.path} holds no experiment; it was not written by relulab compare.")
        row = rows[0]
        return {"fingerprint": str(row["fingerprint"]), "grid": self._decode(row["grid"], "grid", dict),
                "command": self._decode(row["command"], "command", list),
                "versions": self._decode(row["versions"], "versions", dict),
                "created": row["created"] if isinstance(row["created"], (int, float)) else None}

    def _decode(self, text: Any, what: str, kind: type) -> Any:
        """The JSON value of a stored ``text``, which must be a ``kind``; else a UserError naming ``what``."""
        try:
            value = json.loads(text)
        except (TypeError, ValueError) as error:
            raise UserError(f"{self.path}: the stored {what} is not valid JSON ({error}).") from None
        if not isinstance(value, kind):
            raise UserError(f"{self.path}: the stored {what} must be a JSON "
                            f"{'object' if kind is dict else 'list'}, not {type(value).__name__}.")
        return value

    # -- runs -------------------------------------------------------------------------------------
    def finished_keys(self) -> set[str]:
        return {row[0] for row in self._rows("SELECT key FROM runs")}

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
        return self._results(self.grid())

    def snapshot(self) -> Snapshot:
        """The experiment, its grid and every finished run, read once: what the report, the exports and
        the summary table all work from."""
        experiment = self.experiment()
        grid = self._grid(experiment["grid"])
        return Snapshot(experiment, grid, self._results(grid))

    def _results(self, grid: Grid) -> list[RunResult]:
        histories: dict[str, dict[str, list[float]]] = {}
        for key, epoch, metric, value in self._rows(
            "SELECT run_key, epoch, metric, value FROM epochs ORDER BY run_key, metric, epoch"
        ):
            histories.setdefault(key, {}).setdefault(str(metric), []).append(self._real(value, f"epochs of {key}"))
        finished = {}
        for row in self._rows("SELECT * FROM runs"):
            key = row["key"]
            try:
                spec = RunSpec.from_dict(self._decode(row["spec"], f"spec of run {key}", dict))
            except (KeyError, TypeError, ValueError) as error:
                raise UserError(f"{self.path}: the stored spec of run {key} is not a valid run ({error}).") from None
            finished[key] = RunResult(spec, histories.get(key, {}), self._real(row["test_loss"], key),
                                      self._real(row["test_accuracy"], key), self._real(row["seconds"], key))
        order = {spec.key: index for index, spec in enumerate(grid.runs())}
        return sorted(finished.values(), key=lambda r: order.get(r.spec.key, len(order)))

    def _real(self, value: Any, where: str) -> float:
        """A stored number (NULL is NaN: a diverged loss, a metric with no value); text is damage."""
        if value is None:
            return float("nan")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise UserError(f"{self.path}: a stored value of {where} is not a number ({value!r:.40}).")


def _nullable_real(value: float) -> float | None:
    value = float(value)
    return value if value == value else None  # NaN (a diverged run's loss, a metric with no value) is NULL


def read_only_reason(path: Path) -> str | None:
    """Why the store at ``path`` cannot be written (None if it can): SQLite must be able to write the file
    and to create its side files (``results.db-wal``, ``results.db-shm``) in its folder."""
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return (f"{path.parent} is read-only: SQLite cannot write {path.name}'s side files ({path.name}-wal, "
                f"{path.name}-shm) there")
    if path.exists() and not os.access(path, os.W_OK):
        return f"{path} is read-only: SQLite cannot write it"
    return None


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection to ``path``: read-write in WAL mode, or ``read_only``, which writes nothing: not even
    the side files a WAL reader creates. A store closed cleanly has no ``-wal`` file and is opened
    ``immutable``; while a writer has one open (or after a crash), ``mode=ro`` reads through it."""
    if read_only:
        immutable = not Path(f"{path}-wal").exists()
        uri = path.resolve().as_uri() + ("?mode=ro&immutable=1" if immutable else "?mode=ro")
        connection = sqlite3.connect(uri, uri=True)
    else:
        reason = read_only_reason(path)
        if reason is not None:
            raise UserError(f"{reason}; relulab compare must write there (relulab report only reads: it works "
                            f"in a read-only folder).")
        connection = sqlite3.connect(path, isolation_level="DEFERRED")
        connection.execute("PRAGMA journal_mode = WAL")  # readers never block the writer; crash-safe
        connection.execute("PRAGMA synchronous = NORMAL")
    connection.row_factory = sqlite3.Row
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


def open_existing(path: Path, *, read_only: bool = False) -> Store:
    """Open the store at ``path``, checking that it is a relulab store of this schema version, intact
    (SQLite's ``quick_check``). ``read_only`` (``relulab report``) writes nothing, not even SQLite's
    side files, so it works in a read-only folder.

    Raises:
        UserError: missing, corrupt, not a relulab store, written by another schema version, or (not
            ``read_only``) in a place SQLite cannot write.
    """
    if not path.is_file():
        raise UserError(f"{path} does not exist; run relulab compare first.")
    connection = None
    try:
        connection = _connect(path, read_only=read_only)
        with contextlib.closing(connection.execute("SELECT value FROM meta WHERE key = 'schema_version'")) as rows:
            row = rows.fetchone()
        damage = connection.execute("PRAGMA quick_check(1)").fetchone()[0] if row is not None else "ok"
    except sqlite3.DatabaseError as error:
        if connection is not None:
            connection.close()
        raise UserError(f"{path} is not a readable relulab results database ({error}).") from None
    if damage != "ok":
        connection.close()
        damage = " ".join(str(damage).replace("*** in database main ***", "").split())
        raise UserError(f"{path} is damaged (SQLite's check: {damage}); it cannot be read as a relulab results "
                        f"database.")
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
def opened(path: Path, *, read_only: bool = False) -> Iterator[Store]:
    store = open_existing(path, read_only=read_only)
    try:
        yield store
    finally:
        store.close()
