"""Labels that fit the model and its loss, and a loss for a model that was saved without one.

Users bring labels as their data holds them and models as they were compiled (or not): integer class
labels for a ``categorical_crossentropy`` model, ``(N,)`` labels for a one-unit sigmoid output, one-hot
rows for a sparse loss. :func:`fit_labels` reshapes them to what the loss expects, after checking they lie
in the output's range; :func:`infer_loss` picks a loss from the output layer when the model has none:

====================================  ====================================
output                                inferred loss
====================================  ====================================
softmax with k > 1 units              ``sparse_categorical_crossentropy``
sigmoid (one unit, or k multi-label)  ``binary_crossentropy``
anything else (linear, ...)           ``mean_squared_error``
====================================  ====================================

:func:`chance_loss` is the loss of a classifier that predicts uniform probabilities: the yardstick of the
diverging-loss rule (:func:`relulab.diagnostics.advice.loss_findings`).

Used by :func:`relulab.diagnose`, ``relulab diagnose``, :class:`relulab.callbacks.GradientFlowMonitor`.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

SPARSE_LOSSES = frozenset({"sparse_categorical_crossentropy", "sparse_categorical_hinge"})
CATEGORICAL_LOSSES = frozenset({"categorical_crossentropy", "categorical_hinge", "categorical_focal_crossentropy",
                                "kl_divergence", "kld", "kullback_leibler_divergence"})
BINARY_LOSSES = frozenset({"binary_crossentropy", "binary_focal_crossentropy", "hinge", "squared_hinge"})


def output_activation(model: keras.Model) -> tuple[str, int | None]:
    """``(activation name, units)`` of the layer that produces ``model``'s one output ("linear" if none)."""
    outputs = getattr(model, "outputs", None) or []
    layer = None
    if len(outputs) == 1:
        history = getattr(outputs[0], "_keras_history", None)
        layer = getattr(history, "operation", None)
    if layer is None and getattr(model, "layers", None):
        layer = model.layers[-1]
    units = int(outputs[0].shape[-1]) if len(outputs) == 1 and outputs[0].shape[-1] is not None else None
    if isinstance(layer, keras.layers.Softmax):
        return "softmax", units
    function = getattr(layer, "activation", None)
    name = getattr(function, "__name__", None) or (type(function).__name__.lower() if function else "linear")
    return name, units


def infer_loss(model: keras.Model) -> str:
    """The Keras loss name for a model that has none, from its output layer (table in the module doc).

    Example:
        >>> infer_loss(keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")]))
        'binary_crossentropy'
    """
    activation, units = output_activation(model)
    if activation == "softmax" and (units is None or units > 1):
        return "sparse_categorical_crossentropy"
    if activation == "sigmoid":
        return "binary_crossentropy"
    return "mean_squared_error"


def loss_name(loss: Any) -> str | None:
    """The snake-case name of a Keras loss given as a name, function or ``keras.losses.Loss``; None if unknown."""
    if isinstance(loss, str):
        function = keras.losses.get(loss)
        return getattr(getattr(function, "fn", function), "__name__", loss)
    function = getattr(loss, "fn", loss)
    return getattr(function, "__name__", None)


def _one_hot_rows(y: np.ndarray) -> bool:
    return y.ndim == 2 and bool(np.isin(y, (0, 1)).all()) and bool((y.sum(axis=1) == 1).all())


def _check_indices(y: np.ndarray, classes: int, owner: str) -> None:
    if not np.all(np.equal(np.mod(y, 1), 0)) or y.min() < 0 or y.max() >= classes:
        raise ValueError(
            f"y of {owner} must hold class indices from 0 to {classes - 1} for this model's {classes} outputs. "
            f"Received: labels from {y.min():g} to {y.max():g}"
        )


def _label_shape_error(y: np.ndarray, classes: int, owner: str) -> str:
    return (f"y of {owner} must hold one class index per example, shape (n,) or (n, 1), or one-hot rows of "
            f"{classes} columns for this model's {classes} outputs. Received: y with shape {y.shape}")


