"""IDX files, the format of MNIST and Fashion-MNIST (optionally gzipped), read with every header checked.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one
big-endian uint32 per dimension, then the values in C order. A file whose size does not match its
header, whose gzip stream is broken, or whose header is not IDX raises a :class:`DataError` naming it.
Reference: http://yann.lecun.com/exdb/mnist/ (bottom of the page).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from relulab.data.dataset import Raw
from relulab.errors import DataError

# IDX type code -> NumPy dtype (big-endian, as the format stores them)
_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
# the four files of an MNIST-style folder: (part, file name without .gz, dimensions)
FILES = {
    "x_train": ("train-images-idx3-ubyte", 3),
    "y_train": ("train-labels-idx1-ubyte", 1),
    "x_test": ("t10k-images-idx3-ubyte", 3),
    "y_test": ("t10k-labels-idx1-ubyte", 1),
}


def read(path: str | Path, *, ndim: int) -> np.ndarray:
    """The array in the IDX file ``path`` (gzipped when its name ends in ``.gz``), which must have ``ndim``
    dimensions (3 for images, 1 for labels).

    Raises:
        DataError: the file is missing, empty, not gzip/IDX, truncated, too long, or has other dimensions.
    """
    path = Path(path)
    content = _read_bytes(path)
    if not content:
        raise DataError(f"{path} is empty; expected an IDX file ({_expected(ndim)})")
    if len(content) < 4 or content[0] != 0 or content[1] != 0 or content[2] not in _TYPES:
        raise DataError(
            f"{path} is not an IDX file: its magic number is 0x{content[:4].hex()}, expected 0x0000 then a type "
            f"code (08 for unsigned bytes) and the number of dimensions"
        )
    if content[3] != ndim:
        raise DataError(f"{path} has {content[3]} dimensions in its IDX header; expected {_expected(ndim)}")
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DataError(f"{path} is truncated: {len(content)} bytes, shorter than its {header}-byte IDX header")
    shape = tuple(int(d) for d in np.frombuffer(content, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_TYPES[content[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(content) != expected:
        problem = "is truncated" if len(content) < expected else "has trailing bytes"
        raise DataError(
            f"{path} {problem}: {len(content)} bytes, but its IDX header {shape} of {dtype.name} needs {expected}"
        )
    return np.frombuffer(content, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def find(folder: str | Path) -> tuple[dict[str, Path], list[str]]:
    """The four MNIST-style IDX files in ``folder`` (``name`` or ``name.gz``) and the names it lacks."""
    folder = Path(folder)
    found, missing = {}, []
    for part, (stem, _) in FILES.items():
        candidates = [folder / f"{stem}.gz", folder / stem]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            missing.append(f"{stem}.gz")
        else:
            found[part] = path
    return found, missing


def read_folder(folder: str | Path, *, name: str) -> Raw:
    """The train and test images and labels of an MNIST-style folder of four IDX files.

    Raises:
        DataError: a file is missing or unreadable, or a labels file does not match its images file.
    """
    folder = Path(folder)
    found, missing = find(folder)
    if missing:
        raise DataError(
            f"{folder} lacks {', '.join(missing)}; an IDX folder needs "
            f"{', '.join(stem + '.gz' for stem, _ in FILES.values())} (gzipped or not)"
        )
    arrays = {part: read(found[part], ndim=FILES[part][1]) for part in FILES}
    for split in ("train", "test"):
        images, labels = found[f"x_{split}"], found[f"y_{split}"]
        if len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]):
            raise DataError(
                f"{images} holds {len(arrays[f'x_{split}'])} images but {labels} holds "
                f"{len(arrays[f'y_{split}'])} labels; each image needs exactly one label"
            )
    what = {part: str(path) for part, path in found.items()}
    return Raw(name=name, source=str(folder), what=what, **arrays)


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise DataError(f"{path} does not exist; expected an IDX file")
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as stream:
                return stream.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{path} is not a readable gzip file (corrupt or truncated): {error}") from error


def _expected(ndim: int) -> str:
    return {3: "3 for images (count, rows, columns)", 1: "1 for labels (count)"}.get(ndim, str(ndim))
