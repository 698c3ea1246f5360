"""Probe data: check what a user hands to the diagnostics, and take a bounded, spread-out subset.

Checks happen where the data enters (``diagnose``, the monitors, the command line) and raise
``TypeError``/``ValueError`` messages that name the argument, what was received and what is allowed.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

DEFAULT_PROBE_SIZE = 1024  # examples: the monitors' and the command line's default probe
# examples: the monitors' default probe for a model whose activations have positions (a convolution): each
# example gives a channel one value per position, so 256 examples hold far more values per unit than 1,024 do
# in a dense layer, and a pass over 1,024 images costs a large share of a small training epoch.
CONV_PROBE_SIZE = 256


def _received(array: np.ndarray) -> str:
    return f"an array with shape {array.shape}"


def _finite(array: np.ndarray, name: str, owner: str) -> None:
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        bad = ~np.isfinite(array.reshape(len(array), -1)).all(axis=1)
        raise ValueError(
            f"{name} of {owner} must be finite, but {int(bad.sum())} example(s) hold NaN or infinity "
            f"(the first at index {int(np.argmax(bad))}). Received: {name}={_received(array)}"
        )


def _array(value: Any, name: str, owner: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} of {owner} must be an array of numbers. Received: {name}={value!r}") from error
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name} of {owner} must be an array of numbers. Received: {name} of dtype {array.dtype}")
    if array.ndim == 0 or len(array) == 0:
        raise ValueError(f"{name} of {owner} must hold at least one example. Received: {name}={_received(array)}")
    _finite(array, name, owner)
    return array


def input_spec(model: keras.Model, *, owner: str = "diagnose") -> tuple[tuple[int | None, ...], str] | None:
    """Per-example shape and dtype of ``model``'s one input, or None when it is not known (subclassed)."""
    inputs = getattr(model, "inputs", None)
    if not inputs:
        return None
    if len(inputs) != 1:
        raise ValueError(f"model of {owner} must have one input. Received: a model with {len(inputs)} inputs")
    return tuple(inputs[0].shape[1:]), inputs[0].dtype


def check_probe(
    model: Any, x: Any, y: Any = None, *, owner: str = "diagnose"
) -> tuple[np.ndarray, np.ndarray | None]:
    """``(x, y)`` as NumPy arrays after checking them against ``model``'s input.

    Raises:
        TypeError: ``model`` is not a Keras model, or ``x``/``y`` are not numeric arrays.
        ValueError: empty data, NaN or infinity, a shape that does not match the model's input, or
            ``y`` of another length than ``x``.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model of {owner} must be a keras.Model. Received: model={type(model).__name__}")
    array = _array(x, "x", owner)
    spec = input_spec(model, owner=owner)
    if spec is not None:
        shape, dtype = spec
        matches = len(shape) == array.ndim - 1 and all(e is None or e == g for e, g in zip(shape, array.shape[1:]))
        if not matches:
            wanted = "(n, " + ", ".join("?" if d is None else str(d) for d in shape) + ")"
            raise ValueError(
                f"x of {owner} must have shape {wanted} to match the model's input. Received: x={_received(array)}"
            )
        array = array.astype(dtype, copy=False)
    if y is None:
        return array, None
    labels = _array(y, "y", owner)
    if len(labels) != len(array):
        raise ValueError(
            f"y of {owner} must have one entry per example of x ({len(array)}). Received: y={_received(labels)}"
        )
    _check_class_indices(model, labels, owner)
    return array, labels


def _check_class_indices(model: Any, labels: np.ndarray, owner: str) -> None:
    """Class-index labels must name one of a single-output model's classes (its last axis)."""
    outputs = getattr(model, "outputs", None) or []
    classes = outputs[0].shape[-1] if len(outputs) == 1 else None
    if labels.ndim != 1 or not classes or classes < 2:
        return
    if labels.min() < 0 or labels.max() >= classes:
        raise ValueError(
            f"y of {owner} must hold class indices from 0 to {classes - 1} for this model's {classes} outputs. "
            f"Received: labels from {labels.min():g} to {labels.max():g}"
        )


def has_positions(model: keras.Model) -> bool:
    """Whether one of ``model``'s activation sites has positions (an output of rank > 2: a convolution);
    False also when the shapes are not known (a subclassed model)."""
    from relulab.diagnostics.sites import find_sites

    for site in find_sites(model):
        try:
            rank = len(site.layer.output.shape)
        except (AttributeError, ValueError, TypeError):
            continue
        if rank > 2:
            return True
    return False


def default_probe_size(model: keras.Model) -> int:
    """:data:`CONV_PROBE_SIZE` when ``model``'s activations have positions (:func:`has_positions`), else
    :data:`DEFAULT_PROBE_SIZE`."""
    return CONV_PROBE_SIZE if has_positions(model) else DEFAULT_PROBE_SIZE


def spread(n: int, size: int) -> np.ndarray:
    """``min(n, size)`` indices spread evenly over ``range(n)`` (first and last included)."""
    if n <= size:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, size).round().astype(int))


def subset(x: np.ndarray, y: np.ndarray | None, size: int) -> tuple[np.ndarray, np.ndarray | None]:
    """At most ``size`` examples of ``(x, y)``, spread evenly over the set (no randomness)."""
    index = spread(len(x), size)
    return x[index], None if y is None else y[index]


def subset_unchecked(x: Any, y: Any, size: int) -> tuple[Any, Any]:
    """:func:`subset` of ``(x, y)`` as given, before :func:`check_probe`, so that only the examples measured are
    checked and copied (a monitor handed a whole training set); ``(x, y)`` unchanged when they are not arrays of
    one length, for :func:`check_probe` to say what is wrong."""
    try:
        array, labels = np.asarray(x), None if y is None else np.asarray(y)
    except (TypeError, ValueError):
        return x, y
    if array.ndim == 0 or (labels is not None and (labels.ndim == 0 or len(labels) != len(array))):
        return x, y
    return subset(array, labels, size)
