"""ReLU, LeakyReLU and ReLU6 layers: thin wrappers around the pure functions."""

from __future__ import annotations

from typing import Any

from relulab.activations import defaults
from relulab.activations.registry import register_layer
from relulab.layers.base import ActivationLayer


@register_layer("relu")
class ReLU(ActivationLayer):
    """Rectified linear unit: ``x`` above ``threshold`` (capped at ``max_value``), else
    ``negative_slope * (x - threshold)``.

    Gradient: 1 above the threshold, ``negative_slope`` below and at it (0 at the kink by default),
    0 at and above ``max_value``. NaN propagates. See ``relulab.activations.relu``.

    Example:
        >>> keras.Sequential([keras.Input((784,)), keras.layers.Dense(64), ReLU()])

    Args:
        negative_slope: slope below the threshold, >= 0; default 0.
        max_value: output cap, >= 0 or None (default, no cap).
        threshold: where the identity starts; default 0.

    Reference: Nair & Hinton 2010; Glorot, Bordes & Bengio 2011.
    """

    def __init__(
        self, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0, **kwargs: Any
    ) -> None:
        super().__init__(dict(negative_slope=negative_slope, max_value=max_value, threshold=threshold), **kwargs)


@register_layer("leaky_relu")
class LeakyReLU(ActivationLayer):
    """Leaky rectified linear unit: ``x`` for ``x > 0``, ``negative_slope * x`` otherwise.

    Gradient: 1 for ``x > 0``, ``negative_slope`` for ``x <= 0`` (so ``negative_slope`` at the kink).
    The default slope, 0.01, is Maas et al.'s and is shared with ``relulab.activations.leaky_relu``
    (Keras uses 0.3 for its layer and 0.2 for its function). See ``relulab.activations.leaky_relu``.

    Example:
        >>> keras.layers.Dense(64, activation=LeakyReLU(negative_slope=0.1))

    Args:
        negative_slope: slope for ``x <= 0``, >= 0; default 0.01.

    Reference: Maas, Hannun & Ng 2013, "Rectifier Nonlinearities Improve Neural Network Acoustic Models".
    """

    def __init__(self, negative_slope: float = defaults.LEAKY_RELU_NEGATIVE_SLOPE, **kwargs: Any) -> None:
        super().__init__(dict(negative_slope=negative_slope), **kwargs)


@register_layer("relu6")
class ReLU6(ActivationLayer):
    """ReLU capped at 6: ``min(max(x, 0), 6)``.

    Gradient: 1 for ``0 < x < 6``, 0 elsewhere, including both kinks (0 and 6). NaN propagates.

    Reference: Krizhevsky 2010, "Convolutional Deep Belief Networks on CIFAR-10"; Howard et al. 2017
    (MobileNets).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, **kwargs)
