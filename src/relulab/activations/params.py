"""The parameters of registered activations: defaults, checks and how each reaches the layer.

Every activation has ONE set of parameter names, used by specs (``"prelu(alpha=0.1)"``), by
``relulab.activations.get`` and by ``relulab.layers.get``. A parameter that only the layer has (PReLU's
``shared_axes``, RReLU's ``seed``) is ``layer_only``: the pure function ignores it. A parameter whose
layer argument has another name (PReLU's ``alpha`` is the layer's ``alpha_initializer``, as in Keras)
names it in ``layer_argument`` and accepts that name as a documented alias in specs.

The checks raise what Keras raises for the same input (``ValueError`` for ``None`` or an out-of-range
value, ``TypeError`` for a wrong type) with relulab's message, which names the argument, its owner, the
rule and the value.
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from relulab import _validate


@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter of an activation."""

    default: Any
    check: Callable[..., Any]  # check(value, name=..., owner=...) -> normalised (hashable) value, or raises
    layer_only: bool = False  # the layer takes it, the pure function does not
    layer_argument: str | None = None  # the layer's name for it, where that differs (also a spec alias)

    def argument(self, key: str) -> str:
        """The layer constructor's name for this parameter, which is called ``key`` in specs."""
        return self.layer_argument or key


def _check(rule: Callable[..., Any], **bounds: Any) -> Callable[..., Any]:
    return functools.partial(rule, **bounds)


slope = _check(_validate.number, minimum=0.0)
positive = _check(_validate.number, strictly_above=0.0)
finite = _check(_validate.number)
optional_non_negative = _check(_validate.number, minimum=0.0, optional=True)


def shared_axes(value: Any, *, name: str = "shared_axes", owner: str = "PReLU") -> str | tuple[int, ...] | None:
    """None (one slope per channel), ``"all"`` (one slope) or a tuple of axes >= 1; an int is one axis."""
    if value is None or value == "all":
        return value
    axes = (value,) if isinstance(value, numbers.Integral) else value
    if (
        isinstance(axes, str)
        or not isinstance(axes, Sequence)
        or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) and a >= 1 for a in axes)
    ):
        raise ValueError(
            f"{name} of {owner} must be None (one slope per channel), 'all' (one slope) or a list of "
            f"axes >= 1 (0 is the batch axis). Received: {name}={_validate.shown(value)}"
        )
    return tuple(int(a) for a in axes)


def seed(value: Any, *, name: str = "seed", owner: str = "RReLU") -> int | None:
    """An int >= 0, or None (an unseeded generator)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0):
        raise ValueError(f"{name} of {owner} must be an integer >= 0 or None. Received: {name}={_validate.shown(value)}")
    return value if value is None else int(value)


def keras_name(kind: str) -> Callable[..., Any]:
    """A check for None or the name of a Keras ``kind`` (``"regularizers"``, ``"constraints"``): specs
    hold literals, so a regularizer or constraint is named, not passed as an object."""

    def check(value: Any, *, name: str, owner: str) -> str | None:
        import keras

        if value is None:
            return None
        try:
            if not isinstance(value, str):
                raise ValueError
            getattr(keras, kind).get(value)
        except ValueError:
            raise ValueError(
                f"{name} of {owner} must be None or the name of a Keras {kind[:-1]} (e.g. 'l2' or 'non_neg'). "
                f"Received: {name}={_validate.shown(value)}"
            ) from None
        return value

    return check


def lower_not_above_upper(params: dict[str, Any], owner: str) -> None:
    """RReLU: the slope range must not be empty."""
    if params["lower"] > params["upper"]:
        raise ValueError(
            f"lower of {owner} must be <= upper. Received: lower={params['lower']!r}, upper={params['upper']!r}"
        )


def cap_above_threshold(params: dict[str, Any], owner: str) -> None:
    """ReLU: a cap at or below the threshold makes a step whose gradient is 0 everywhere."""
    if params["max_value"] is not None and params["max_value"] <= params["threshold"]:
        raise ValueError(
            f"max_value of {owner} must be > threshold (else the output is a step with zero gradient). "
            f"Received: max_value={params['max_value']!r}, threshold={params['threshold']!r}"
        )
