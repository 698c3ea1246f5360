"""RReLU's random slopes: two 16-bit uniform levels from each 32-bit random draw.

A 32-bit draw from the backend's counter-based generator (Philox on TensorFlow and PyTorch, Threefry
on JAX) costs as much as a float32 uniform; RReLU needs far fewer than 32 bits per slope, so each draw is
split into two 16-bit halves (``ops.view`` as ``int16``, no arithmetic), halving the generator's work,
the largest cost of an RReLU training step on CPU.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

LEVELS = 65536  # slopes per [lower, upper]: 16 bits


def uniform_slopes(shape: tuple, lower: float, upper: float, dtype: Any, seed: Any) -> Any:
    """Random slopes of ``shape``: the midpoints ``lower + (k + 1/2) (upper - lower) / 65536`` for
    ``k`` uniform on ``0 .. 65535``.

    That is U(lower, upper) to within ``(upper - lower) / 131072`` everywhere (a Kolmogorov-Smirnov
    distance of ``7.6e-6``, far below the ``1.4e-3`` that 10^6 draws resolve), in every dtype, with the
    mean exactly ``(lower + upper) / 2``; every slope lies strictly inside ``(lower, upper)`` (or equals
    ``lower`` when ``lower == upper``). Shapes whose last axis is unknown or absent fall back to
    ``keras.random.uniform`` (float32's 2^23 levels).
    """
    shape = tuple(shape)
    width = upper - lower
    dtype = keras.backend.standardize_dtype(dtype)
    last = shape[-1] if shape else None
    if not isinstance(last, int):
        return keras.random.uniform(shape, lower, upper, dtype=dtype, seed=seed)
    draws = keras.random.randint((*shape[:-1], (last + 1) // 2), -(2**31), 2**31 - 1, dtype="int32", seed=seed)
    halves = ops.view(draws, "int16")  # k - 32768 for k uniform on 0 .. 65535 (Keras' torch has no uint16)
    if last % 2:
        halves = halves[..., :last]
    # float32 at least: float16 cannot hold 65535; the centre of level k is mean + (k - 32768 + 1/2) step.
    work = dtype if dtype in ("float32", "float64") else "float32"
    slopes = ops.cast(halves, work) * (width / LEVELS) + ((lower + upper) / 2 + width / (2 * LEVELS))
    return slopes if work == dtype else ops.cast(slopes, dtype)
