"""Rectifier layers for Keras 3, registered for ``model.save`` / ``keras.saving.load_model``.

    >>> from relulab import layers
    >>> layers.get("leaky_relu(negative_slope=0.1)")       # a configured LeakyReLU
    >>> keras.layers.Dense(64, activation=layers.get("prelu"))

``get`` returns a layer instance for every name in ``relulab.activations.available()``: relulab's own
class where there is one, else Keras' ``Activation`` layer for Keras' parameter-free functions.
"""

from __future__ import annotations

from typing import Any

import keras

from relulab.activations.registry import lookup
from relulab.activations.spec import parse
from relulab.layers.base import ActivationLayer
from relulab.layers.prelu import PReLU
from relulab.layers.relu import LeakyReLU, ReLU, ReLU6
from relulab.layers.rrelu import RReLU
from relulab.layers.smooth import CELU, ELU, GELU, SELU, Mish, SiLU, Softplus

__all__ = [
    "CELU", "ELU", "GELU", "SELU", "ActivationLayer", "LeakyReLU", "Mish", "PReLU", "RReLU", "ReLU",
    "ReLU6", "SiLU", "Softplus", "get",
]


def get(spec: str | keras.layers.Layer, **overrides: Any) -> keras.layers.Layer:
    """A new layer for ``spec``, e.g. ``"relu"``, ``"leaky_relu(negative_slope=0.1)"``, ``"prelu"``.

    The parameters in the spec (and ``overrides``, e.g. ``name=``) go to the layer's constructor, which
    checks them. A layer instance is returned unchanged. The result works as a layer in a model and as
    ``Dense(..., activation=...)``.

    Raises:
        ValueError: unknown name (the message lists the valid names), malformed spec, value out of range.
        TypeError: unknown parameter (the message lists the allowed ones), wrong type.
    """
    if isinstance(spec, keras.layers.Layer):
        return spec
    name, args, kwargs = parse(spec)
    entry = lookup(name)
    if entry.layer is not None:
        return entry.layer(*args, **kwargs, **overrides)
    entry.resolve(args, kwargs, owner=f"activation {entry.name!r}")  # no parameters: rejects any given
    return keras.layers.Activation(entry.name, **overrides)
