"""Train one model of the article's family on one dataset: the library side of ``relulab train``.

:class:`TrainConfig` holds every setting with its unit; :func:`train` builds the model, fits it and
evaluates it, and returns a :class:`TrainResult`. Writing a run folder is :mod:`relulab.runs`' job.

Determinism: :func:`train` seeds Python, NumPy and the backend (``keras.utils.set_random_seed``)
before building the model, so the same seed gives the same initial weights, the same data order and,
on the same machine and library versions, the same history. It does not enable TensorFlow's op
determinism: the article's model uses no op that is non-deterministic on CPU, and that switch slows
training down; on a GPU, small differences between runs can remain.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import keras

from relulab import _validate, models

SCALINGS = ("unit", "standard")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Every setting of one training run; the resolved copy is saved next to its results."""

    dataset: str = "digits"  # a built-in name (relulab list datasets) or a .npz/.csv path
    data_path: str | None = None  # a local copy of a built-in dataset (mnist.npz, IDX folder)
    activation: str = "relu"  # an activation spec (relulab list activations)
    hidden: tuple[int, ...] = models.DEFAULT_HIDDEN  # widths of the hidden layers, units
    kernel_initializer: str = models.DEFAULT_INITIALIZER  # Keras initializer name
    batch_norm: bool = False  # batch normalisation before each activation
    dropout: float = 0.0  # dropout rate after each hidden layer, in [0, 0.99]
    learning_rate: float = models.DEFAULT_LEARNING_RATE  # Adam's step size
    epochs: int = models.DEFAULT_EPOCHS  # passes over the training set
    batch_size: int = models.DEFAULT_BATCH_SIZE  # examples per step
    seed: int = 0  # initial weights and data order
    scaling: str = "unit"  # inputs to [0, 1] ("unit") or z-scores ("standard")
    train_size: int | None = None  # use the first N training examples (None: all)
    test_size: int | None = None  # use the first N test examples (None: all)
    monitor: bool = False  # record dead units and gradient flow every epoch

    def __post_init__(self) -> None:
        owner = "TrainConfig"
        object.__setattr__(self, "hidden", models.hidden_sizes(list(self.hidden)))
        models.initializer(self.kernel_initializer)
        _validate.positive_int(self.epochs, name="epochs", owner=owner)
        _validate.positive_int(self.batch_size, name="batch_size", owner=owner)
        _validate.number(self.learning_rate, name="learning_rate", owner=owner, strictly_above=0.0)
        _validate.number(self.dropout, name="dropout", owner=owner, minimum=0.0, maximum=0.99)
        _validate.one_of(self.scaling, SCALINGS, name="scaling", owner=owner)
        _validate.seed(self.seed, name="seed", owner=owner)
        for name in ("train_size", "test_size"):
            if getattr(self, name) is not None:
                _validate.positive_int(getattr(self, name), name=name, owner=owner)

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "hidden": list(self.hidden)}


@dataclasses.dataclass
class TrainResult:
    """What a run produced: the model, its per-epoch history and the final test metrics."""

    model: keras.Model
    history: dict[str, list[float]]
    test_loss: float
    test_accuracy: float
    seconds: float  # wall time of fit + evaluate

    def metrics(self) -> dict[str, float]:
        return {"test_loss": self.test_loss, "test_accuracy": self.test_accuracy, "seconds": self.seconds}


def load_data(config: TrainConfig):
    """The dataset ``config`` names, scaled and sliced as it says."""
    from relulab import data

    return data.load(
        config.dataset, data_path=config.data_path, scaling=config.scaling, seed=config.seed,
        train_size=config.train_size, test_size=config.test_size,
    )


def build_model(config: TrainConfig, dataset: Any) -> keras.Model:
    """The compiled MLP for ``config`` on ``dataset``, with seeded initial weights."""
    keras.utils.set_random_seed(config.seed)
    return models.mlp(
        dataset.input_shape, dataset.num_classes, hidden=config.hidden, activation=config.activation,
        kernel_initializer=config.kernel_initializer, batch_norm=config.batch_norm,
        dropout=config.dropout, learning_rate=config.learning_rate, seed=config.seed,
    )


def train(
    config: TrainConfig,
    dataset: Any = None,
    *,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = 0,
) -> TrainResult:
    """Build, fit and evaluate the model ``config`` describes (loading the data unless given)."""
    dataset = load_data(config) if dataset is None else dataset
    models.check_fits(dataset.input_shape, dataset.num_classes, config.hidden,
                      rows=max(config.batch_size, models.EVALUATION_BATCH_SIZE), owner="TrainConfig")
    model = build_model(config, dataset)
    # Monitors first: they add their metrics to the epoch logs that later callbacks (CSVLogger,
    # EarlyStopping, a progress bar) read.
    callbacks = [*(monitors(dataset) if config.monitor else []), *callbacks]
    start = time.perf_counter()
    fitted = model.fit(
        dataset.x_train, dataset.y_train, epochs=config.epochs, batch_size=config.batch_size,
        shuffle=True, callbacks=callbacks, verbose=verbose,
    )
    test_loss, test_accuracy = model.evaluate(dataset.x_test, dataset.y_test, batch_size=models.EVALUATION_BATCH_SIZE,
                                              verbose=0)
    seconds = time.perf_counter() - start
    history = {key: [float(v) for v in values] for key, values in fitted.history.items()}
    return TrainResult(model, history, float(test_loss), float(test_accuracy), seconds)


def monitors(dataset: Any) -> list[keras.callbacks.Callback]:
    """The dead-unit and gradient-flow monitors, probing a slice of the training set."""
    from relulab import callbacks

    return callbacks.default_monitors(dataset.x_train, dataset.y_train)
