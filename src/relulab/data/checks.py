"""Checks on the arrays a reader found: numeric finite features, integer labels, matching lengths.

Each check raises :class:`~relulab.errors.DataError` with one line that names the array and where it came
from (``"y_train in /data/mine.npz"``), what is wrong with it, and what is allowed.
"""

from __future__ import annotations

import numpy as np

from relulab import _memory
from relulab.data.dataset import Raw
from relulab.errors import DataError


def features(x: np.ndarray, *, what: str) -> np.ndarray:
    """``x`` as float32 after checking it is numeric, finite, one example per row and not empty."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise DataError(f"{what} must hold numbers (features); found values of dtype {x.dtype}")
    if x.ndim < 2:
        raise DataError(
            f"{what} must have one example per row, shape (N, features) or (N, height, width); "
            f"found shape {x.shape}"
        )
    if len(x) == 0:
        raise DataError(f"{what} has no examples; at least 1 is needed")
    x = x.astype(np.float32, copy=False)
    finite = np.isfinite(x)
    if not finite.all():
        example = int(np.argwhere(~finite)[0][0])
        value = x[~finite].flat[0]
        raise DataError(
            f"{what} has NaN or infinite values (first {value} in example {example}); features must be finite numbers"
        )
    return x


# The class count follows the largest label; it may exceed the number of examples (a test label need not
# occur in training, a small file may skip labels), but not by more than this floor: labels of 10**9 in a
# file of 100 examples are ids, not class indices, and their output layer would not fit in memory.
MIN_CLASS_LIMIT = 1000


def class_limit(examples: int) -> int:
    """The most classes a file of ``examples`` examples may have: that many, or :data:`MIN_CLASS_LIMIT`."""
    return max(MIN_CLASS_LIMIT, examples)


def labels(y: np.ndarray, *, what: str, limit: int | None = None) -> np.ndarray:
    """``y`` as int64 class indices after checking each is an integer >= 0 (integer-valued floats pass)
    and, with ``limit``, below ``limit`` (checked before any conversion, so 1e300 is named as it is);
    one-hot rows (0/1, one 1 per row) become their indices."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2 and y.size and y.dtype.kind in "biuf" and np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all():
        y = y.argmax(axis=1)
    rule = "labels must be integer class indices >= 0"
    if y.ndim != 1:
        raise DataError(f"{what} must be one label per example, shape (N,); found shape {y.shape}")
    if y.dtype.kind not in "biuf":
        sample = y.flat[0].item() if y.size else ""
        raise DataError(f"{what}: {rule}; found values of dtype {y.dtype} such as {sample!r}")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            index = int(np.argmax(bad))
            raise DataError(f"{what}: {rule}; found {y[index].item()!r} in example {index}")
    if y.size and y.min() < 0:
        index = int(np.argmin(y))
        raise DataError(f"{what}: {rule}; found {y[index].item()!r} in example {index}")
    if limit is not None and y.size and y.max() >= limit:
        index = int(np.argmax(y))
        raise DataError(_too_many_classes(what, y[index].item(), index, limit))
    return y.astype(np.int64)


def _too_many_classes(what: str, label: int | float, index: int, limit: int) -> str:
    if isinstance(label, float) and abs(label) < 2**53:  # a csv's 1000000000.0 is the label 1000000000
        label = int(label)
    classes = label + 1
    need = 2 * classes * _memory.BYTES_PER_PARAMETER  # one hidden unit's weight and a bias per class
    return (
        f"{what}: labels must be class indices 0..K-1 with K at most {limit:,} here (the number of examples, "
        f"or {MIN_CLASS_LIMIT:,} if that is more); found {label!r} in example {index}, which would make "
        f"{classes!r} classes: their output layer alone would need at least {_memory.describe_bytes(need)} "
        f"(this machine has {_memory.describe_bytes(_memory.available_bytes())})"
    )


def same_length(x: np.ndarray, y: np.ndarray, *, what_x: str, what_y: str) -> None:
    if len(x) != len(y):
        raise DataError(
            f"{what_x} has {len(x)} examples but {what_y} has {len(y)} labels; each example needs exactly one label"
        )


def raw(data: Raw) -> Raw:
    """``data`` with every array checked and converted: float32 features, int64 labels."""
    keys = ("train", "test") if data.has_split else ("train",)
    examples = sum(np.shape(y)[0] if np.ndim(y) else 1 for y in (getattr(data, f"y_{split}") for split in keys))
    limit = None if data.num_classes else class_limit(examples)  # a built-in's labels are checked against its count
    for split in keys:
        x_key, y_key = f"x_{split}", f"y_{split}"
        x = features(getattr(data, x_key), what=data.describe(x_key))
        y = labels(getattr(data, y_key), what=data.describe(y_key), limit=limit)
        same_length(x, y, what_x=data.describe(x_key), what_y=data.describe(y_key))
        _known_shape(data, x, x_key)
        _known_range(data, x, x_key)
        setattr(data, x_key, x)
        setattr(data, y_key, y)
    if data.has_split and data.x_test.shape[1:] != data.x_train.shape[1:]:
        raise DataError(
            f"{data.describe('x_test')} has examples of shape {data.x_test.shape[1:]} but "
            f"{data.describe('x_train')} has {data.x_train.shape[1:]}; train and test examples must have one shape"
        )
    return data


def num_classes(data: Raw) -> int:
    """Largest label over train and test plus one (or the built-in's known count); at least 2."""
    found = [data.y_train] + ([data.y_test] if data.has_split else [])
    largest = int(max(int(y.max()) for y in found))
    if data.num_classes is not None:
        if largest >= data.num_classes:
            raise DataError(
                f"labels of {data.name} in {data.source} must lie in [0, {data.num_classes - 1}]; found {largest}"
            )
        return data.num_classes
    if largest < 1:
        raise DataError(
            f"labels in {data.source} are all 0; a classifier needs at least 2 classes (labels 0 and 1)"
        )
    return largest + 1


def _known_shape(data: Raw, x: np.ndarray, key: str) -> None:
    if data.example_shape is not None and x.shape[1:] != data.example_shape:
        size = "x".join(str(d) for d in data.example_shape)
        raise DataError(
            f"{data.describe(key)} has examples of shape {x.shape[1:]}; {data.name} examples are {size} images"
        )


def _known_range(data: Raw, x: np.ndarray, key: str) -> None:
    if data.maximum is not None and (x.min() < 0 or x.max() > data.maximum):
        raise DataError(
            f"{data.describe(key)} has values in [{x.min():g}, {x.max():g}]; {data.name} pixels must lie in "
            f"[0, {data.maximum:g}]"
        )
