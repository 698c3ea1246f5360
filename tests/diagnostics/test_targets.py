"""Labels fitted to the loss, a loss inferred from the output layer, and both used by ``diagnose``."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from relulab.diagnostics import diagnose
from relulab.diagnostics.targets import fit_labels, infer_loss

X = np.random.default_rng(0).uniform(0, 1, (30, 4)).astype("float32")


def model(units, activation, *, loss=None):
    keras.utils.set_random_seed(0)
    built = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu", name="h"),
                              keras.layers.Dense(units, activation=activation, name="out")])
    if loss is not None:
        built.compile(optimizer="adam", loss=loss)
    return built


@pytest.mark.parametrize("units, activation, expected", [
    (3, "softmax", "sparse_categorical_crossentropy"),
    (1, "sigmoid", "binary_crossentropy"),
    (2, "sigmoid", "binary_crossentropy"),
    (1, None, "mean_squared_error"),
    (3, "relu", "mean_squared_error"),
])
def test_the_loss_is_inferred_from_the_output(units, activation, expected):
    assert infer_loss(model(units, activation)) == expected


def test_a_softmax_layer_after_a_linear_dense_counts_as_softmax():
    built = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Softmax()])
    assert infer_loss(built) == "sparse_categorical_crossentropy"


@pytest.mark.parametrize("y, units, activation, loss, expected", [
    ([0, 2, 1], 3, "softmax", "categorical_crossentropy", np.eye(3)[[0, 2, 1]]),
    ([[0], [2], [1]], 3, "softmax", keras.losses.CategoricalCrossentropy(), np.eye(3)[[0, 2, 1]]),
    (np.eye(3)[[0, 2, 1]], 3, "softmax", "sparse_categorical_crossentropy", [0, 2, 1]),
    ([0, 2, 1], 3, "softmax", "sparse_categorical_crossentropy", [0, 2, 1]),
    ([0, 1, 1], 1, "sigmoid", "binary_crossentropy", [[0], [1], [1]]),
    ([0.5, 1.5, 2.0], 1, None, "mse", [[0.5], [1.5], [2.0]]),
])
def test_labels_are_shaped_for_the_loss(y, units, activation, loss, expected):
    fitted = fit_labels(np.asarray(y), model(units, activation), loss)
    assert np.array_equal(fitted, np.asarray(expected))


@pytest.mark.parametrize("y, units, activation, loss, match", [
    ([0, 3], 3, "softmax", "categorical_crossentropy",
     r"y of diagnose must hold class indices from 0 to 2 for this model's 3 outputs. Received: labels from 0 to 3"),
    ([0, -1], 3, "softmax", "sparse_categorical_crossentropy", r"class indices from 0 to 2 .* from -1 to 0"),
    ([0, 2], 1, "sigmoid", "binary_crossentropy",
     r"y of diagnose must lie in \[0, 1\] for binary_crossentropy on a sigmoid output. Received: labels from 0 to 2"),
    (np.eye(7)[[0, 6]], 10, "softmax", "sparse_categorical_crossentropy",  # one-hot of the wrong width
     r"y of diagnose must hold one class index per example, shape \(n,\) or \(n, 1\), or one-hot rows of 10 columns "
     r"for this model's 10 outputs. Received: y with shape \(2, 7\)"),
    (np.eye(7)[[0, 6]], 10, "softmax", "categorical_crossentropy", r"one-hot rows of 10 columns .* shape \(2, 7\)"),
    (np.full((2, 3), 0.5), 3, "softmax", "sparse_categorical_crossentropy", r"one-hot rows of 3 .* shape \(2, 3\)"),
])
def test_labels_outside_the_outputs_range_are_refused(y, units, activation, loss, match):
    with pytest.raises(ValueError, match=match):
        fit_labels(np.asarray(y), model(units, activation), loss)


def test_diagnose_fits_integer_labels_to_a_categorical_model_and_infers_a_missing_loss():
    y = np.arange(30) % 3
    categorical = diagnose(model(3, "softmax", loss="categorical_crossentropy"), X, y)
    sparse = diagnose(model(3, "softmax", loss="sparse_categorical_crossentropy"), X, y)
    assert categorical.grad_norms == pytest.approx(sparse.grad_norms)  # the same loss, labels one-hot
    assert (categorical.loss, categorical.loss_inferred) == ("categorical_crossentropy", False)
    inferred = diagnose(model(3, "softmax"), X, y)
    assert (inferred.loss, inferred.loss_inferred) == ("sparse_categorical_crossentropy", True)
    assert inferred.grad_norms == pytest.approx(sparse.grad_norms)
    assert "loss: sparse_categorical_crossentropy (inferred from the output layer" in inferred.to_text()
    override = diagnose(model(3, "softmax"), X, y, loss="categorical_crossentropy")
    assert (override.loss, override.loss_inferred) == ("categorical_crossentropy", False)


def test_a_one_unit_sigmoid_model_takes_flat_labels():
    report = diagnose(model(1, "sigmoid", loss="binary_crossentropy"), X, np.arange(30) % 2)
    assert set(report.grad_norms) == {"h", "out"} and report.grad_norms["h"] > 0
