"""PReLU: the leaky rectifier whose slope is learned, one per channel (He et al. 2015)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import keras

from relulab import _validate
from relulab.activations import defaults
from relulab.activations.functions import prelu
from relulab.activations.params import shared_axes as _shared_axes
from relulab.activations.registry import register_layer
from relulab.layers.base import ActivationLayer


class ExactConstant(keras.initializers.Constant):
    """Keras' ``Constant`` for a number, rounded once to the variable's dtype (Keras' own passes the
    number through float32, so ``PReLU(alpha_initializer=0.1)`` in float64 would start at 0.10000000149)."""

    def __call__(self, shape: tuple, dtype: Any = None) -> Any:
        return keras.ops.full(shape, self.value, dtype=keras.backend.standardize_dtype(dtype))


def _initializer(value: Any) -> keras.initializers.Initializer:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return ExactConstant(_validate.number(value, name="alpha_initializer", owner="PReLU"))
    try:
        return keras.initializers.get(value)
    except ValueError as error:
        raise ValueError(
            f"alpha_initializer of PReLU must be a number, an initializer name or an Initializer. "
            f"Received: alpha_initializer={value!r}"
        ) from error


@register_layer("prelu")
class PReLU(ActivationLayer):
    """Parametric ReLU: ``x`` for ``x > 0``, ``alpha * x`` otherwise, with ``alpha`` learned.

    Following He et al., there is one slope per channel (the last axis) by default, shared over every
    other axis, so the layer works on inputs whose other dimensions are unknown; every slope starts at
    0.25. Gradient: d/dx is 1 for ``x > 0`` and ``alpha`` for ``x <= 0`` (``alpha`` at the kink);
    d/dalpha is the sum of ``x`` over the ``x <= 0`` positions that share the slope.

    He et al. train the slopes without weight decay: ``alpha_regularizer`` is None by default, and with
    a decoupled-decay optimizer call ``optimizer.exclude_from_weight_decay(var_names=["alpha"])``.

    Example:
        >>> keras.Sequential([keras.Input((28, 28, 3)), keras.layers.Conv2D(8, 3), PReLU()])  # 8 slopes

    Args:
        alpha_initializer: a number (constant start, default 0.25), an initializer name or instance.
        alpha_regularizer: regularizer for the slopes; default None.
        alpha_constraint: constraint for the slopes; default None.
        shared_axes: None (default: one slope per channel), "all" (one slope for the layer), or the
            axes (1-based, 0 is the batch) along which slopes are shared, as in Keras' PReLU.

    Reference: He, Zhang, Ren & Sun 2015, "Delving Deep into Rectifiers: Surpassing Human-Level
    Performance on ImageNet Classification".
    """

    def __init__(
        self,
        alpha_initializer: Any = defaults.PRELU_ALPHA,
        alpha_regularizer: Any = None,
        alpha_constraint: Any = None,
        shared_axes: None | str | int | Sequence[int] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(None, **kwargs)
        self.alpha_initializer = _initializer(alpha_initializer)
        self.alpha_regularizer = keras.regularizers.get(alpha_regularizer)
        self.alpha_constraint = keras.constraints.get(alpha_constraint)
        self.shared_axes = _shared_axes(shared_axes)

    def build(self, input_shape: tuple) -> None:
        rank = len(input_shape)
        if rank < 2:
            raise ValueError(f"PReLU needs inputs of rank >= 2 (batch, ..., channels). Received: input_shape={input_shape}")
        if self.shared_axes is None:
            shared = set(range(1, rank - 1))
        elif self.shared_axes == "all":
            shared = set(range(1, rank))
        else:
            shared = set(self.shared_axes)
            if max(shared) >= rank:
                raise ValueError(
                    f"shared_axes of PReLU must be axes of its rank-{rank} input, 1 to {rank - 1} (or 'all', or "
                    f"None for one slope per channel). Received: shared_axes={list(self.shared_axes)} for "
                    f"input_shape={tuple(input_shape)}"
                )
        shape = tuple(1 if axis in shared else input_shape[axis] for axis in range(1, rank))
        if any(size is None for size in shape):
            raise ValueError(
                f"PReLU needs a known size on every axis that has its own slopes; share the unknown ones "
                f"with shared_axes. Received: input_shape={input_shape}, shared_axes={self.shared_axes!r}"
            )
        self.alpha = self.add_weight(
            shape=shape,
            name="alpha",
            initializer=self.alpha_initializer,
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
        )
        self.built = True

    def call(self, inputs: Any) -> Any:
        return prelu(inputs, self.alpha)

    def get_config(self) -> dict[str, Any]:
        initializer = self.alpha_initializer
        if isinstance(initializer, keras.initializers.Constant):
            start = initializer.get_config()["value"]
        else:
            start = keras.initializers.serialize(initializer)
        shared = self.shared_axes if self.shared_axes in (None, "all") else list(self.shared_axes)
        return {
            **super().get_config(),
            "alpha_initializer": start,
            "alpha_regularizer": keras.regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": keras.constraints.serialize(self.alpha_constraint),
            "shared_axes": shared,
        }
