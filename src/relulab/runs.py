"""Run folders that explain themselves, written all at once or not at all.

A finished run folder holds:
- ``config.json``: the resolved configuration, the command line, the seed and the library versions;
- ``history.csv``: one row per epoch, every metric Keras logged (monitors included);
- ``metrics.json``: the final test loss and accuracy and the wall time;
- ``model.keras``: the trained model;
- ``.relulab-run``: the marker that proves relulab wrote the folder (see :mod:`relulab.run_folder`).
Everything is written into a hidden staging folder beside the target and renamed into place at the end,
so an error or an interrupt never leaves a half-written run behind; ``--overwrite`` replaces only a run
its marker proves, checked again when the new run is ready, and never deletes anything else.
"""

from __future__ import annotations

import csv
import os
import platform
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from relulab import _json as strict_json
from relulab.errors import UserError
from relulab.run_folder import CONFIG, HISTORY, MARKER, METRICS, MODEL, RUN_FILES, check_target, staged, write_marker

__all__ = ["CONFIG", "HISTORY", "MARKER", "METRICS", "MODEL", "RUN_FILES", "check_target", "check_writable",
           "read_history", "save_run", "staged", "train_run", "versions", "write_history", "write_json"]


def versions() -> dict[str, str]:
    """Versions of everything that decides a result: Python, relulab, Keras, its backend, NumPy."""
    import keras
    import numpy

    from relulab import __version__

    backend = keras.backend.backend()
    try:
        backend_version = __import__(backend).__version__
    except (ImportError, AttributeError):
        backend_version = "unknown"
    return {
        "python": platform.python_version(), "relulab": __version__, "keras": keras.__version__,
        "backend": backend, backend: backend_version, "numpy": numpy.__version__,
        "platform": platform.platform(),
    }


def check_writable(out: Path) -> None:
    """Fail now, not after training, when the folder ``out`` cannot be made (a run folder, an experiment).

    Raises:
        UserError: ``out``'s parent cannot be created or written.
    """
    blocking = next((p for p in (out.parent, *out.parent.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise UserError(f"--out {out} cannot be made: {blocking} is a file, not a folder.")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".check", dir=out.parent))
    except OSError as error:
        raise UserError(f"--out {out} cannot be written: {error.strerror or error}.") from None


def write_json(path: Path, payload: Any) -> None:
    """``payload`` as strict JSON (NaN and infinities, e.g. a diverged loss, become null)."""
    path.write_text(strict_json.dumps(payload) + "\n")


def write_history(path: Path, history: Mapping[str, Sequence[float]]) -> None:
    """``history`` (Keras' ``History.history``) as CSV: an ``epoch`` column, then one per metric."""
    keys = list(history)
    epochs = len(next(iter(history.values()), []))
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", *keys])
        for epoch in range(epochs):
            writer.writerow([epoch + 1, *(repr(float(history[k][epoch])) for k in keys)])


def read_history(path: Path) -> dict[str, list[float]]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    keys = [k for k in (rows[0] if rows else {}) if k != "epoch"]
    return {k: [float(row[k]) for row in rows] for k in keys}



def save_run(folder: Path, config: Mapping[str, Any], result: Any, *, command: Sequence[str]) -> None:
    """Write a finished run (a :class:`relulab.training.TrainResult`) into ``folder``."""
    write_json(folder / CONFIG, {"config": dict(config), "command": list(command), "seed": config.get("seed"),
                                 "versions": versions()})
    write_history(folder / HISTORY, result.history)
    write_json(folder / METRICS, result.metrics())
    result.model.save(folder / MODEL)
    write_marker(folder, config)  # last: a folder with a marker is a complete run


def train_run(config: Any, out: Path, *, overwrite: bool = False, callbacks: Sequence[Any] = (),
              command: Sequence[str] = ()) -> Any:
    """Train ``config`` (a :class:`relulab.training.TrainConfig`) into the run folder ``out``.

    Returns the :class:`~relulab.training.TrainResult`, or None when ``out`` already holds this run.

    Raises:
        UserError: ``out`` holds something else (and not ``overwrite``), changed while the run trained, or
            the data cannot be loaded.
    """
    from relulab import training

    resolved = config.to_dict()
    found = check_target(out, resolved, overwrite=overwrite)
    if found is True:
        return None
    check_writable(out)
    dataset = training.load_data(config)
    result = training.train(config, dataset, callbacks=callbacks)
    with staged(out, replaces=found or None) as stage:
        save_run(stage, resolved, result, command=command)
    return result