def fit_labels(y: Any, model: keras.Model, loss: Any, *, owner: str = "diagnose") -> np.ndarray:
    """``y`` shaped for ``loss`` on ``model``'s output, after checking it lies in the output's range.

    Integer labels become one-hot for a categorical loss; one-hot rows become indices for a sparse loss;
    ``(N,)`` becomes ``(N, 1)`` for a one-unit output. Labels that already fit are returned unchanged.

    Raises:
        ValueError: class indices outside ``0 .. k-1``, rows that are neither one index nor k one-hot columns
            (a classifier's loss), or binary targets outside ``[0, 1]``.
    """
    y = np.asarray(y)
    name = loss_name(loss)
    _, units = output_activation(model)
    if name in SPARSE_LOSSES and units and units > 1:
        if y.ndim == 2 and y.shape[1] == units and _one_hot_rows(y):
            y = y.argmax(axis=1)
        if y.ndim > 1 and y.shape[1:] != (1,):
            raise ValueError(_label_shape_error(y, units, owner))
        _check_indices(y, units, owner)
        return y
    if name in CATEGORICAL_LOSSES and units and units > 1:
        if y.ndim == 1 or y.shape[1:] == (1,):
            indices = y.reshape(-1)
            _check_indices(indices, units, owner)
            return np.eye(units, dtype="float32")[indices.astype(int)]
        if y.shape[1:] != (units,):
            raise ValueError(_label_shape_error(y, units, owner))
    if units == 1 and y.ndim == 1:
        y = y.reshape(-1, 1)
    if name in BINARY_LOSSES and np.issubdtype(y.dtype, np.number) and (y.min() < 0 or y.max() > 1) \
            and name.endswith("crossentropy"):
        raise ValueError(f"y of {owner} must lie in [0, 1] for {name} on a sigmoid output. "
                         f"Received: labels from {y.min():g} to {y.max():g}")
    return y.astype("float32") if np.issubdtype(y.dtype, np.number) else y


CHANCE_LOSSES = frozenset({"sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy"})


def chance_loss(model: keras.Model, loss: Any) -> float | None:
    """The training loss that ``model`` reports while it predicts uniform probabilities: about where a freshly
    initialised classifier starts (its logits are small) and what healthy training goes down from.

    ``ln k`` for sparse or categorical cross-entropy over a k-unit output, ``ln 2`` for binary cross-entropy
    (per output, averaged), plus the regularization penalty of the model's weights as they are now
    (``sum(model.losses)``: Keras adds it to the reported loss). Uniform rather than the label frequencies:
    with imbalanced labels a fresh model starts near ``ln k``, far above the frequencies' entropy. None for
    other losses (a regression loss has no yardstick that the targets' scale does not dominate) and for a
    one-unit softmax. Class or sample weights, which scale the reported loss, are not known here.

    Example:
        >>> chance_loss(keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, activation="softmax")]),
        ...             "sparse_categorical_crossentropy")  # ln 10
        2.302585092994046
    """
    name = loss_name(loss)
    if name not in CHANCE_LOSSES:
        return None
    _, units = output_activation(model)
    if name == "binary_crossentropy":
        uniform = math.log(2.0)
    elif units is not None and units > 1:
        uniform = math.log(units)
    else:
        return None
    penalty = sum(float(keras.ops.convert_to_numpy(value)) for value in getattr(model, "losses", None) or ())
    return uniform + (penalty if math.isfinite(penalty) else 0.0)


def choose_loss(model: keras.Model, loss: Any = None) -> tuple[Any, bool]:
    """``(loss, inferred)``: ``loss`` if given, else the model's compiled loss, else :func:`infer_loss`'s."""
    if loss is not None:
        return loss, False
    compiled = getattr(model, "loss", None)
    if compiled is not None:
        return compiled, False
    return infer_loss(model), True
