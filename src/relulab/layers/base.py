"""The shared parts of every relulab activation layer.

A layer stores the checked parameters of its registry entry, its ``call`` is one line into the pure
function, ``get_config`` returns exactly the constructor arguments, and the output shape is the input
shape. Subclasses spell out their constructor signature and docstring; layers with weights (PReLU) or
randomness (RReLU) add ``build`` or a seed.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import keras

from relulab.activations.registry import lookup

# Keyword arguments that keras.layers.Layer itself accepts.
KERAS_LAYER_ARGUMENTS = frozenset(
    {"name", "dtype", "trainable", "autocast", "input_shape", "input_dim", "batch_input_shape",
     "batch_size", "weights", "activity_regularizer"}
)


def check_layer_kwargs(cls: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Return ``kwargs`` if every key is a Keras layer argument; else a TypeError naming the stray one
    and the arguments ``cls`` allows (read from its constructor's signature)."""
    for key, value in kwargs.items():
        if key == "dtype" and value is not None:
            check_float_dtype(cls, value)
        if key not in KERAS_LAYER_ARGUMENTS:
            allowed = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "kwargs")]
            own = ", ".join(allowed) if allowed else "none of its own"
            owner = cls.__name__
            raise TypeError(
                f"{owner} got an unknown argument {key}={value!r}. Allowed arguments: {own}, "
                f"plus Keras layer arguments (name, dtype, trainable)."
            )
    return kwargs


def check_float_dtype(cls: type, value: Any) -> None:
    """Refuse a ``dtype`` that is not a floating-point dtype or policy: an activation computed in integers
    truncates every output and passes no gradient, so training with it only looks like it runs."""
    try:
        policy = keras.dtype_policies.get(value)
        floating = all("float" in str(dtype) for dtype in (policy.compute_dtype, policy.variable_dtype))
    except (TypeError, ValueError):
        floating = False
    if not floating:
        raise ValueError(
            f"dtype of {cls.__name__} must be a floating-point dtype or policy (float32, float16, bfloat16, "
            f"float64, mixed_float16, mixed_bfloat16); integer activations have no gradient. Received: dtype={value!r}"
        )


class ActivationLayer(keras.layers.Layer):
    """Base class: an activation from the registry with its parameters fixed at construction."""

    activation_name: ClassVar[str]  # set by relulab.activations.registry.register_layer

    def __init__(self, params: dict[str, Any] | None, **kwargs: Any) -> None:
        """``params``: the registry entry's parameters that this layer stores, checked here with the
        registry's checks; None for a layer that keeps its own (PReLU)."""
        entry = lookup(self.activation_name)
        super().__init__(**check_layer_kwargs(type(self), kwargs))
        self.supports_masking = True
        self._function = entry.function
        given = {} if params is None else params
        resolved = entry.resolve(kwargs=given, owner=type(self).__name__)
        self._params = {key: resolved[key] for key in given}
        self._function_params = entry.function_params(self._params)
        for key, value in self._params.items():  # read as attributes: LeakyReLU(0.1).negative_slope
            setattr(self, key, value)
        # As Keras does: built now only when there is nothing to build, so that a subclass whose
        # ``build`` adds weights is built (and its ``build`` called) on the first input.
        if type(self).build is keras.layers.Layer.build:
            self.built = True

    def call(self, inputs: Any) -> Any:
        return self._function(inputs, **self._function_params)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._params}
