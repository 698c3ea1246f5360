"""Pure rectifier functions on ``keras.ops`` only, so they run on every Keras backend.

Only what Keras lacks or gets subtly wrong lives here: ``relu`` (Keras' maps NaN to 0 when
``threshold`` is set), ``leaky_relu`` (Keras' default slope differs between function and layer), ``prelu``,
``rrelu`` and ``softplus`` with ``beta``; the exponential family (``celu``: Keras' has gradient 2 at
0) and the hard family are in ``relulab.activations.smooth``. ``relu6``, ``silu``, ``mish``, ``sigmoid``
and ``tanh`` are Keras' own, re-exported by ``relulab.activations``.

Slopes are exact in every dtype: a Python float becomes a tensor of the input's dtype directly
(``constant``), never through float32 (TensorFlow's ``LeakyRelu`` keeps its slope as a 32-bit attribute,
and ``ops.cast`` of a Python float passes through float32 on TensorFlow), so in float64
``leaky_relu(-1e4) = -100`` exactly, as in PyTorch.

Convention at the kink: where the formula has a kink at 0, the gradient there is the slope on the
left (the negative side): 0 for ReLU, ``negative_slope`` for the leaky family. TensorFlow and PyTorch
give this natively; JAX's ``leaky_relu`` gives 1 at 0, so that backend takes a ``where`` form instead.

Arguments are not checked here (these functions sit on the hot path); the layers and ``get`` check them.
"""

from __future__ import annotations

import numbers
from typing import Any

import keras
from keras import ops

from relulab.activations import defaults
from relulab.activations.slopes import uniform_slopes
from relulab.activations.smooth import celu  # noqa: F401  (the ELU family lives there)

_LEAKY_GRAD_AT_ZERO_IS_ONE = keras.backend.backend() == "jax"


def constant(value: Any, like: Any) -> Any:
    """``value`` (a Python number) as a tensor of ``like``'s dtype, rounded once from the Python float."""
    return ops.convert_to_tensor(value, dtype=keras.backend.standardize_dtype(like.dtype))


def _is_float64(x: Any) -> bool:
    return keras.backend.standardize_dtype(x.dtype) == "float64"


def relu(
    x: Any,
    negative_slope: float = 0.0,
    max_value: float | None = None,
    threshold: float = 0.0,
) -> Any:
    """Rectified linear unit with Keras' options: a threshold, a cap and a slope below the threshold.

    ``f(x) = min(x, max_value)`` for ``x > threshold`` and ``negative_slope * (x - threshold)`` otherwise.
    With the defaults, ``f(x) = max(x, 0)``, the derivative is 1 for ``x > 0`` and 0 for ``x < 0``, and
    the gradient at the kink ``x = 0`` is 0 (as in TensorFlow, JAX and PyTorch). At ``threshold`` the
    gradient is ``negative_slope``; at ``max_value`` it is 0. ``relu(nan) = nan`` for every setting
    (Keras' own returns 0 there once a threshold is set), ``relu(inf) = inf`` (or ``max_value``),
    ``relu(-inf) = 0`` (``-inf`` with a slope).

    Example:
        >>> relu(keras.ops.convert_to_tensor([-10.0, 0.0, 5.0, 10.0]), max_value=6.0)
        [0., 0., 5., 6.]

    Args:
        x: input tensor.
        negative_slope: slope below the threshold, default 0.
        max_value: the largest output, default None (no cap).
        threshold: where the function turns from the slope to the identity, default 0.

    Reference:
        Nair & Hinton 2010, "Rectified Linear Units Improve Restricted Boltzmann Machines";
        Glorot, Bordes & Bengio 2011, "Deep Sparse Rectifier Neural Networks".
    """
    if threshold == 0 and max_value is None:
        return leaky_relu(x, negative_slope)
    if threshold == 0 and negative_slope == 0 and max_value == 6:
        return ops.relu6(x)
    below = (x - threshold) * negative_slope if negative_slope else ops.zeros_like(x)
    y = ops.where(x > threshold, x, below)
    if max_value is not None:
        y = ops.where(y >= max_value, constant(max_value, y), y)
    return ops.where(ops.isnan(x), x, y)


def leaky_relu(x: Any, negative_slope: float = defaults.LEAKY_RELU_NEGATIVE_SLOPE) -> Any:
    """Leaky rectified linear unit.

    ``f(x) = x`` for ``x > 0`` and ``negative_slope * x`` otherwise.
    Gradient: 1 for ``x > 0``, ``negative_slope`` for ``x <= 0`` (so ``negative_slope`` at the kink).
    ``leaky_relu(nan) = nan``, ``leaky_relu(inf) = inf``, ``leaky_relu(-inf) = -inf`` (0 when the slope
    is 0, where the function is ReLU).

    Example:
        >>> leaky_relu(keras.ops.convert_to_tensor([-10.0, 0.0, 2.0]), negative_slope=0.1)
        [-1., 0., 2.]

    Args:
        x: input tensor.
        negative_slope: slope for ``x <= 0``; default 0.01 (``defaults.LEAKY_RELU_NEGATIVE_SLOPE``).

    Reference:
        Maas, Hannun & Ng 2013, "Rectifier Nonlinearities Improve Neural Network Acoustic Models".
    """
    if negative_slope == 0:
        return ops.relu(x)
    if _LEAKY_GRAD_AT_ZERO_IS_ONE or _is_float64(x):
        # JAX's op has gradient 1 at 0; TensorFlow's fused op rounds the slope to float32.
        return ops.where(x > 0, x, x * negative_slope)
    return ops.leaky_relu(x, negative_slope=negative_slope)


