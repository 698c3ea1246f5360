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


def _random_int32(shape: tuple, seed: Any) -> Any:
    """Uniform int32 over the full range. On TensorFlow through its full-range kernel, which skips the
    modulo that ``keras.random.randint`` needs for a bounded range (the seed drawn as Keras draws it);
    elsewhere ``keras.random.randint`` over all but the largest int32 (a 2^-32 gap)."""
    if keras.backend.backend() == "tensorflow":
        try:
            from keras.src.random.seed_generator import draw_seed
        except ImportError:  # a Keras that moved it: the generic path below
            pass
        else:
            import tensorflow as tf

            key = draw_seed(seed)
            if key.dtype != tf.int32:  # Keras' own cast for stateless ops (keras/src/backend/tensorflow/random.py)
                key = tf.cast(tf.math.floormod(key, tf.int32.max - 1), tf.int32)
            return tf.random.stateless_uniform(shape, seed=key, minval=None, maxval=None, dtype=tf.int32)
    return keras.random.randint(shape, -(2**31), 2**31 - 1, dtype="int32", seed=seed)


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
    draws = _random_int32((*shape[:-1], (last + 1) // 2), seed)
    halves = ops.view(draws, "int16")  # k - 32768 for k uniform on 0 .. 65535 (Keras' torch has no uint16)
    if last % 2:
        halves = halves[..., :last]
    # float32 at least: float16 cannot hold 65535; the centre of level k is mean + (k - 32768 + 1/2) step.
    work = dtype if dtype in ("float32", "float64") else "float32"
    slopes = ops.cast(halves, work) * (width / LEVELS) + ((lower + upper) / 2 + width / (2 * LEVELS))
    return slopes if work == dtype else ops.cast(slopes, dtype)
