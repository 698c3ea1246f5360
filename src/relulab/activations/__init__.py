"""Rectifier functions on ``keras.ops`` and the one registry that names them.

    >>> from relulab import activations
    >>> f = activations.get("leaky_relu(negative_slope=0.1)")
    >>> activations.available()[:4]
    ['celu', 'elu', 'gelu', 'hard_sigmoid']

``get`` returns a callable ``x -> y`` that Keras can save; ``relulab.layers.get(spec)`` the layer, which
can carry weights (PReLU) and a training mode (RReLU). Both read the same spec, resolved once by
:func:`resolve` into an :class:`ActivationSpec`, with one set of parameter names per activation
(``relulab list activations``).

Which checks run where: ``get``, ``resolve``, the layers and the command line check every argument
(``leaky_relu(negative_slope=-1)`` is refused). The pure functions (``leaky_relu(x, negative_slope=-1)``)
do not: they sit on the hot path and compute what they are given (here ``|x|``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from keras.activations import linear, mish, relu6, sigmoid, silu, tanh

from relulab.activations import defaults
from relulab.activations.functions import celu, leaky_relu, prelu, relu, rrelu, softplus
from relulab.activations.activation_spec import ActivationSpec, BoundActivation, resolve
from relulab.activations.registry import Entry, available, lookup
from relulab.activations.smooth import elu, gelu, hard_sigmoid, hard_silu, selu, softsign

__all__ = [
    "ActivationSpec", "BoundActivation", "Entry", "available", "celu", "defaults", "elu", "gelu", "get", "hard_sigmoid",
    "hard_silu", "leaky_relu", "linear", "lookup", "mish", "prelu", "relu", "relu6", "resolve", "rrelu",
    "selu", "sigmoid", "silu", "softplus", "softsign", "tanh",
]


def get(spec: str | ActivationSpec | Callable[..., Any]) -> Callable[..., Any]:
    """The activation function for ``spec``: a name, a name with parameters, an ActivationSpec, or a callable.

    A bare name gives the registered function itself; a name with parameters gives a
    :class:`BoundActivation`, which Keras can save (``Dense(activation=get("elu(alpha=0.5)"))``). A
    callable is returned unchanged. Parameters that only a layer has (PReLU's ``shared_axes``, RReLU's
    ``seed``) are checked and then ignored by the function.

    Raises:
        ValueError / TypeError: as :func:`resolve`.
    """
    if callable(spec):
        return spec
    return resolve(spec).function()
