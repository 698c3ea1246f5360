"""Rectifier functions on ``keras.ops`` and the one registry that names them.

    >>> from relulab import activations
    >>> f = activations.get("leaky_relu(negative_slope=0.1)")
    >>> activations.available()[:4]
    ['celu', 'elu', 'gelu', 'hard_sigmoid']

``get`` returns a plain callable ``x -> y``. For use inside a model that you will save, prefer
``relulab.layers.get(spec)``: a layer is serialisable, and it can carry weights (PReLU) and a training
mode (RReLU).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from keras.activations import linear, mish, relu6, sigmoid, silu, tanh

from relulab.activations import defaults
from relulab.activations.functions import celu, leaky_relu, prelu, relu, rrelu, softplus
from relulab.activations.registry import Entry, available, lookup
from relulab.activations.smooth import elu, gelu, hard_sigmoid, hard_silu, selu, softsign
from relulab.activations.spec import parse

__all__ = [
    "BoundActivation", "Entry", "available", "celu", "defaults", "elu", "gelu", "get", "hard_sigmoid",
    "hard_silu", "leaky_relu", "linear", "lookup", "mish", "prelu", "relu", "relu6", "resolve", "rrelu",
    "selu", "sigmoid", "silu", "softplus", "softsign", "tanh",
]


@dataclasses.dataclass(frozen=True)
class BoundActivation:
    """An activation function with its parameters bound: ``BoundActivation(entry, {...})(x)``."""

    entry: Entry
    params: dict[str, Any]

    def __call__(self, x: Any) -> Any:
        return self.entry.function(x, **self.params)

    @property
    def __name__(self) -> str:  # what Keras and tracebacks print
        return self.entry.name

    def __repr__(self) -> str:
        return self.entry.spec(self.params)


def resolve(spec: str) -> tuple[Entry, dict[str, Any]]:
    """Parse ``spec`` and return its registry entry and checked parameters (defaults filled in).

    Raises:
        ValueError: unknown name (the message lists the valid names), malformed spec or a value out
            of range. TypeError: unknown parameter (the message lists the allowed ones) or wrong type.
    """
    name, args, kwargs = parse(spec)
    entry = lookup(name)
    return entry, entry.resolve(args, kwargs, owner=f"activation {entry.name!r}")


def get(spec: str | Callable[..., Any]) -> Callable[..., Any]:
    """The activation function for ``spec``: a name, a name with parameters, or a callable.

    A bare name gives the registered function itself; a name with parameters gives a
    :class:`BoundActivation`. A callable is returned unchanged.

    Raises:
        ValueError / TypeError: as :func:`resolve`.
    """
    if callable(spec):
        return spec
    entry, params = resolve(spec)
    if params == entry.defaults():
        return entry.function
    return BoundActivation(entry, params)
