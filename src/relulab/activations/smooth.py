"""The exponential and hard activations, on ``keras.ops`` only, exact where Keras' kernels round.

Keras' ``elu``/``selu`` compute ``exp(x) - 1`` (``elu(-1e-7)`` is ``-1.19e-7`` in float32, 0 for
``-3e-8 < x < 0``) and TensorFlow's take the gradient from the output (0 below ``x = -17.3``, SELU's
branch from the output's sign); here ``expm1`` without cancellation (``tanh(x/2) (1 + exp(x))``, within
6 ulps) and the gradient from the input. TensorFlow's ``gelu`` rounds
``sqrt(1/2)`` and ``0.044715`` to float32 in float64, and PyTorch's ``1 + erf`` loses the negative tail;
here ``erfc`` and constants in the input's dtype. ``relu6(x + 3)`` rounds ``x + 3`` to 6 one float
below 3, so ``hard_sigmoid``/``hard_silu`` take their branch from ``x``. ``softsign`` keeps a zero
gradient at +-inf on every backend.

Convention at a kink: the gradient is the left side's, as for the rectifiers (``alpha`` for ELU at 0,
``scale * alpha`` for SELU); ``hard_sigmoid`` and ``hard_silu`` take the outer pieces' at +-3 (0 and 0,
0 and 1), PyTorch's choices.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from relulab.activations import defaults

_BACKEND = keras.backend.backend()
_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def _negative_part(x: Any) -> Any:
    """``min(x, 0)``: TensorFlow's ``Minimum``; ``-relu(-x)`` elsewhere (Keras' torch backend computes
    ``ops.minimum`` in float32 for float64 inputs)."""
    if _BACKEND == "tensorflow":
        return ops.minimum(x, 0.0)
    return -ops.relu(-x)


def _exponential_unit(x: Any, alpha: float, scale: float = 1.0, divisor: float = 1.0) -> Any:
    """``scale * x`` for ``x > 0``, ``scale * alpha * expm1(x / divisor)`` otherwise, with the derivative
    ``scale * alpha / divisor * exp(min(x, 0) / divisor)`` on the left (and at 0) given explicitly.

    ``expm1(m) = tanh(m / 2) (1 + exp(m))`` for ``m = min(x, 0) / divisor``: no cancellation for
    ``m <= 0`` (``1 + exp(m)`` lies in [1, 2]), within 6 ulps in float32 and 7 in float64 (the ``tanh``), and
    ``exp(m)`` is the derivative the backward pass needs anyway; the two branches join as
    ``relu(x) + left`` (``left`` is 0 for ``x > 0``), without a comparison or a select. TensorFlow's
    ``Expm1`` kernel computes ``exp``, ``log`` and a division, about 2.3x an ``exp``
    (``benchmarks/bench_layers.py --activation-only`` times both forms against Keras' own).

    Autodiff would be wrong or slow: JAX and PyTorch differentiate ``expm1`` from its output (``y + 1``,
    0 once ``expm1`` rounds to -1 below -17.3 in float32, imprecise from about -2 on).
    """

    @ops.custom_gradient
    def unit(x: Any) -> Any:
        rectified = ops.relu(x)
        negative = _negative_part(x)
        if divisor != 1:
            negative = negative / divisor
        slope = ops.exp(negative)  # 1 for x >= 0
        left = ops.tanh(negative * 0.5) * (slope + 1.0)
        if alpha * scale != 1:
            left = (alpha * scale) * left
        y = (rectified if scale == 1 else scale * rectified) + left

        def backward(*args: Any, upstream: Any = None) -> Any:
            upstream = args[0] if upstream is None else upstream
            if alpha * scale == divisor and scale == 1:
                return upstream * slope
            # scale outside the where: Keras' torch backend rounds a Python float there to float32.
            factor = ops.where(x > 0, 1.0, (alpha / divisor) * slope)
            return upstream * (factor if scale == 1 else scale * factor)

        return y, backward

    return unit(x)


def elu(x: Any, alpha: float = defaults.ELU_ALPHA) -> Any:
    """Exponential linear unit.

    ``f(x) = x`` for ``x > 0`` and ``alpha * (exp(x) - 1)`` otherwise, computed with ``expm1`` so that
    ``elu(-1e-7) = -1e-7`` and the gradient ``alpha * exp(x)`` stays positive down to ``exp``'s underflow.
    Gradient: 1 for ``x > 0``, ``alpha * exp(x)`` for ``x <= 0`` (``alpha`` at the kink, the left side).
    ``f(nan) = nan``, ``f(inf) = inf``, ``f(-inf) = -alpha``.

    Example:
        >>> elu(keras.ops.convert_to_tensor([-1e-7, 0.0, 2.0]))
        [-1e-07, 0., 2.]

    Args:
        x: input tensor.
        alpha: scale of the negative part, >= 0; default 1.

    Reference:
        Clevert, Unterthiner & Hochreiter 2016, "Fast and Accurate Deep Network Learning by Exponential
        Linear Units (ELUs)".
    """
    return _exponential_unit(x, alpha)


def celu(x: Any, alpha: float = defaults.CELU_ALPHA) -> Any:
    """Continuously differentiable exponential linear unit.

    ``f(x) = x`` for ``x > 0`` and ``alpha * (exp(x / alpha) - 1)`` otherwise. The derivative is 1 for
    ``x > 0`` and ``exp(x / alpha)`` otherwise, so it is continuous and 1 at 0 (Keras' ``celu`` sums two
    branches and gives 2 there). ``f(nan) = nan``, ``f(inf) = inf``, ``f(-inf) = -alpha``.

    Example:
        >>> celu(keras.ops.convert_to_tensor([-1.0, 0.0, 1.0]), alpha=2.0)
        [-0.7869, 0., 1.]

    Args:
        x: input tensor.
        alpha: scale of the negative part, > 0; default 1.

    Reference:
        Barron 2017, "Continuously Differentiable Exponential Linear Units".
    """
    if alpha == 1:
        return elu(x)
    return _exponential_unit(x, alpha, divisor=alpha)


def selu(x: Any) -> Any:
    """Scaled exponential linear unit: ``scale * elu(x, alpha)`` with the self-normalising constants.

    ``f(x) = scale * x`` for ``x > 0`` and ``scale * alpha * (exp(x) - 1)`` otherwise, with
    ``alpha = 1.6732632423543772`` and ``scale = 1.0507009873554805``. Gradient: ``scale`` for ``x > 0``,
    ``scale * alpha * exp(x)`` for ``x <= 0``; it jumps at 0, where it is ``scale * alpha`` (the left
    side, as in PyTorch and JAX) on every backend. ``f(-inf) = -scale * alpha``.

    Example:
        >>> selu(keras.ops.convert_to_tensor([-1.0, 1.0]))
        [-1.1113, 1.0507]

    Reference:
        Klambauer, Unterthiner, Mayr & Hochreiter 2017, "Self-Normalizing Neural Networks".
    """
    return _exponential_unit(x, defaults.SELU_ALPHA, defaults.SELU_SCALE)


def gelu(x: Any, approximate: bool = defaults.GELU_APPROXIMATE) -> Any:
    """Gaussian error linear unit.

    ``f(x) = x * Phi(x) = x * erfc(-x / sqrt(2)) / 2`` (``erfc``, so the negative tail keeps its
    relative precision); with ``approximate``, ``0.5 x (1 + tanh(u))`` with
    ``u = sqrt(2/pi) (x + 0.044715 x^3)``, computed as ``x * sigmoid(2u)`` (the same function, without
    the cancellation of ``1 + tanh`` for ``x < 0``). Smooth: ``f'(x) = Phi(x) + x phi(x)``, 1/2 at 0.
    ``f(-inf)`` is NaN (IEEE ``-inf * 0``), as in PyTorch.

    Example:
        >>> gelu(keras.ops.convert_to_tensor([-1.0, 0.0, 1.0]))
        [-0.1587, 0., 0.8413]

    Args:
        x: input tensor.
        approximate: use the tanh form; default False.

    Reference:
        Hendrycks & Gimpel 2016, "Gaussian Error Linear Units (GELUs)".
    """
    if approximate:
        # Clipped: the sigmoid is 0 or 1 in every float format beyond |x| = 64, and x^3 overflows later.
        c = ops.clip(x, -64.0, 64.0)
        return x * ops.sigmoid((2.0 * _SQRT_2_OVER_PI) * (c + _GELU_CUBIC * (c * c * c)))
    return x * (0.5 * ops.erfc(x * -_SQRT_HALF))


def hard_sigmoid(x: Any) -> Any:
    """Hard sigmoid: ``relu6(x + 3) / 6``, i.e. 0 for ``x <= -3``, 1 for ``x >= 3``, ``(x + 3) / 6`` between.

    Gradient: 1/6 for ``-3 < x < 3`` (also one float below 3, where ``x + 3`` rounds to 6), 0 outside and
    at both kinks, as in PyTorch. NaN propagates.

    Example:
        >>> hard_sigmoid(keras.ops.convert_to_tensor([-4.0, 0.0, 4.0]))
        [0., 0.5, 1.]

    Reference:
        Courbariaux, Bengio & David 2015, "BinaryConnect"; Howard et al. 2019, "Searching for MobileNetV3".
    """
    middle = (x + 3.0) / 6.0
    return ops.where(x <= -3.0, 0.0, ops.where(x >= 3.0, 1.0, middle))


def hard_silu(x: Any) -> Any:
    """Hard SiLU (hard swish): ``x * hard_sigmoid(x)``.

    0 for ``x <= -3``, ``x`` for ``x >= 3`` (exactly, with no overflow near the largest float, where
    PyTorch's ``x * relu6(x + 3) / 6`` gives inf), and ``x (x + 3) / 6`` between. Gradient: 0 for
    ``x <= -3``, 1 for ``x >= 3`` and ``x / 3 + 1/2`` between (the outer pieces' at both kinks, as in
    PyTorch and Keras). NaN propagates; ``f(-inf) = 0`` (PyTorch: NaN), ``f(inf) = inf``.

    Example:
        >>> hard_silu(keras.ops.convert_to_tensor([-4.0, 1.0, 4.0]))
        [0., 0.6667, 4.]

    Reference:
        Howard et al. 2019, "Searching for MobileNetV3".
    """
    finite = ops.where(ops.isinf(x), 0.0, x)  # so the unused branch's gradient is not inf * 0 = NaN
    middle = finite * (finite + 3.0) / 6.0
    return ops.where(x <= -3.0, 0.0, ops.where(x >= 3.0, x, middle))


@ops.custom_gradient
def _softsign_gradient_from_input(x: Any) -> Any:
    def backward(*args: Any, upstream: Any = None) -> Any:
        denominator = 1.0 + ops.abs(x)
        return (args[0] if upstream is None else upstream) / denominator / denominator

    return ops.softsign(x), backward


def softsign(x: Any) -> Any:
    """Softsign: ``x / (1 + |x|)``.

    Gradient: ``1 / (1 + |x|)^2``: 1 at 0, and 0 at +-inf on every backend (differentiating the quotient
    gives NaN there on JAX and PyTorch; TensorFlow's own kernel is used there). ``f(+-inf) = +-1``
    (every backend's kernel, and PyTorch's, give ``inf / inf = NaN``).

    Example:
        >>> softsign(keras.ops.convert_to_tensor([-1.0, 0.0, 3.0]))
        [-0.5, 0., 0.75]

    Reference:
        Bergstra et al. 2009, "Quadratic Polynomials Learn Better Image Features".
    """
    y = ops.softsign(x) if _BACKEND == "tensorflow" else _softsign_gradient_from_input(x)
    return ops.where(ops.isinf(x), ops.sign(x), y)  # inf / inf is NaN in every backend's kernel