def prelu(x: Any, alpha: Any = defaults.PRELU_ALPHA) -> Any:
    """Parametric rectified linear unit with slope ``alpha`` (a number or a tensor broadcast to ``x``).

    ``f(x) = x`` for ``x > 0`` and ``alpha * x`` otherwise; the ``PReLU`` layer learns ``alpha``.
    Gradient: d/dx is 1 for ``x > 0`` and ``alpha`` for ``x <= 0`` (``alpha`` at the kink);
    d/dalpha is ``x`` for ``x <= 0`` and 0 otherwise. NaN propagates; ``-inf`` maps to ``-inf``.

    Example:
        >>> prelu(keras.ops.convert_to_tensor([-4.0, 0.0, 2.0]))
        [-1., 0., 2.]

    Args:
        x: input tensor.
        alpha: slope for ``x <= 0``; default 0.25, the initial value of He et al. 2015.

    Reference:
        He, Zhang, Ren & Sun 2015, "Delving Deep into Rectifiers: Surpassing Human-Level Performance on
        ImageNet Classification".
    """
    # x * where(...) rather than where(x > 0, x, alpha * x): the same values and gradients, and the
    # backward pass is one multiply by the kept factor instead of two selects and a sum; a scalar 1
    # rather than ones_like(x) saves a full-size fill.
    alpha = constant(alpha, x) if isinstance(alpha, numbers.Real) else ops.cast(alpha, x.dtype)
    return x * ops.where(x > 0, 1.0, alpha)


def rrelu(
    x: Any,
    lower: float = defaults.RRELU_LOWER,
    upper: float = defaults.RRELU_UPPER,
    *,
    training: bool = False,
    seed: Any = None,
) -> Any:
    """Randomized leaky rectified linear unit.

    Training: ``f(x) = x`` for ``x > 0`` and ``a * x`` otherwise, with a fresh ``a ~ U(lower, upper)``
    for every element, on a grid of 65,536 equally spaced slopes (two per 32-bit random draw; see
    ``relulab.activations.slopes``; PyTorch draws a float per element). Inference: the slope is the mean, ``(lower + upper) / 2``, deterministically.
    Gradient: 1 for ``x > 0``, the element's slope ``a`` for ``x <= 0`` (``a`` at the kink).

    Xu et al. draw ``a' ~ U(3, 8)`` and use the slope ``1 / a'``; the defaults here, PyTorch's 1/8 and
    1/3, cover the same range but draw the slope itself uniformly. The inference slope of the paper is
    ``2 / (3 + 8) = 0.1818``; ours is ``(1/8 + 1/3) / 2 = 0.2292``.

    Example:
        >>> rrelu(keras.ops.convert_to_tensor([-8.0, 2.0]), lower=0.25, upper=0.25)
        [-2., 2.]

    Args:
        x: input tensor.
        lower: smallest slope, default 1/8. upper: largest slope, default 1/3.
        training: draw random slopes when True; use the mean slope when False (default).
        seed: an int or a ``keras.random.SeedGenerator`` for the draws (used only in training).

    Reference:
        Xu, Wang, Chen & Li 2015, "Empirical Evaluation of Rectified Activations in Convolutional
        Network".
    """
    if not training:
        return leaky_relu(x, (lower + upper) / 2.0)
    slope = uniform_slopes(ops.shape(x), lower, upper, x.dtype, seed)
    return x * ops.where(x > 0, 1.0, slope)


def softplus(
    x: Any,
    beta: float = defaults.SOFTPLUS_BETA,
    threshold: float = defaults.SOFTPLUS_THRESHOLD,
) -> Any:
    """Softplus with sharpness ``beta``, linear where ``beta * x > threshold`` (PyTorch's form).

    ``f(x) = log(1 + exp(beta * x)) / beta``; smooth, so there is no kink: ``f'(x) = sigmoid(beta*x)``,
    ``f'(0) = 1/2``. As ``beta`` grows it approaches ReLU. ``f(nan) = nan``, ``f(inf) = inf``,
    ``f(-inf) = 0``.

    Example:
        >>> softplus(keras.ops.convert_to_tensor([0.0]), beta=2.0)
        [0.3466]

    Args:
        x: input tensor.
        beta: sharpness, default 1 (Keras' ``softplus``). threshold: above ``beta * x > threshold``
            the function returns ``x`` (avoids overflow), default 20.

    Reference:
        Dugas et al. 2001, "Incorporating Second-Order Functional Knowledge for Better Option Pricing";
        Glorot, Bordes & Bengio 2011, "Deep Sparse Rectifier Neural Networks".
    """
    scaled = x * beta
    return ops.where(scaled > threshold, x, ops.softplus(scaled) / beta)
