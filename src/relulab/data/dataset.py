"""The :class:`Dataset` that every loader returns, and the :class:`Raw` arrays a reader hands over."""

from __future__ import annotations

import dataclasses

import numpy as np

from relulab.errors import DataError


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """A train/test split ready for ``model.fit``: float32 inputs and int64 class indices.

    Example:
        >>> ds = relulab.data.load("digits")
        >>> ds.describe()
        'digits: 1347 train + 450 test examples of shape (64,), 10 classes, from sklearn.datasets.load_digits'
        >>> model.fit(ds.x_train, ds.y_train, validation_data=(ds.x_test, ds.y_test))

    Attributes:
        name: the built-in name (``"mnist"``) or the file's stem.
        source: where the arrays came from: a file path, or the loader (``"sklearn.datasets.load_digits"``).
        x_train, x_test: float32 inputs, one example per row; the shape of one example is ``input_shape``.
        y_train, y_test: int64 class indices in ``[0, num_classes)``, one per example.
        num_classes: the size of the model's softmax (largest label over train and test, plus one).
        input_shape: the shape of one example as given to the model: ``(784,)`` flattened, ``(28, 28)``
            otherwise.

    Raises:
        DataError: arrays of the wrong dtype or shape, or labels outside ``[0, num_classes)``.
    """

    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    input_shape: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", tuple(int(d) for d in self.input_shape))
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if not isinstance(x, np.ndarray) or x.dtype != np.float32 or x.shape[1:] != self.input_shape:
                raise DataError(
                    f"x_{split} of Dataset must be a float32 array of shape (N, *{self.input_shape}). "
                    f"Received: x_{split} of {_kind(x)}"
                )
            if not isinstance(y, np.ndarray) or y.dtype != np.int64 or y.shape != (len(x),):
                raise DataError(
                    f"y_{split} of Dataset must be an int64 array of shape ({len(x)},), one label per example. "
                    f"Received: y_{split} of {_kind(y)}"
                )
        if isinstance(self.num_classes, bool) or not isinstance(self.num_classes, (int, np.integer)):
            raise DataError(
                f"num_classes of Dataset must be an integer >= 2. Received: num_classes={self.num_classes!r}"
            )
        labels = np.concatenate([self.y_train, self.y_test])
        if self.num_classes < 2 or (labels.size and (labels.min() < 0 or labels.max() >= self.num_classes)):
            raise DataError(
                f"num_classes of Dataset must be >= 2 and every label must lie in [0, num_classes). "
                f"Received: num_classes={self.num_classes}, labels in [{labels.min()}, {labels.max()}]"
            )

    @property
    def n_train(self) -> int:
        """Number of training examples."""
        return len(self.x_train)

    @property
    def n_test(self) -> int:
        """Number of test examples."""
        return len(self.x_test)

    def describe(self) -> str:
        """One line: name, sizes, example shape, classes and source."""
        return (
            f"{self.name}: {self.n_train} train + {self.n_test} test examples of shape {self.input_shape}, "
            f"{self.num_classes} classes, from {self.source}"
        )

    def __repr__(self) -> str:
        return f"Dataset({self.describe()})"


def _kind(array: object) -> str:
    if isinstance(array, np.ndarray):
        return f"dtype {array.dtype} and shape {array.shape}"
    return f"type {type(array).__name__}"


@dataclasses.dataclass
class Raw:
    """Arrays as a reader found them, before checks, split, slicing and scaling.

    A source without a split (a csv, digits) leaves ``x_test``/``y_test`` as ``None``; ``x_train`` and
    ``y_train`` then hold every example. ``what`` names each array in error messages.
    """

    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    maximum: float | None = None  # the known largest input value (255, 16); None: min-max from the train set
    num_classes: int | None = None  # the known number of classes of a built-in dataset
    example_shape: tuple[int, ...] | None = None  # the known shape of one example of a built-in dataset
    what: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def has_split(self) -> bool:
        return self.x_test is not None

    def describe(self, key: str) -> str:
        """How error messages name the array ``key`` (``"x_train in /data/mnist.npz"``)."""
        return self.what.get(key, f"{key} in {self.source}")
