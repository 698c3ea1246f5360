"""Datasets for the article's model family: MNIST, Fashion-MNIST, scikit-learn's digits, or your own file.

    >>> from relulab import data
    >>> ds = data.load("digits")  # offline, bundled with scikit-learn
    >>> ds.x_train.shape, ds.num_classes
    ((1347, 64), 10)
    >>> data.load("my_table.csv", scaling="standard", test_fraction=0.2)
    >>> data.load("mnist", data_path="/data/mnist.npz", train_size=1000)

Every loader returns a :class:`Dataset` (float32 inputs, int64 labels) and every problem with the input
(a missing or corrupt file, bad labels, a bad argument) raises :class:`~relulab.errors.DataError`, a
``ValueError`` whose one-line message names the file or argument, the problem and what is allowed.
See :mod:`relulab.data.builtin` for where each built-in dataset comes from on a machine without internet.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from relulab import _validate
from relulab.data import builtin, files, idx, prepare
from relulab.data.dataset import Dataset, Raw
from relulab.errors import DataError

__all__ = ["DataError", "Dataset", "available", "load"]

_OWNER = "load"


def load(
    name_or_path: str | os.PathLike[str],
    *,
    data_path: str | os.PathLike[str] | None = None,
    scaling: str = "unit",
    flatten: bool = True,
    seed: int = 0,
    train_size: int | None = None,
    test_size: int | None = None,
    test_fraction: float = 0.25,
) -> Dataset:
    """Load a built-in dataset or a file, checked, split, scaled and ready for ``model.fit``.

    Example:
        >>> ds = load("fashion_mnist", train_size=5000)
        >>> model.fit(ds.x_train, ds.y_train, validation_data=(ds.x_test, ds.y_test))

    Args:
        name_or_path: a built-in name (:func:`available`; case, ``-`` and ``_`` are interchangeable), or a
            path: an ``.npz`` with ``x_train, y_train, x_test, y_test`` (or ``x, y``), a ``.csv`` with a
            ``label`` column (else the first column is the label), or a folder of MNIST-style IDX files.
            A plain string that is a built-in name is the built-in dataset; pass ``./mnist`` for a file.
        data_path: a local copy of mnist or fashion_mnist: an ``.npz`` in Keras' layout or a folder of the
            four IDX files (``train-images-idx3-ubyte.gz``, ...). Default None: the usual sources.
        scaling: ``"unit"`` (default): images divided by their maximum (255; 16 for digits), a user's file
            min-max scaled per feature to [0, 1] over the training set. ``"standard"``: each feature minus
            its training mean, divided by its training standard deviation. Constant features stay finite.
            ``"none"``: the values as stored.
        flatten: reshape each image to a vector (default True, for MLPs): ``input_shape`` (784,) not (28, 28).
        seed: seed of the split of data without one (digits, csv, an ``x, y`` npz); default 0.
        train_size, test_size: keep only the first N training / test examples (>= 1); default None: all.
        test_fraction: the share held out as the test set when splitting, in (0, 1); default 0.25.

    Labels: integer class indices >= 0 (integer-valued floats are accepted); ``num_classes`` is the largest
    label over train and test plus one (10 for the built-ins), computed before ``train_size``/``test_size``,
    so a test label need not occur in the training set.

    Raises:
        DataError: an unknown name, a missing, empty, corrupt or truncated file, missing keys, labels that
            are not integers >= 0, NaN or infinite features, mismatched lengths, a bad argument, or a
            built-in dataset that is neither on this machine nor downloadable.
    """
    _check_arguments(
        scaling=scaling, flatten=flatten, seed=seed, train_size=train_size, test_size=test_size,
        test_fraction=test_fraction,
    )
    raw = _read(name_or_path, data_path)
    return prepare.build(
        raw, scaling=scaling, flatten=flatten, seed=seed, train_size=train_size, test_size=test_size,
        test_fraction=test_fraction,
    )


def available() -> dict[str, str]:
    """The built-in datasets: name -> one line about it (size, classes, where it comes from)."""
    return builtin.available()


def _read(name_or_path: Any, data_path: Any) -> Raw:
    """The raw arrays ``name_or_path`` names: a built-in dataset, a file or an IDX folder."""
    from relulab.activations.spec import normalise_name

    if not isinstance(name_or_path, (str, os.PathLike)):
        raise DataError(
            f"name_or_path of load must be {_allowed_names()}. Received: name_or_path={name_or_path!r}"
        )
    if data_path is not None and not isinstance(data_path, (str, os.PathLike)):
        raise DataError(f"data_path of load must be a path or None. Received: data_path={data_path!r}")
    if isinstance(name_or_path, str) and normalise_name(name_or_path) in builtin.BUILTINS:
        return builtin.read(normalise_name(name_or_path), data_path)
    path = Path(name_or_path).expanduser()
    if data_path is not None:
        raise DataError(
            f"data_path of load is only for the built-in mnist and fashion_mnist, not for a file such as "
            f"{str(path)!r}. Received: data_path={str(data_path)!r}"
        )
    if path.suffix.lower() in files.SUFFIXES or path.is_file():
        return files.read(path)
    if path.is_dir():
        return idx.read_folder(path, name=path.name)
    raise DataError(
        f"name_or_path of load must be {_allowed_names()}. Received: name_or_path={str(name_or_path)!r}"
    )


def _allowed_names() -> str:
    names = ", ".join(repr(name) for name in builtin.BUILTINS)
    return f"one of {names}, or a path to an existing .npz/.csv file or IDX folder"


def _check_arguments(**arguments: Any) -> None:
    """Check ``load``'s keyword arguments; a bad one raises a DataError naming it."""
    try:
        _validate.one_of(arguments["scaling"], prepare.SCALINGS, name="scaling", owner=_OWNER)
        _validate.boolean(arguments["flatten"], name="flatten", owner=_OWNER)
        _validate.seed(arguments["seed"], name="seed", owner=_OWNER)
        for name in ("train_size", "test_size"):
            if arguments[name] is not None:
                _validate.positive_int(arguments[name], name=name, owner=_OWNER)
        fraction = arguments["test_fraction"]
        _validate.number(fraction, name="test_fraction", owner=_OWNER, strictly_above=0.0, maximum=1.0)
        if fraction >= 1:
            raise ValueError(
                f"test_fraction of load must be a finite number > 0 and < 1. Received: test_fraction={fraction!r}"
            )
    except (TypeError, ValueError) as error:
        raise DataError(str(error)) from error
