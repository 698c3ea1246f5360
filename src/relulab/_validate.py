"""Argument checks for values that come from users: constructors, loaders and the command line.

Every check raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, wrong value) with
one message that names the argument, its owner, the rule and the value received, in the form Keras uses:
``"negative_slope of LeakyReLU must be a number >= 0. Received: negative_slope=-1"``. As in Keras, ``None``
where a number is required is a ``ValueError``. Long values are cut (:func:`shown`).
"""

from __future__ import annotations

import math
import numbers
from typing import Any


SHOWN_CHARACTERS = 80  # a longer value is cut in messages: a 100,000-character spec is not echoed whole


def shown(value: Any) -> str:
    """``repr(value)``, cut to about :data:`SHOWN_CHARACTERS` characters with its full length named."""
    text = repr(value)
    if len(text) <= SHOWN_CHARACTERS:
        return text
    return f"{text[:SHOWN_CHARACTERS - 20]}...{text[-10:]} ({len(text):,} characters)"


def _received(name: str, value: Any) -> str:
    return f"Received: {name}={shown(value)}"


def number(
    value: Any,
    *,
    name: str,
    owner: str,
    minimum: float | None = None,
    strictly_above: float | None = None,
    maximum: float | None = None,
    optional: bool = False,
) -> float | None:
    """Return ``value`` as a finite ``float`` after checking its range, or ``None`` when optional."""
    rule = "a finite number"
    lower = f"[{minimum:g}" if minimum is not None else f"({strictly_above:g}" if strictly_above is not None else None
    if lower is not None and maximum is not None:
        rule += f" in {lower}, {maximum:g}]"
    elif minimum is not None:
        rule += f" >= {minimum:g}"
    elif strictly_above is not None:
        rule += f" > {strictly_above:g}"
    elif maximum is not None:
        rule += f" <= {maximum:g}"
    if optional:
        rule += " or None"
    if value is None and optional:
        return None
    if value is None:  # a missing value, not a wrong type: ValueError, as Keras raises
        raise ValueError(f"{name} of {owner} must be {rule}. {_received(name, value)}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} of {owner} must be {rule}. {_received(name, value)}")
    result = float(value)
    out_of_range = (
        not math.isfinite(result)
        or (minimum is not None and result < minimum)
        or (strictly_above is not None and result <= strictly_above)
        or (maximum is not None and result > maximum)
    )
    if out_of_range:
        raise ValueError(f"{name} of {owner} must be {rule}. {_received(name, value)}")
    return result


def positive_int(value: Any, *, name: str, owner: str) -> int:
    """Return ``value`` as an ``int`` >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} of {owner} must be an integer >= 1. {_received(name, value)}")
    if value < 1:
        raise ValueError(f"{name} of {owner} must be an integer >= 1. {_received(name, value)}")
    return int(value)


def seed(value: Any, *, name: str, owner: str) -> int:
    """Return ``value`` if it is an ``int`` in [0, 2**32), the range every seed consumer accepts."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value < 2**32:
        raise ValueError(f"{name} of {owner} must be an integer in [0, 2**32). {_received(name, value)}")
    return int(value)


def boolean(value: Any, *, name: str, owner: str) -> bool:
    """Return ``value`` if it is a ``bool``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} of {owner} must be True or False. {_received(name, value)}")
    return value


def one_of(value: Any, allowed: list[str] | tuple[str, ...], *, name: str, owner: str) -> str:
    """Return ``value`` if it is one of the ``allowed`` strings."""
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} of {owner} must be one of {choices}. {_received(name, value)}")
    return value
