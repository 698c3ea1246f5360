"""Train one model of the article's family on one dataset: the one training loop of relulab.

:class:`TrainConfig` holds every setting with its unit; :func:`train` builds the model and hands it to
:func:`fit`, which trains it in the data order :func:`epoch_order` gives and evaluates it on the test set
after every epoch; it returns a :class:`TrainResult`. ``relulab train`` and the lab's sequential engine
both call :func:`train`, so a lab row re-run with ``relulab train`` gives the identical history. Writing a
run folder is :mod:`relulab.runs`' job.

Determinism: :func:`train` seeds Python, NumPy and the backend (``keras.utils.set_random_seed``)
before building the model, so the same seed gives the same initial weights, the same data order and,
on the same machine and library versions, the same history. The train/test split of data that has none
is the dataset's fixed split (seed 0), the same for every run seed, so that runs are compared on the same
examples. It does not enable TensorFlow's op determinism: the article's model uses no op that is
non-deterministic on CPU, and that switch slows training down; on a GPU, small differences between runs
can remain.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

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
    seed: int = 0  # initial weights and data order (not the train/test split, which is fixed)
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
    seconds: float  # wall time of fit, test evaluations included

    def metrics(self) -> dict[str, float]:
        return {"test_loss": self.test_loss, "test_accuracy": self.test_accuracy, "seconds": self.seconds}


def load_data(config: TrainConfig):
    """The dataset ``config`` names, scaled and sliced as it says (its fixed train/test split)."""
    from relulab import data

    return data.load(
        config.dataset, data_path=config.data_path, scaling=config.scaling,
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
    """Build the model ``config`` describes and :func:`fit` it (loading the data unless given)."""
    dataset = load_data(config) if dataset is None else dataset
    models.check_fits(dataset.input_shape, dataset.num_classes, config.hidden,
                      rows=max(config.batch_size, models.EVALUATION_BATCH_SIZE), owner="TrainConfig")
    return fit(build_model(config, dataset), dataset, seed=config.seed, epochs=config.epochs,
               batch_size=config.batch_size, monitor=config.monitor, callbacks=callbacks, verbose=verbose)


def fit(
    model: keras.Model,
    dataset: Any,
    *,
    seed: int,
    epochs: int,
    batch_size: int,
    monitor: bool = False,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = 0,
) -> TrainResult:
    """Fit the compiled ``model`` on ``dataset``'s training set in the order :func:`epoch_order` gives, with
    the test set evaluated after every epoch (``val_loss``, ``val_accuracy``); the last evaluation is the
    result's test loss and accuracy. ``monitor`` adds the dead-unit and gradient-flow monitors.

    One ``model.fit`` call, so callbacks see one training (``on_train_begin`` once, every epoch's logs).
    """
    # Monitors first: they add their metrics to the epoch logs that later callbacks (CSVLogger,
    # EarlyStopping, a progress bar) read.
    callbacks = [*(monitors(dataset) if monitor else []), *callbacks]
    batches = EpochBatches(dataset.x_train, dataset.y_train, batch_size=batch_size, seed=seed)
    start = time.perf_counter()
    fitted = model.fit(
        batches, epochs=epochs, steps_per_epoch=batches.steps_per_epoch, shuffle=False,
        validation_data=(dataset.x_test, dataset.y_test), validation_batch_size=models.EVALUATION_BATCH_SIZE,
        callbacks=callbacks, verbose=verbose,
    )
    seconds = time.perf_counter() - start
    history = {key: [float(v) for v in values] for key, values in fitted.history.items()}
    return TrainResult(model, history, history["val_loss"][-1], history["val_accuracy"][-1], seconds)


def epoch_order(seed: int, epoch: int, size: int) -> np.ndarray:
    """The order in which a run with ``seed`` visits ``size`` training examples in ``epoch``.

    It depends only on the seed and the epoch, never on the activation, so runs that differ only in
    activation see the same batches (a paired design).
    """
    return np.random.default_rng([seed, epoch]).permutation(size)


class EpochBatches(keras.utils.PyDataset):
    """The training set as batches in :func:`epoch_order`, epoch after epoch, for one ``model.fit``.

    Batch ``i`` of the fit is batch ``i mod steps_per_epoch`` of epoch ``i // steps_per_epoch``: the
    sequence is endless (``num_batches`` is None) and indexed statelessly, so it does not depend on when
    Keras calls ``on_epoch_end`` or how far its input pipeline reads ahead; ``fit`` takes
    ``steps_per_epoch`` from it. The last batch of an epoch may be short.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, *, batch_size: int, seed: int) -> None:
        super().__init__()
        self.x, self.y, self.batch_size, self.seed = x, y, batch_size, seed
        self.steps_per_epoch = math.ceil(len(x) / batch_size)
        self._order: tuple[int, np.ndarray] | None = None  # (epoch, its order): one permutation per epoch

    @property
    def num_batches(self) -> None:
        return None

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        epoch, step = divmod(index, self.steps_per_epoch)
        if self._order is None or self._order[0] != epoch:
            self._order = (epoch, epoch_order(self.seed, epoch, len(self.x)))
        rows = self._order[1][step * self.batch_size:(step + 1) * self.batch_size]
        return self.x[rows], self.y[rows]


def monitors(dataset: Any) -> list[keras.callbacks.Callback]:
    """The dead-unit and gradient-flow monitors, probing a slice of the training set."""
    from relulab import callbacks

    return callbacks.default_monitors(dataset.x_train, dataset.y_train)
