"""A user's own data: ``.npz`` archives in Keras' layout and ``.csv`` tables, read with every problem named.

``.npz``: keys ``x_train, y_train, x_test, y_test`` (the layout of Keras' ``mnist.npz``), or ``x, y``
for data without a split (relulab then splits it like a csv).

``.csv``: comma-separated numbers, one example per line. The first line is a header when any of its
cells is not a number. The label is the column named ``label`` (any case) when the header has one,
otherwise the first column; every other column is a numeric feature. A csv has no split.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from relulab.data.dataset import Raw
from relulab.errors import DataError

SUFFIXES = (".npz", ".csv")
SPLIT_KEYS = ("x_train", "y_train", "x_test", "y_test")
UNSPLIT_KEYS = ("x", "y")
_ZIP_MAGIC = b"PK\x03\x04"


def read(path: str | Path) -> Raw:
    """The arrays in ``path``: by its suffix (``.npz``/``.csv``), else by its content (zip: npz, text: csv)."""
    path = Path(path)
    _check_file(path)
    suffix = path.suffix.lower()
    if suffix == ".npz" or (suffix != ".csv" and _starts_with(path, _ZIP_MAGIC)):
        return read_npz(path)
    return read_csv(path)


def read_npz(path: str | Path, *, name: str | None = None) -> Raw:
    """The arrays of an ``.npz`` archive in Keras' layout (or ``x, y`` without a split).

    Raises:
        DataError: missing, empty, corrupt or truncated file, or keys missing.
    """
    path = Path(path)
    _check_file(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as error:  # noqa: BLE001 - zip, pickle and OS errors all mean "not a readable .npz"
        raise DataError(
            f"{path} is not a readable .npz archive (corrupt or truncated): {one_line(error)}"
        ) from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(
            f"{path} holds a single array (.npy); expected an .npz archive with keys {', '.join(SPLIT_KEYS)}"
        )
    with archive:
        keys = SPLIT_KEYS if "x_train" in archive.files or "x" not in archive.files else UNSPLIT_KEYS
        missing = [key for key in keys if key not in archive.files]
        if missing:
            raise DataError(
                f"{path} lacks the key{'s' if len(missing) > 1 else ''} {', '.join(missing)} (found: "
                f"{', '.join(archive.files) or 'none'}); an .npz needs {', '.join(SPLIT_KEYS)} (Keras' mnist.npz "
                f"layout) or {', '.join(UNSPLIT_KEYS)}"
            )
        try:
            arrays = {key: archive[key] for key in keys}
        except Exception as error:  # noqa: BLE001 - a broken member: bad CRC, truncated, pickled objects
            raise DataError(
                f"{path} is not a readable .npz archive (corrupt, truncated or holding Python objects): "
                f"{one_line(error)}"
            ) from error
    if keys == UNSPLIT_KEYS:
        arrays = {"x_train": arrays["x"], "y_train": arrays["y"]}
        what = {"x_train": f"x in {path}", "y_train": f"y in {path}"}
    else:
        what = {}
    return Raw(name=name or path.stem, source=str(path), what=what, **arrays)


def read_csv(path: str | Path, *, name: str | None = None) -> Raw:
    """The features and labels of a ``.csv`` table (no split).

    Raises:
        DataError: missing, empty or non-text file; a header without data; rows of different lengths;
            a cell that is not a number; fewer than two columns.
    """
    path = Path(path)
    _check_file(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(
            f"{path} is not a UTF-8 text file, so not a csv: {error.reason} at byte {error.start}"
        ) from error
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise DataError(f"{path} has no rows; a csv needs one example per line: a label and numeric features")
    header = next(csv.reader([lines[first]]))
    has_header = not all(_is_number(cell) for cell in header)
    columns = [cell.strip() for cell in header] if has_header else [f"column {i + 1}" for i in range(len(header))]
    lowered = [c.lower() for c in columns]
    label = lowered.index("label") if has_header and "label" in lowered else 0
    start = first + 1 if has_header else first
    if len(columns) < 2:
        raise DataError(
            f"{path} has {len(columns)} column; a csv needs a label column and at least one feature column"
        )
    if not any(line.strip() for line in lines[start:]):
        raise DataError(f"{path} has a header but no data rows; a csv needs one example per line after it")
    table = _parse(path, lines, start, columns, label)
    features = np.delete(table, label, axis=1)
    where = f"of {path}"
    what = {"x_train": f"features {where}", "y_train": f"labels (column {columns[label]!r}) {where}"}
    return Raw(name=name or path.stem, source=str(path), x_train=features, y_train=table[:, label], what=what)


def _parse(path: Path, lines: list[str], start: int, columns: list[str], label: int) -> np.ndarray:
    """The numbers of ``lines[start:]`` as a float64 table; NumPy's fast parser first, then, when it fails,
    a cell-by-cell pass that finds the first bad line and column to name it."""
    body = "\n".join(line for line in lines[start:] if line.strip())
    try:
        table = np.loadtxt(
            io.StringIO(body), delimiter=",", dtype=np.float64, ndmin=2, comments=None, quotechar='"'
        )
        if table.shape[1] == len(columns):
            return table
    except ValueError as error:
        problem = one_line(error)
    else:
        problem = f"rows have {table.shape[1]} fields"
    for number, row in enumerate(csv.reader(lines[start:]), start=start + 1):
        if not row or not "".join(row).strip():
            continue
        if len(row) != len(columns):
            raise DataError(
                f"{path} line {number} has {len(row)} fields, expected {len(columns)} like line {max(start, 1)}"
            )
        for index, cell in enumerate(row):
            if not _is_number(cell):
                if index == label:
                    raise DataError(
                        f"labels (column {columns[label]!r}) of {path} must be integer class indices >= 0; "
                        f"found {cell!r} on line {number}"
                    )
                raise DataError(
                    f"{path} line {number}, column {columns[index]!r}: {cell!r} is not a number; feature columns "
                    f"must be numeric"
                )
    raise DataError(f"{path} could not be read as a csv of numbers: {problem}")


def _check_file(path: Path) -> None:
    allowed = (
        "expected a .npz (keys x_train, y_train, x_test, y_test) or .csv (a label column and numeric features)"
    )
    if not path.exists():
        raise DataError(f"{path} does not exist; {allowed}")
    if not path.is_file():
        raise DataError(f"{path} is not a file; {allowed}")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty; {allowed}")


def _starts_with(path: Path, magic: bytes) -> bool:
    with path.open("rb") as stream:
        return stream.read(len(magic)) == magic


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())

