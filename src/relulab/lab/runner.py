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
from relulab.lab.plots_captions import FIGURE_NAMES

ENGINES = ("stacked", "sequential", "ray")


@dataclasses.dataclass
class Outcome:
    """What an experiment run did: how many runs were already done, trained now, and in all."""

    folder: Path
    total: int
    skipped: int
    trained: int


def make_engine(name: str, *, address: str | None = None) -> Any:
    """The engine called ``name`` (``stacked``, ``sequential`` or ``ray``)."""
    if name == "sequential":
        return SequentialEngine()
    if name == "stacked":
        from relulab.lab.stacked import StackedEngine

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


def open_or_create(folder: Path, grid: Grid, *, overwrite: bool, command: list[str]) -> results_store.Store:
    """The store for ``grid`` in ``folder``: resumed when it holds the same grid; another experiment
    there is refused, or replaced with ``overwrite``."""
    from relulab.runs import check_writable, versions

    path = folder / results_store.FILENAME
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--out {folder} is a file, not a folder; choose another path.")
    if path.exists():
        store = results_store.open_existing(path)
        if store.experiment()["fingerprint"] == grid.fingerprint():
            if store.grid().baseline != grid.baseline:
                store.set_baseline(grid.baseline)
            return store
        store.close()
        if not overwrite:
            raise UserError(f"--out {folder} holds a different experiment; choose another folder or pass --overwrite.")
        clear_experiment(folder)
    elif folder.exists() and any(folder.iterdir()):
        raise UserError(f"--out {folder} is not empty and holds no relulab experiment; choose another folder.")
    check_writable(folder)
    folder.mkdir(parents=True, exist_ok=True)
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

    The dataset is loaded before anything is written, so a bad dataset leaves no store behind.
    ``progress(total_steps, 0)`` is called once before training, then ``progress(total_steps, n)``
    after every ``n`` steps done.

    Raises:
        UserError: a bad dataset, engine or folder (see :func:`open_or_create`).
    """
    from relulab import data, models

    trainer = make_engine(engine, address=address)
    dataset = data.load(grid.dataset, data_path=grid.data_path, scaling=grid.scaling,
                        train_size=grid.train_size, test_size=grid.test_size)
    for hidden in grid.architectures:  # a run that cannot fit is refused before the store is written
        models.check_fits(dataset.input_shape, dataset.num_classes, hidden, name="architectures", owner="the grid",
                          rows=max(grid.batch_size, models.EVALUATION_BATCH_SIZE))
    with open_or_create(folder, grid, overwrite=overwrite, command=list(command)) as store:
        done = store.finished_keys()
        pending = [spec for spec in grid.runs() if spec.key not in done]
        if pending:
            total = sum(spec.steps(len(dataset.x_train)) for spec in pending)
            report_steps = (lambda n: progress(total, n)) if progress else (lambda n: None)
            report_steps(0)

            def keep(result: RunResult) -> None:
                store.add(result, engine=trainer.name)

            trainer.train(pending, dataset, on_result=keep, on_progress=report_steps, diagnostics=grid.diagnostics)
        rebuild(folder, store)
    return Outcome(folder, len(grid.runs()), len(done), len(pending))


def rebuild(folder: Path, store: results_store.Store) -> dict[str, Path]:
    """Write the summary files, the plots and ``report.html`` from the store alone."""
    from relulab.lab import exports

    return exports.write_all(folder, store)
