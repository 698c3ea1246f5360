"""What activation a layer applies, in the registry's terms: its name, kind and flat/saturated regimes.

An activation reaches a model in many forms: a string or function inside ``Dense(activation=...)``
(Keras' own or relulab's), a :class:`relulab.activations.BoundActivation`, a ``functools.partial``, a
relulab layer, or one of Keras' layers (``ReLU``, ``LeakyReLU``, ``PReLU``, ``ELU``, ``Activation``).
:func:`classify` maps each to one :class:`Activation`, or to None when the registry does not know it
(``softmax``, a user's own function): such layers are not measured.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Mapping
from typing import Any

import keras

from relulab.activations import BoundActivation, lookup
from relulab.layers.base import ActivationLayer

# Saturating activations: (lower, upper) asymptotes of the output.
ASYMPTOTES: Mapping[str, tuple[float, float]] = {
    "sigmoid": (0.0, 1.0),
    "hard_sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "softsign": (-1.0, 1.0),
}


@dataclasses.dataclass(frozen=True)
class Activation:
    """An activation as the diagnostics see it.

    ``threshold``/``max_value`` bound the linear regime of a rectifier: a pre-activation ``z`` is in
    the flat (or small-slope) regime when ``z <= threshold`` or, with a cap, ``z >= max_value``.
    ``asymptotes`` are the output's limits for a saturating activation, else None.
    """

    name: str  # canonical registry name
    kind: str  # "rectifier", "smooth", "saturating" or "custom" (outside the registry; linear is not measured)
    spec: str  # e.g. "leaky_relu(negative_slope=0.2)"
    threshold: float = 0.0
    max_value: float | None = None
    asymptotes: tuple[float, float] | None = None
    zero_slope: bool = False  # a rectifier whose flat side passes no gradient at all (ReLU, ReLU6)


def _from_entry(name: str, params: Mapping[str, Any]) -> Activation | None:
    try:
        entry = lookup(name)
    except ValueError:
        return None
    if entry.kind == "linear":
        return None
    known = {key: value for key, value in params.items() if key in entry.params}
    return Activation(
        name=entry.name, kind=entry.kind, spec=entry.spec(known),
        threshold=float(known.get("threshold", 0.0) or 0.0),
        max_value=6.0 if entry.name == "relu6" else known.get("max_value"),
        asymptotes=ASYMPTOTES.get(entry.name),
        zero_slope=entry.name in ("relu", "relu6") and not known.get("negative_slope"),
    )


def _signature_defaults(function: Any) -> dict[str, Any]:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def _from_function(function: Any) -> Activation | None:
    if isinstance(function, BoundActivation):
        return _from_entry(function.entry.name, function.params)
    if isinstance(function, functools.partial):
        return _from_entry(getattr(function.func, "__name__", ""),
                           {**_signature_defaults(function.func), **function.keywords})
    name = getattr(function, "__name__", None)
    return _from_entry(name, _signature_defaults(function)) if isinstance(name, str) else None


def _from_keras_layer(layer: keras.layers.Layer) -> Activation | None:
    if isinstance(layer, keras.layers.ReLU):
        params = {"negative_slope": float(layer.negative_slope), "max_value": layer.max_value,
                  "threshold": float(layer.threshold)}
        return _from_entry("relu", params)
    if isinstance(layer, keras.layers.LeakyReLU):
        return _from_entry("leaky_relu", {"negative_slope": float(layer.negative_slope)})
    if isinstance(layer, keras.layers.PReLU):
        return _from_entry("prelu", {})
    if isinstance(layer, keras.layers.ELU):
        return _from_entry("elu", {"alpha": float(layer.alpha)})
    if isinstance(layer, keras.layers.Activation):
        return _from_function(layer.activation)
    return None


NOT_ELEMENTWISE = frozenset({"softmax", "log_softmax", "linear"})  # function names that are never sites


def custom_activation(function: Any) -> Activation | None:
    """An :class:`Activation` of kind ``"custom"`` for a function outside the registry (measured through its
    derivative), or None for softmax and linear."""
    if not callable(function):
        return None
    name = getattr(function, "__name__", None) or type(function).__name__
    if name in NOT_ELEMENTWISE or isinstance(function, keras.layers.Softmax):
        return None
    return Activation(name=name, kind="custom", spec=name)


def is_activation_layer(layer: Any) -> bool:
    """Whether ``layer`` is a layer whose whole job is an activation (its input is the pre-activation)."""
    return isinstance(layer, (ActivationLayer, keras.layers.ReLU, keras.layers.LeakyReLU, keras.layers.PReLU,
                              keras.layers.ELU, keras.layers.Activation, keras.layers.Softmax))


def classify(activation: Any) -> Activation | None:
    """The :class:`Activation` for a layer or function, or None where relulab cannot measure it.

    Example:
        >>> classify(keras.layers.Dense(4, activation="relu").activation).spec
        'relu'
        >>> classify(keras.layers.LeakyReLU(negative_slope=0.1)).kind
        'rectifier'

    PReLU is treated as a rectifier whose small slope is on the negative side (its slopes start at 0.25
    and are assumed to stay below 1).
    """
    if isinstance(activation, ActivationLayer):
        return _from_entry(activation.activation_name, dict(activation._params))
    if isinstance(activation, keras.layers.Layer):
        return _from_keras_layer(activation)
    if callable(activation):
        return _from_function(activation)
    return None
