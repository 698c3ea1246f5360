"""Rectifier layers for Keras 3, registered for ``model.save`` / ``keras.saving.load_model``.

    >>> from relulab import layers
    >>> layers.get("leaky_relu(negative_slope=0.1)")       # a configured LeakyReLU
    >>> keras.layers.Dense(64, activation=layers.get("prelu(alpha=0.1)"))   # PReLU(alpha_initializer=0.1)

``get`` returns a layer instance for every name in ``relulab.activations.available()``: relulab's own
class where there is one, else Keras' ``Activation`` layer for Keras' parameter-free functions.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import keras

from relulab.activations.activation_spec import ActivationSpec, resolve
from relulab.layers.base import ActivationLayer
from relulab.layers.prelu import PReLU
from relulab.layers.relu import LeakyReLU, ReLU, ReLU6
from relulab.layers.rrelu import RReLU
from relulab.layers.smooth import CELU, ELU, GELU, SELU, Mish, SiLU, Softplus

__all__ = [
    "CELU", "ELU", "GELU", "SELU", "ActivationLayer", "LeakyReLU", "Mish", "PReLU", "RReLU", "ReLU",
    "ReLU6", "SiLU", "Softplus", "canonical", "custom_class", "get", "is_custom",
]


def is_custom(spec: str) -> bool:
    """Whether ``spec`` names a custom layer class (``"package.module:Class"``), decided from the text
    alone: nothing is imported."""
    module_name, colon, _ = spec.partition(":")
    return bool(colon) and "(" not in module_name


def custom_class(spec: str, *, imported_only: bool = False) -> type | None:
    """The layer class that a ``"package.module:Class"`` spec names, or None for a registry spec.

    This lets the lab compare your own activation layer: ``relulab compare --activations
    "relu,mypackage.layers:MyReLU"``. The class must be a ``keras.layers.Layer`` that takes no
    required arguments.

    ``imported_only=True`` imports nothing: the class is taken from a module already imported (by the
    user's own command line or code), as for a spec read from a file (a stored grid).

    Raises:
        ValueError: the module cannot be imported (or, with ``imported_only``, is not imported), or it has
            no such Layer class.
    """
    if not is_custom(spec):
        return None
    module_name, _, class_name = spec.partition(":")
    if imported_only and module_name.strip() not in sys.modules:
        raise ValueError(f"custom activation {spec!r}: its module is not imported, and a spec read from a file "
                         f"imports nothing.")
    try:
        cls = getattr(importlib.import_module(module_name.strip()), class_name.strip())
    except (ImportError, AttributeError) as error:
        raise ValueError(f"custom activation {spec!r} names no importable layer class ({error}).") from None
    if not (isinstance(cls, type) and issubclass(cls, keras.layers.Layer)):
        raise ValueError(f"custom activation {spec!r} is not a keras.layers.Layer subclass.")
    return cls


def get(spec: str | ActivationSpec | keras.layers.Layer, **overrides: Any) -> keras.layers.Layer:
    """A new layer for ``spec``, e.g. ``"relu"``, ``"leaky_relu(negative_slope=0.1)"``, ``"prelu(alpha=0.1)"``.

    The spec is resolved by :func:`relulab.activations.resolve`, with the same parameter names as
    ``relulab.activations.get``; ``overrides`` are Keras layer arguments (e.g. ``name=``).
    ``"package.module:Class"`` names your own layer class (see :func:`custom_class`). A layer instance is
    returned unchanged. The result works as a layer in a model and as ``Dense(..., activation=...)``.

    Raises:
        ValueError: unknown name (the message lists the valid names), malformed spec, value out of range.
        TypeError: unknown parameter (the message lists the allowed ones), wrong type.
    """
    if isinstance(spec, keras.layers.Layer):
        return spec
    custom = custom_class(spec) if isinstance(spec, str) else None
    if custom is not None:
        return custom(**overrides)
    return resolve(spec).layer(**overrides)


def canonical(spec: str) -> str:
    """The one spelling of ``spec`` that the command line and the lab store and compare.

    A registry spec gives :attr:`ActivationSpec.canonical` (``"LeakyReLU(0.1)"`` ->
    ``"leaky_relu(negative_slope=0.1)"``); a ``"package.module:Class"`` spec, whose class must build
    without arguments, is kept with its spaces removed.

    Raises:
        ValueError / TypeError: as :func:`get`, or a custom class that needs arguments.
    """
    custom = custom_class(spec) if isinstance(spec, str) else None
    if custom is None:
        return resolve(spec).canonical
    try:
        custom()
    except TypeError as error:
        raise ValueError(f"custom activation {spec!r} cannot be built without arguments ({error}).") from None
    return spec.replace(" ", "")
