"""Run an experiment into a folder: create or resume its store, train what is missing, write the report.

The folder holds ``results.db`` (the truth), and what is rebuilt from it: ``summary.csv``,
``summary.json``, the plots and ``report.html``. Running the same grid again into the same folder
resumes: finished runs are skipped, unfinished ones redone.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from relulab.errors import UserError
from relulab.lab import store as results_store
from relulab.lab.engine import RunResult, SequentialEngine
from relulab.lab.grid import Grid

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


def open_or_create(folder: Path, grid: Grid, *, overwrite: bool, command: list[str]) -> results_store.Store:
    """The store for ``grid`` in ``folder``: resumed if it holds this grid, refused if another."""
    from relulab.runs import versions

    path = folder / results_store.FILENAME
    if path.exists() and overwrite:
        shutil.rmtree(folder)
    elif path.exists():
        store = results_store.open_existing(path)
        if store.experiment()["fingerprint"] != grid.fingerprint():
            store.close()
            raise UserError(f"--out {folder} holds a different experiment; choose another folder or pass --overwrite.")
        return store
    elif folder.exists() and any(folder.iterdir()):
        if not overwrite:
            raise UserError(f"--out {folder} is not empty and holds no relulab experiment; choose another folder "
                            f"or pass --overwrite.")
    folder.mkdir(parents=True, exist_ok=True)
    return results_store.create(path, grid, command=command, versions=versions())


def run_experiment(
    grid: Grid,
    folder: Path,
    *,
    engine: str = "stacked",
    address: str | None = None,
    overwrite: bool = False,
    diagnostics: bool = True,
    command: Sequence[str] = (),
    progress: Callable[[int, int], Any] | None = None,
) -> Outcome:
    """Train every run of ``grid`` not yet in ``folder``'s store, then rebuild the report.

    ``progress(total_steps, 0)`` is called once before training, then ``progress(total_steps, n)``
    after every ``n`` steps done.
    """
    from relulab import data

    trainer = make_engine(engine, address=address)
    with open_or_create(folder, grid, overwrite=overwrite, command=list(command)) as store:
        done = store.finished_keys()
        pending = [spec for spec in grid.runs() if spec.key not in done]
        if pending:
            dataset = data.load(grid.dataset, data_path=grid.data_path, scaling=grid.scaling,
                                train_size=grid.train_size, test_size=grid.test_size)
            total = sum(spec.steps(len(dataset.x_train)) for spec in pending)
            report_steps = (lambda n: progress(total, n)) if progress else (lambda n: None)
            report_steps(0)

            def keep(result: RunResult) -> None:
                store.add(result, engine=trainer.name)

            trainer.train(pending, dataset, on_result=keep, on_progress=report_steps, diagnostics=diagnostics)
        rebuild(folder, store)
    return Outcome(folder, len(grid.runs()), len(done), len(pending))


def rebuild(folder: Path, store: results_store.Store) -> dict[str, Path]:
    """Write the summary files, the plots and ``report.html`` from the store alone."""
    from relulab.lab import exports

    return exports.write_all(folder, store)
