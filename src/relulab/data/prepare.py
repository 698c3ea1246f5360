"""From checked arrays to a :class:`Dataset`: split, take the first N, flatten and scale.

Order: the split (for sources without one) comes first, then ``train_size``/``test_size`` take the
first N examples of each side, then images are flattened, and last the inputs are scaled with
statistics of the training examples that remain, so that no test example leaks into the scaling.
"""

from __future__ import annotations

import numpy as np

from relulab.data import checks
from relulab.data.dataset import Dataset, Raw
from relulab.errors import DataError

SCALINGS = ("unit", "standard", "none")


def build(
    data: Raw,
    *,
    scaling: str,
    flatten: bool,
    seed: int,
    train_size: int | None,
    test_size: int | None,
    test_fraction: float,
) -> Dataset:
    """The :class:`Dataset` for ``data``, after checking every array (see :mod:`relulab.data.checks`)."""
    data = checks.raw(data)
    num_classes = checks.num_classes(data)
    if data.has_split:
        x_train, y_train, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
    else:
        x_train, y_train, x_test, y_test = split(
            data.x_train, data.y_train, test_fraction=test_fraction, seed=seed, what=data.source
        )
    x_train, y_train = take_first(
        x_train, y_train, train_size, name="train_size", what=f"training examples of {data.name}"
    )
    x_test, y_test = take_first(x_test, y_test, test_size, name="test_size", what=f"test examples of {data.name}")
    if flatten:
        x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    x_train, x_test = scale(x_train, x_test, scaling=scaling, maximum=data.maximum)
    return Dataset(
        name=data.name, source=data.source, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
        num_classes=num_classes, input_shape=x_train.shape[1:],
    )


def split(
    x: np.ndarray, y: np.ndarray, *, test_fraction: float, seed: int, what: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``x``/``y`` with ``seed`` and hold out ``test_fraction`` of them as the test set.

    The split is stratified (each class keeps its share on both sides) whenever every class has at least
    two examples and both sides can hold one example of each class; otherwise it is a plain shuffled split.
    The test side gets ``ceil(test_fraction * N)`` examples, as in scikit-learn.
    """
    from sklearn.model_selection import train_test_split

    n = len(x)
    n_test = int(np.ceil(test_fraction * n))
    if n < 2 or n_test >= n:
        raise DataError(
            f"{what} has {n} example{'' if n == 1 else 's'}, too few to split with test_fraction={test_fraction:g}; "
            f"both the training and the test set need at least 1 example"
        )
    counts = np.bincount(y)
    classes = int((counts > 0).sum())
    stratify = y if counts[counts > 0].min() >= 2 and classes <= n_test and classes <= n - n_test else None
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=n_test, random_state=seed, shuffle=True, stratify=stratify
    )
    return x_train, y_train, x_test, y_test


def take_first(
    x: np.ndarray, y: np.ndarray, size: int | None, *, name: str, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``size`` examples (all of them when ``size`` is None); more than there are is an error."""
    if size is None:
        return x, y
    if size > len(x):
        raise DataError(f"{name} of load must be <= {len(x)}, the number of {what}. Received: {name}={size}")
    return x[:size], y[:size]


def scale(
    x_train: np.ndarray, x_test: np.ndarray, *, scaling: str, maximum: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Scale inputs with training-set statistics, per feature; float32 out.

    ``"unit"``: divide by the known ``maximum`` (255 for MNIST pixels, 16 for digits) or, when it is
    ``None`` (a user's file), min-max scale each feature to [0, 1] over the training set; test values may
    then fall outside [0, 1]. ``"standard"``: subtract each feature's training mean and divide by its
    training standard deviation. A constant feature (range or std 0) is only shifted, never divided by 0.
    ``"none"``: the values as they are.
    """
    if scaling == "none":  # the values as stored (relulab repair, for a model trained on raw inputs)
        return x_train.astype(np.float32, copy=False), x_test.astype(np.float32, copy=False)
    if scaling == "unit" and maximum is not None:
        return tuple((x / np.float32(maximum)).astype(np.float32, copy=False) for x in (x_train, x_test))
    if scaling == "unit":
        offset = x_train.min(axis=0).astype(np.float64)
        spread = x_train.max(axis=0).astype(np.float64) - offset
    else:
        offset = x_train.mean(axis=0, dtype=np.float64)
        spread = x_train.std(axis=0, dtype=np.float64)
    offset = offset.astype(np.float32)
    spread = np.where(spread > 0, spread, 1.0).astype(np.float32)
    return tuple(((x - offset) / spread).astype(np.float32, copy=False) for x in (x_train, x_test))
