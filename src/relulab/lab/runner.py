"""Run an experiment into a folder: create or resume its store, train what is missing, write the report.

The folder holds ``results.db`` (the truth), and what is rebuilt from it: ``summary.csv``,
``summary.json``, the plots and ``report.html``. Running the same grid again into the same folder
resumes: finished runs are skipped, unfinished ones redone.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from relulab.errors import UserError
from relulab.lab import store as results_store
from relulab.lab.engine import RunResult, SequentialEngine
from relulab.lab.grid import Grid
from relulab.lab.lock import LOCK_FILE, experiment_lock
from relulab.lab.figures.captions import FIGURE_NAMES

ENGINES = ("stacked", "sequential", "ray")


@dataclasses.dataclass
class Outcome:
    """What an experiment run did: how many runs were already done, trained now, and in all."""

    folder: Path
    total: int
    skipped: int
    trained: int
    snapshot: results_store.Snapshot  # the store as it was after training, read once
    notes: tuple[str, ...] = ()  # what the engine says once: runs that could not be stacked, and why


def make_engine(name: str, *, address: str | None = None) -> Any:
    """The engine called ``name`` (``stacked``, ``sequential`` or ``ray``)."""
    if name == "sequential":
        return SequentialEngine()
    if name == "stacked":
        from relulab.lab.stacked.engine import StackedEngine

        return StackedEngine()
    if name == "ray":
        from relulab.lab.ray_engine import RayEngine

        return RayEngine(address=address)
    raise UserError(f"--engine must be one of {', '.join(ENGINES)}. Received: {name!r}")


# What relulab compare writes into an experiment folder: all that --overwrite may remove.
ARTIFACTS = ("results.db", "results.db-wal", "results.db-shm", "summary.csv", "summary.json", "report.html",
             *(f"plots/{name}.png" for name in FIGURE_NAMES))


def clear_experiment(folder: Path) -> None:
    """Remove relulab's own files from ``folder`` (and ``plots/`` if that leaves it empty), nothing else."""
    for name in ARTIFACTS:
        (folder / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: it holds the user's files, which stay
        (folder / "plots").rmdir()


def check_folder(folder: Path) -> None:
    """Refuse, before anything is written, an ``--out`` that cannot be an experiment folder: a file, a
    folder of the user's that holds no experiment, or one where SQLite cannot write.

    Raises:
        UserError: as above, or ``folder`` cannot be made.
    """
    from relulab.runs import check_writable

    path = folder / results_store.FILENAME
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--out {folder} is a file, not a folder; choose another path.")
    if path.exists():
        reason = results_store.read_only_reason(path)
        if reason is not None:
            raise UserError(f"--out {folder}: {reason}; relulab compare must write there (relulab report only "
                            f"reads: it works in a read-only folder).")
    elif folder.exists() and any(p.name != LOCK_FILE for p in folder.iterdir()):
        raise UserError(f"--out {folder} is not empty and holds no relulab experiment; choose another folder.")
    check_writable(folder)


def open_or_create(folder: Path, grid: Grid, *, overwrite: bool, command: list[str]) -> results_store.Store:
    """The store for ``grid`` in ``folder`` (which exists, and whose lock the caller holds): resumed when
    it holds the same grid; another experiment there is refused, or replaced with ``overwrite``."""
    from relulab.runs import versions

    path = folder / results_store.FILENAME
    if path.exists():
        store = results_store.open_existing(path)
        try:
            if store.experiment()["fingerprint"] == grid.fingerprint():
                if store.grid().baseline != grid.baseline:  # the stored grid is checked before anything is written
                    store.set_baseline(grid.baseline)
                return store
        except BaseException:
            store.close()
            raise
        store.close()
        if not overwrite:
            raise UserError(f"--out {folder} holds a different experiment; choose another folder or pass --overwrite.")
        clear_experiment(folder)
    elif any(p.name != LOCK_FILE for p in folder.iterdir()):
        raise UserError(f"--out {folder} is not empty and holds no relulab experiment; choose another folder.")
    return results_store.create(path, grid, command=command, versions=versions())


def run_experiment(
    grid: Grid,
    folder: Path,
    *,
    engine: str = "stacked",
    address: str | None = None,
    overwrite: bool = False,
    command: Sequence[str] = (),
    progress: Callable[[int, int], Any] | None = None,
) -> Outcome:
    """Train every run of ``grid`` not yet in ``folder``'s store, then rebuild the report.

    The dataset is loaded (and a user's model built for every activation) before anything is written, so
    a bad dataset or model leaves no store behind.
    ``progress(total_steps, 0)`` is called once before training, then ``progress(total_steps, n)``
    after every ``n`` steps done.

    Raises:
        UserError: a bad dataset, model, engine or folder (see :func:`check_folder` and :func:`open_or_create`), or
            another process holds the folder's lock (:mod:`relulab.lab.lock`).
    """
    from relulab import data, models

    trainer = make_engine(engine, address=address)
    dataset = data.load(grid.dataset, data_path=grid.data_path, scaling=grid.scaling, flatten=grid.model is None,
                        train_size=grid.train_size, test_size=grid.test_size)
    if grid.model is not None:  # every activation's model built once, and the data shaped for it
        from relulab.lab import user_model

        dataset = user_model.prepare(grid.model, dataset, grid.activations, seed=grid.seeds[0],
                                     learning_rate=grid.learning_rates[0])
    for hidden in grid.architectures if grid.model is None else ():  # refused before the store is written
        models.check_fits(dataset.input_shape, dataset.num_classes, hidden, name="architectures", owner="the grid",
                          rows=max(grid.batch_size, models.EVALUATION_BATCH_SIZE))
    check_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with experiment_lock(folder), open_or_create(folder, grid, overwrite=overwrite, command=list(command)) as store:
        done = store.finished_keys()
        pending = [spec for spec in grid.runs() if spec.key not in done]
        if pending:
            total = sum(spec.steps(len(dataset.x_train)) for spec in pending)
            report_steps = (lambda n: progress(total, n)) if progress else (lambda n: None)
            report_steps(0)

            def keep(result: RunResult) -> None:
                store.add(result, engine=trainer.name)

            trainer.train(pending, dataset, on_result=keep, on_progress=report_steps, diagnostics=grid.diagnostics)
        snapshot = store.snapshot()
    rebuild(folder, snapshot)
    return Outcome(folder, len(grid.runs()), len(done), len(pending), snapshot, tuple(getattr(trainer, "notes", ())))


def rebuild(folder: Path, snapshot: results_store.Snapshot) -> dict[str, Path]:
    """Write the summary files, the plots and ``report.html`` from what the store holds alone."""
    from relulab.lab import exports

    return exports.write_all(folder, snapshot)
