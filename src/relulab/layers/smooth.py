"""Layer classes for activations that Keras only ships as functions: ELU-family, GELU, SiLU, Mish,
Softplus. Each is a thin wrapper: the function, its defaults and its checks live in the registry."""

from __future__ import annotations

from typing import Any

from relulab.activations import defaults
from relulab.activations.registry import register_layer
from relulab.layers.base import ActivationLayer


@register_layer("elu")
class ELU(ActivationLayer):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    Gradient: 1 for ``x > 0``, ``alpha * exp(x)`` otherwise (``alpha`` at 0; continuous when alpha is 1).
    Computed with ``expm1`` and the gradient from ``x`` (see ``relulab.activations.elu``).

    Args:
        alpha: scale of the negative part, >= 0; default 1.

    Reference: Clevert, Unterthiner & Hochreiter 2016, "Fast and Accurate Deep Network Learning by
    Exponential Linear Units (ELUs)".
    """

    def __init__(self, alpha: float = defaults.ELU_ALPHA, **kwargs: Any) -> None:
        super().__init__(dict(alpha=alpha), **kwargs)


@register_layer("selu")
class SELU(ActivationLayer):
    """Scaled ELU: ``scale * x`` for ``x > 0``, ``scale * alpha * (exp(x) - 1)`` otherwise, with
    alpha = 1.6732632423543772 and scale = 1.0507009873554805.

    Gradient: ``scale`` for ``x > 0``, ``scale * alpha * exp(x)`` for ``x <= 0``; it jumps at 0, where it
    is ``scale * alpha`` (the left side) on every backend (Keras' function gives ``scale`` on TensorFlow).
    Computed with ``expm1`` (see ``relulab.activations.selu``). Use with ``lecun_normal`` initialisation.

    Reference: Klambauer, Unterthiner, Mayr & Hochreiter 2017, "Self-Normalizing Neural Networks".
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, **kwargs)


@register_layer("celu")
class CELU(ActivationLayer):
    """Continuously differentiable ELU: ``x`` for ``x > 0``, ``alpha * (exp(x / alpha) - 1)`` otherwise.

    Gradient: 1 for ``x > 0``, ``exp(x / alpha)`` otherwise; 1 at 0 (continuous).

    Args:
        alpha: scale, > 0; default 1.

    Reference: Barron 2017, "Continuously Differentiable Exponential Linear Units".
    """

    def __init__(self, alpha: float = defaults.CELU_ALPHA, **kwargs: Any) -> None:
        super().__init__(dict(alpha=alpha), **kwargs)


@register_layer("gelu")
class GELU(ActivationLayer):
    """Gaussian error linear unit: ``x * Phi(x)``, or ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``
    when ``approximate``.

    Smooth: no kink; the gradient at 0 is 1/2. ``gelu(-inf)`` is NaN (IEEE ``-inf * 0``).

    Args:
        approximate: use the tanh approximation; default False.

    Reference: Hendrycks & Gimpel 2016, "Gaussian Error Linear Units (GELUs)".
    """

    def __init__(self, approximate: bool = defaults.GELU_APPROXIMATE, **kwargs: Any) -> None:
        super().__init__(dict(approximate=approximate), **kwargs)


@register_layer("silu")
class SiLU(ActivationLayer):
    """Sigmoid linear unit (swish): ``x * sigmoid(x)``.

    Smooth: no kink; the gradient at 0 is 1/2. ``silu(-inf)`` is NaN (IEEE ``-inf * 0``).

    Reference: Elfwing, Uchibe & Doya 2018; Ramachandran, Zoph & Le 2017 ("Searching for Activation
    Functions").
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, **kwargs)


@register_layer("mish")
class Mish(ActivationLayer):
    """Mish: ``x * tanh(softplus(x))``.

    Smooth: no kink; the gradient at 0 is 0.6. ``mish(-inf)`` is NaN (IEEE ``-inf * 0``).

    Reference: Misra 2019, "Mish: A Self Regularized Non-Monotonic Activation Function".
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, **kwargs)


@register_layer("softplus")
class Softplus(ActivationLayer):
    """Softplus: ``log(1 + exp(beta * x)) / beta``, and ``x`` where ``beta * x > threshold``.

    Smooth: no kink; the gradient is ``sigmoid(beta * x)``, 1/2 at 0. Approaches ReLU as beta grows.

    Args:
        beta: sharpness, > 0; default 1.
        threshold: linear above ``beta * x > threshold``, > 0; default 20.

    Reference: Dugas et al. 2001; Glorot, Bordes & Bengio 2011.
    """

    def __init__(
        self, beta: float = defaults.SOFTPLUS_BETA, threshold: float = defaults.SOFTPLUS_THRESHOLD, **kwargs: Any
    ) -> None:
        super().__init__(dict(beta=beta, threshold=threshold), **kwargs)
