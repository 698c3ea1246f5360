"""Strict JSON for everything relulab writes: NaN and infinities (a diverged loss, a metric with no
value) become ``null``, which every JSON reader accepts, instead of Python's non-standard ``NaN``."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float, however deeply nested in dicts and lists, replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """``value`` as strict JSON text (see :func:`finite_or_none`)."""
    return json.dumps(finite_or_none(value), indent=indent, allow_nan=False)
