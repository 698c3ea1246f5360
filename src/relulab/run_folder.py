"""What relulab may replace: a run folder it can prove it wrote, and only at the moment it still is one.

Every run folder holds a marker, ``.relulab-run``: a random id and the hash of the configuration in
``config.json``. A folder is a relulab run only when the marker is there and matches its ``config.json``;
file names prove nothing (a user's own folder may hold a ``config.json`` and a ``model.keras``). ``relulab
train --overwrite`` checks the folder before training and again when the new run is ready; the old run is
renamed aside, the new one renamed into place, and only then are the old run's own files deleted. A file
that appeared in the old folder meanwhile is never deleted: the command refuses and puts everything back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from relulab._files import as_if_new
from relulab.errors import UserError

CONFIG, HISTORY, METRICS, MODEL = "config.json", "history.csv", "metrics.json", "model.keras"
MARKER = ".relulab-run"  # the run's identity: {"id": random hex, "config_hash": sha256 of its config}
RUN_FILES = (CONFIG, HISTORY, METRICS, MODEL, MARKER)  # all that a run folder holds


def config_hash(config: Any) -> str:
    """The SHA-256 of ``config`` as canonical JSON (sorted keys)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


def write_marker(folder: Path, config: Mapping[str, Any]) -> None:
    """Mark ``folder`` as the relulab run of ``config`` (call it last, when the run is complete)."""
    payload = {"id": uuid.uuid4().hex, "config_hash": config_hash(dict(config))}
    (folder / MARKER).write_text(json.dumps(payload) + "\n")


def _json_object(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UserError(f"{path} is not a relulab run's file: it is not readable JSON ({error}); relulab "
                        f"replaces none of it, choose another --out.") from None
    if not isinstance(value, dict):
        raise UserError(f"{path} is not a relulab run's file: it holds a JSON {type(value).__name__}, not an "
                        f"object; relulab replaces none of it, choose another --out.")
    return value


@dataclasses.dataclass(frozen=True)
class Run:
    """A relulab run found in a folder: its marker's id and its configuration."""

    id: str
    config: Any


def find_run(folder: Path) -> Run | None:
    """The relulab run in ``folder`` proven by its marker; None when ``folder`` holds neither a marker nor
    a ``config.json``.

    Raises:
        UserError: a ``config.json`` or marker that is not a JSON object, a ``config.json`` without a
            marker (a folder relulab cannot prove it wrote), or a marker that does not match it.
    """
    config_file, marker = folder / CONFIG, folder / MARKER
    if not config_file.exists() and not marker.exists():
        return None
    if not config_file.is_file():
        raise UserError(f"--out {folder} holds {MARKER} but no {CONFIG}; it is not a complete relulab run, "
                        f"choose another folder.")
    saved = _json_object(config_file)
    if not marker.is_file():
        raise UserError(f"--out {folder} holds a {CONFIG} but no {MARKER} marker, so relulab cannot prove it "
                        f"wrote this folder (runs written before relulab added it have none) and replaces none of it; "
                        f"choose another folder.")
    stamp = _json_object(marker)
    if not isinstance(stamp.get("id"), str) or stamp.get("config_hash") != config_hash(saved.get("config")):
        raise UserError(f"--out {folder}: {MARKER} does not match {CONFIG} (edited since relulab wrote it); "
                        f"relulab replaces none of it, choose another folder.")
    return Run(stamp["id"], saved.get("config"))


def foreign_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in RUN_FILES or not p.is_file() or p.is_symlink())


def check_target(out: Path, config: Mapping[str, Any], *, overwrite: bool) -> Run | bool | None:
    """What ``out`` holds: True when it is this very run (nothing to do), the :class:`Run` that
    ``overwrite`` will replace, or None when there is nothing there (a new run, or an empty folder).

    ``overwrite`` replaces a different relulab run proven by its marker, never anything else.

    Raises:
        UserError: ``out`` is a symbolic link, a file, the current folder or one above it, holds something
            that is not a relulab run, holds a different run and ``overwrite`` is not set, or holds files
            besides a run's own.
    """
    if out.is_symlink():
        raise UserError(f"--out {out} is a symbolic link (to {os.readlink(out)}); relulab writes a run folder "
                        f"only at a real path: give the folder itself or another one.")
    if not out.exists():
        return None
    if not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder; choose another path.")
    if Path.cwd().resolve().is_relative_to(out.resolve()):
        raise UserError(f"--out {out} is the current folder or one above it; choose a folder of its own.")
    run = find_run(out)
    if run is None:
        if any(out.iterdir()):
            raise UserError(f"--out {out} is not empty and holds no relulab run; choose another folder.")
        return None
    if run.config == dict(config) and not overwrite:
        return True
    if not overwrite:
        raise UserError(f"--out {out} holds a different run; choose another folder or pass --overwrite.")
    foreign = foreign_files(out)
    if foreign:
        raise UserError(f"--out {out} holds files relulab did not write ({', '.join(foreign)}); --overwrite "
                        f"replaces a run folder only: move them or choose another folder.")
    return run


@contextlib.contextmanager
def staged(out: Path, *, replaces: Run | None = None) -> Iterator[Path]:
    """A staging folder that becomes ``out`` when the block finishes, and vanishes if it fails.

    ``out`` must then still be what it was when checked: absent or empty, or the run ``replaces``
    (same marker, no file of anyone else's); otherwise nothing is replaced and a UserError says why.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    as_if_new(stage)
    try:
        yield stage
        _replace(out, stage, replaces)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _changed(out: Path) -> UserError:
    held = ", ".join(foreign_files(out)) if out.is_dir() and not out.is_symlink() else "something else"
    return UserError(f"--out {out} changed while the run trained (it now holds {held or 'another run'}); nothing "
                     f"was replaced and the new run was not saved: move those files or choose another folder.")


def _replace(out: Path, stage: Path, replaces: Run | None) -> None:
    """Put ``stage`` at ``out``; an old run there is renamed aside first and deleted only after."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise _changed(out)
    if not out.exists() or not any(out.iterdir()):
        os.replace(stage, out)  # onto nothing, or onto an empty folder: nothing of anyone's is lost
        return
    found = find_run(out) if replaces is not None else None
    if found is None or found.id != replaces.id or foreign_files(out):
        raise _changed(out)
    aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".replaced", dir=out.parent))
    os.replace(out, aside)  # atomic: from here on, nothing can be dropped into the old run at out
    if foreign_files(aside):  # a file dropped in just before the rename: put it all back
        os.replace(aside, out)
        raise _changed(out)
    try:
        os.replace(stage, out)
    except BaseException:
        os.replace(aside, out)
        raise
    for name in RUN_FILES:
        (aside / name).unlink(missing_ok=True)
    try:
        aside.rmdir()
    except OSError:  # something appeared in it after all: keep it, never delete what is not ours
        print(f"relulab: kept {aside}: files appeared in the old run while it was replaced", file=sys.stderr)
