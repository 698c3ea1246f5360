"""RAI: the randomized asymmetric initializer for ReLU networks (Lu, Shin, Su & Karniadakis 2019).

A deep, narrow ReLU network initialised symmetrically is *born dead* (a constant function of its
input) with a probability that goes to 1 with depth. RAI breaks the symmetry: for each unit, its
``fan_in`` incoming weights and its bias are drawn from ``N(0, sigma^2)`` with
``sigma = 0.6007 / sqrt(fan_in)``, then ONE of those ``fan_in + 1`` values, chosen uniformly, is replaced
by a draw from ``Beta(2, 1)`` (positive, mean 2/3).

The bias, honestly: a Keras kernel initializer only sees the kernel's shape. Two ways are offered.

- ``RAI()`` as ``kernel_initializer`` treats the kernel alone: the Beta entry is one of the ``fan_in``
  weights of each unit, and the bias keeps its own initializer (zeros by default in Keras). This
  differs from the paper in the bias (0 instead of ``N(0, sigma^2)``, and never the Beta entry), and it
  is what survives ``model.save``/``load_model``.
- :func:`apply_rai` re-draws the kernel *and* bias of built layers exactly as in the paper.

Both are seedable and use only ``keras.random``/``keras.ops``, so they run on every backend.

Reference: Lu, Shin, Su & Karniadakis 2019, "Dying ReLU and Initialization: Theory and Numerical
Examples", arXiv:1903.06733.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

RAI_SCALE = 0.6007  # sigma * sqrt(fan_in) of the normal part (Lu et al. 2019)
RAI_BETA = (2.0, 1.0)  # shape parameters of the replacing draw


def _asymmetric(rows: int, fan_in: int, units: int, *, seed: int, dtype: str) -> Any:
    """``(rows, units)``: ``N(0, (0.6007/sqrt(fan_in))^2)`` with one entry per column replaced by Beta(2, 1)."""
    normal = keras.random.normal((rows, units), stddev=RAI_SCALE / math.sqrt(fan_in), dtype=dtype, seed=seed)
    beta = keras.random.beta((1, units), *RAI_BETA, dtype=dtype, seed=seed + 1)
    chosen = keras.random.randint((units,), 0, rows, seed=seed + 2)
    replace = ops.transpose(ops.one_hot(chosen, rows)) > 0
    return ops.where(replace, ops.broadcast_to(beta, (rows, units)), normal)


def rai_values(fan_in: int, units: int, *, seed: int, dtype: str = "float32") -> Any:
    """A ``(fan_in + 1, units)`` tensor: column ``j`` is unit ``j``'s weights and, last, its bias.

    Each column is ``N(0, (0.6007 / sqrt(fan_in))^2)`` with one entry, chosen uniformly, replaced by a
    ``Beta(2, 1)`` draw. Seeds ``seed``, ``seed + 1`` and ``seed + 2`` drive the three draws.
    """
    return _asymmetric(fan_in + 1, fan_in, units, seed=seed, dtype=dtype)


def _fan_in(shape: Sequence[int]) -> int:
    return int(math.prod(shape[:-1]))


@keras.saving.register_keras_serializable(package="relulab")
class RAI(keras.initializers.Initializer):
    """Randomized asymmetric initialisation of a kernel (kernel-only form; see the module docstring).

    For a kernel of shape ``(..., units)`` (``(fan_in, units)`` for ``Dense``, ``(h, w, in, units)`` for
    ``Conv2D``), ``fan_in`` is the product of all but the last axis. Each unit's weights are drawn from
    ``N(0, (0.6007/sqrt(fan_in))^2)`` and one of them is replaced by a ``Beta(2, 1)`` draw.

    Example:
        >>> keras.layers.Dense(64, activation="relu", kernel_initializer=RAI(seed=0))

    Args:
        seed: an int for reproducible values (the same on every call, as with Keras' initializers), or
            None (default) for a seed drawn once, from Python's ``random`` (so
            ``keras.utils.set_random_seed`` makes it reproducible).

    Reference: Lu, Shin, Su & Karniadakis 2019, "Dying ReLU and Initialization: Theory and Numerical
    Examples".
    """

    def __init__(self, seed: int | None = None) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"seed of RAI must be an int or None. Received: seed={seed!r}")
        self._init_seed = seed
        self.seed = seed if seed is not None else random.randint(1, 10**9)

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        shape = tuple(int(s) for s in shape)
        if len(shape) < 2:
            raise ValueError(f"RAI needs a kernel shape (fan_in, ..., units) of rank >= 2. Received: shape={shape}")
        dtype = keras.backend.standardize_dtype(dtype or keras.config.floatx())
        fan_in = _fan_in(shape)
        columns = _asymmetric(fan_in, fan_in, shape[-1], seed=self.seed, dtype=dtype)
        return ops.reshape(columns, shape)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self._init_seed}


def apply_rai(model_or_layer: keras.layers.Layer, *, seed: int | None = None) -> list[str]:
    """Re-draw the kernel and bias of every built layer with both, exactly as Lu et al. (in place).

    The Beta(2, 1) entry of each unit is one of its ``fan_in + 1`` weights-and-bias. Layers without a
    bias are skipped (use :class:`RAI` for those). Nested models are included.

    Example:
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="relu", name="h")])
        >>> apply_rai(model, seed=0)
        ['h']

    Returns:
        The names of the layers re-initialised, in order.
    """
    from relulab.diagnostics.sites import walk

    if isinstance(model_or_layer, keras.Model):
        layers = [layer for _, layer in walk(model_or_layer)]
    else:
        layers = [model_or_layer]
    base = seed if seed is not None else random.randint(1, 10**9)
    done = []
    for index, layer in enumerate(layers):
        kernel, bias = getattr(layer, "kernel", None), getattr(layer, "bias", None)
        if not isinstance(kernel, keras.Variable) or not isinstance(bias, keras.Variable):
            continue
        shape = tuple(kernel.shape)
        values = rai_values(_fan_in(shape), shape[-1], seed=base + 3 * index, dtype=kernel.dtype)
        kernel.assign(ops.reshape(values[:-1], shape))
        bias.assign(values[-1])
        done.append(layer.name)
    return done
