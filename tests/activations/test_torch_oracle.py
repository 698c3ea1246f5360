"""PyTorch as the oracle: values and gradients of every activation PyTorch also has, float32 and float64.

The grid holds the kinks and their float neighbours (``np.nextafter``), +-1e-8 to 1e-7 (where
Keras' exp(x) - 1 rounds to 0), the exponential tails,
large magnitudes up to the largest float, +-inf and NaN. relulab must agree with ``torch.nn.functional``
to a few ulps (or, below the normal range, to the flush-to-zero floor). Where PyTorch is wrong, the
point is in ``TORCH_WRONG`` below, with the reason, and relulab is pinned to an arbitrary-precision
(mpmath) value of the formula instead. Runs on every Keras backend; float64 on JAX needs
``JAX_ENABLE_X64=1``.
"""

from __future__ import annotations

import math

import keras
import mpmath
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from relulab import activations  # noqa: E402

VALUE_ULPS = 4
GRAD_ULPS = 8
# TensorFlow flushes subnormal intermediates to zero, so results below the normal range may be 0; the
# difference is then at most about the smallest normal float times the function's local factor.
UNDERFLOW = {"float32": 1e-30, "float64": 1e-290}
DTYPES = ["float32", "float64"]


def grid(dtype: str, kinks: tuple[float, ...] = ()) -> np.ndarray:
    t = np.dtype(dtype).type
    finfo = np.finfo(dtype)
    base = [0.0, 1e-8, 3e-8, 1e-7, 1e-3, 0.5, 1.0, 2.0, 3.0, 4.0, 5.5, 6.0, 8.0, 10.0, 17.3, 20.0, 30.0, 50.0, 88.0, 100.0,
            1e4, 1e30, 1e37]
    if dtype == "float64":
        base += [40.0, 700.0, 1e300]
    points = []
    for value in [*base, *(-b for b in base), *kinks]:
        value = t(value)
        points += [value, np.nextafter(value, t(np.inf)), np.nextafter(value, t(-np.inf))]
    points += [finfo.max, -finfo.max, t(np.inf), t(-np.inf), t(np.nan)]
    return np.array(points, dtype=dtype)


# -- arbitrary-precision references, used only where PyTorch is wrong ------------------------------------
mpmath.mp.dps = 60
_SQRT2 = mpmath.sqrt(2)
_K = mpmath.sqrt(2 / mpmath.pi)


def _mp(function):
    """A float -> float reference from an mpmath function of a finite mpf; infinities handled by the caller."""
    return lambda x: float(function(mpmath.mpf(float(x))))


def _gelu(x):
    if abs(x) > 1e5:  # the limits, beyond any float's range (and mpmath's erfc series); -inf gives NaN
        return x if x > 0 else 0 * x if mpmath.isinf(x) else mpmath.mpf(0)
    return x * mpmath.erfc(-x / _SQRT2) / 2


def _gelu_grad(x):
    if abs(x) > 1e5:
        return mpmath.mpf(1) if x > 0 else 0 * x if mpmath.isinf(x) else mpmath.mpf(0)
    return mpmath.erfc(-x / _SQRT2) / 2 + x * mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)


def _u(x):
    return _K * (x + mpmath.mpf("0.044715") * x**3)


def _gelu_tanh(x):
    return x / (1 + mpmath.exp(-2 * _u(x)))  # = x (1 + tanh u) / 2 without cancellation


def _gelu_tanh_grad(x):
    if mpmath.isinf(x):
        return mpmath.mpf(1) if x > 0 else mpmath.nan
    du = _K * (1 + 3 * mpmath.mpf("0.044715") * x**2)
    return 1 / (1 + mpmath.exp(-2 * _u(x))) + x * du * mpmath.sech(_u(x)) ** 2 / 2


def _hard_silu(x):
    return 0.0 if x <= -3 else x if x >= 3 else x * (x + 3) / 6


def _softsign(x):
    return math.copysign(1.0, x) if math.isinf(x) else float(mpmath.mpf(x) / (1 + abs(mpmath.mpf(x))))


def _softsign_grad(x):
    return 0.0 if math.isinf(x) else float(1 / (1 + abs(mpmath.mpf(x))) ** 2)


def _scaled_ulps(x: np.ndarray) -> np.ndarray:
    """erfc(z) moves by ~2 z^2 relative for one rounding of its argument: x^2 ulps at x = -sqrt(2) z."""
    return VALUE_ULPS * np.maximum(1.0, x.astype("float64") ** 2)


# name -> (mask of x where PyTorch is wrong, reference value, reference gradient, tolerance in ulps, reason).
# This is the one list of relulab's deliberate differences from PyTorch.
TORCH_WRONG = {
    "gelu": (lambda x, dtype: (x < -1.0) | (x >= np.finfo(dtype).max), _mp(_gelu), _mp(_gelu_grad), _scaled_ulps,
             "PyTorch computes x (1 + erf(x / sqrt 2)) / 2: 1 + erf cancels for x < 0 (12 million ulps at x = -10 "
             "in float32, 0 below -5.9), and it overflows at the largest float (inf; NaN at inf); relulab uses "
             "erfc, whose argument's rounding alone costs ~x^2 ulps in the tail"),
    "gelu_tanh": (lambda x, dtype: (x < -1.0) | (x > np.cbrt(np.finfo(dtype).max)), _mp(_gelu_tanh),
                  _mp(_gelu_tanh_grad), _scaled_ulps,
                  "PyTorch computes x (1 + tanh(u)) / 2, which cancels for x < 0 (its gradient too), and its "
                  "gradient is NaN once x^3 overflows; relulab computes x * sigmoid(2u) with u's x clipped to +-64"),
    "hard_silu": (lambda x, dtype: (x == -np.inf) | (x > np.finfo(dtype).max / 6), _hard_silu, None,
                  lambda x: VALUE_ULPS,
                  "PyTorch's x * relu6(x + 3) / 6 overflows to inf above max/6 and gives -inf * 0 = NaN at -inf"),
    "hard_sigmoid": (lambda x, dtype: (dtype == "float64") & (np.abs(x) < 3), None, lambda x: 1.0 / 6.0,
                     lambda x: GRAD_ULPS,
                     "PyTorch's backward multiplies by a float32 1/6 in float64 (0.16666667163...)"),
    "softsign": (lambda x, dtype: np.isinf(x) | (np.abs(x) > 10.0), _softsign, _softsign_grad,
                 lambda x: GRAD_ULPS,
                 "PyTorch differentiates x / (1 + |x|) as a quotient: NaN at +-inf (its value too: inf / inf) "
                 "and the cancelling 1/d - |x|/d^2 (thousands of ulps at |x| = 1e4); relulab 1 / (1 + |x|)^2"),
}
# Keras' own functions (relulab re-exports them) that agree with PyTorch more loosely, in ulps:
KERAS_LOOSE = {
    # TensorFlow's silu is x * sigmoid(x) (5 ulps at x = -2 in float32) and its gradient
    # s (1 + x (1 - s)) cancels in 1 - s for large x (14 ulps at x = 30 in float64).
    "silu": 16,
    # mish is differentiated by autodiff through tanh(softplus(x)): 1 - tanh^2 cancels (~30 ulps near
    # x = 8 in float32, ~90 near x = 17 in float64); PyTorch's fused backward is closer.
    "mish": 128,
}
if keras.backend.backend() == "jax":
    # jax.nn.softplus is logaddexp(x, 0); its gradient is 12 ulps off in float64's tail (x = -8).
    KERAS_LOOSE["softplus"] = KERAS_LOOSE["softplus_beta"] = 16


def _prelu(alpha):
    return lambda t: F.prelu(t, torch.tensor([alpha], dtype=t.dtype))


# id, relulab function, torch function, extra kinks for the grid
CASES = [
    ("relu", activations.get("relu"), F.relu, ()),
    ("relu_slope", activations.get("relu(negative_slope=0.1)"), lambda t: F.leaky_relu(t, 0.1), ()),
    ("leaky_relu", activations.get("leaky_relu"), lambda t: F.leaky_relu(t, 0.01), ()),
    ("leaky_relu_0.3", activations.get("leaky_relu(negative_slope=0.3)"), lambda t: F.leaky_relu(t, 0.3), ()),
    ("prelu", activations.get("prelu(alpha=0.1)"), _prelu(0.1), ()),
    ("rrelu", lambda x: activations.rrelu(x, 0.1, 0.3), lambda t: F.rrelu(t, 0.1, 0.3, training=False), ()),
    ("relu6", activations.get("relu6"), F.relu6, ()),
    ("elu", activations.get("elu"), F.elu, ()),
    ("elu_0.5", activations.get("elu(alpha=0.5)"), lambda t: F.elu(t, 0.5), ()),
    ("selu", activations.get("selu"), F.selu, ()),
    ("celu", activations.get("celu(alpha=2.0)"), lambda t: F.celu(t, 2.0), ()),
    ("gelu", activations.get("gelu"), F.gelu, ()),
    ("gelu_tanh", activations.get("gelu(approximate=True)"), lambda t: F.gelu(t, approximate="tanh"), ()),
    ("silu", activations.get("silu"), F.silu, ()),
    ("mish", activations.get("mish"), F.mish, ()),
    ("softplus", activations.get("softplus"), F.softplus, ()),
    ("softplus_beta", activations.get("softplus(beta=2.0, threshold=5.0)"), lambda t: F.softplus(t, 2.0, 5.0),
     (2.5,)),
    ("hard_sigmoid", activations.get("hard_sigmoid"), F.hardsigmoid, ()),
    ("hard_silu", activations.get("hard_silu"), F.hardswish, ()),
    ("softsign", activations.get("softsign"), F.softsign, ()),
]


def _torch(function, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tensor = torch.tensor(x, requires_grad=True)
    y = function(tensor)
    y.backward(torch.ones_like(y))
    return y.detach().numpy(), tensor.grad.numpy()


def _reference(function, x: np.ndarray, dtype: str) -> np.ndarray:
    return np.array([function(float(v)) for v in x], dtype="float64").astype(dtype)


def _ulps(actual: np.ndarray, expected: np.ndarray, dtype: str) -> np.ndarray:
    """|actual - expected| in ulps of expected; 0 where both are NaN, equal, or within the underflow floor."""
    a, e = actual.astype("float64"), expected.astype("float64")
    with np.errstate(all="ignore"):
        difference = np.abs(a - e)
        ulps = difference / np.spacing(np.abs(expected).astype(dtype)).astype("float64")
    ulps[(np.isnan(a) & np.isnan(e)) | (a == e) | (difference <= UNDERFLOW[dtype])] = 0.0
    ulps[np.isnan(ulps)] = np.inf  # NaN on one side only, or opposite infinities
    return ulps


def _check(name: str, x, actual, expected, tolerance, what: str, dtype: str) -> None:
    ulps = _ulps(actual, expected, dtype)
    bad = ulps > tolerance
    assert not bad.any(), (
        f"{name} {what} ({dtype}) differs at x={x[bad].tolist()}: relulab {actual[bad].tolist()}, "
        f"expected {expected[bad].tolist()} ({ulps[bad].tolist()} ulps)"
    )


def _as_seen(x: np.ndarray) -> np.ndarray:
    """The inputs as the backend sees them: TensorFlow's and XLA's (JAX's) CPU kernels treat subnormals as 0,
    so at +-5e-324 (+-1.4e-45 in float32) relulab's gradient is the kink's, where PyTorch's is the side's."""
    if keras.backend.backend() not in ("tensorflow", "jax"):
        return x
    return np.where(np.abs(x) < np.finfo(x.dtype).tiny, np.zeros_like(x), x)


def _float64_available() -> bool:
    if keras.backend.backend() != "jax":
        return True
    import jax

    return bool(jax.config.jax_enable_x64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "function", "torch_function", "kinks"), CASES, ids=[c[0] for c in CASES])
def test_value_and_gradient_agree_with_pytorch(name, function, torch_function, kinks, dtype, grad):
    if dtype == "float64" and not _float64_available():
        pytest.skip("JAX computes float64 as float32 unless JAX_ENABLE_X64=1")
    x = grid(dtype, kinks)
    y, dy = grad(function, x)
    assert y.dtype == np.dtype(dtype) and dy.dtype == np.dtype(dtype)
    expected, expected_grad = _torch(torch_function, _as_seen(x))
    value_ulps = np.full(x.shape, float(KERAS_LOOSE.get(name, VALUE_ULPS)))
    grad_ulps = np.full(x.shape, float(KERAS_LOOSE.get(name, GRAD_ULPS)))
    if name in TORCH_WRONG:
        wrong, value_ref, grad_ref, tolerance, _ = TORCH_WRONG[name]
        mask = wrong(x, dtype)
        if value_ref is not None:
            expected[mask] = _reference(value_ref, x[mask], dtype)
            value_ulps[mask] = tolerance(x[mask])
        if grad_ref is not None:
            expected_grad[mask] = _reference(grad_ref, x[mask], dtype)
            grad_ulps[mask] = np.maximum(tolerance(x[mask]), GRAD_ULPS)
    _check(name, x, y, expected, value_ulps, "value", dtype)
    finite_input = ~np.isnan(x)  # the gradient at a NaN input is not defined (PyTorch: 0 or 1 by kernel)
    _check(name, x[finite_input], dy[finite_input], expected_grad[finite_input], grad_ulps[finite_input],
           "gradient", dtype)


@pytest.mark.parametrize(("name", "function"), [
    ("leaky_relu", lambda x: activations.leaky_relu(x, 0.01)),
    ("relu", lambda x: activations.relu(x, negative_slope=0.01)),
    ("relu_threshold", lambda x: activations.relu(x + 1.0, negative_slope=0.01, threshold=1.0)),
    ("prelu", lambda x: activations.prelu(x, 0.01)),
    ("rrelu", lambda x: activations.rrelu(x, 0.005, 0.015)),
])
def test_float64_slopes_are_not_rounded_through_float32(name, function):
    if not _float64_available():
        pytest.skip("JAX computes float64 as float32 unless JAX_ENABLE_X64=1")
    x = keras.ops.convert_to_tensor(np.array([-1e4, -3.0]), dtype="float64")
    y = keras.ops.convert_to_numpy(function(x))
    np.testing.assert_array_equal(y, np.array([-1e4, -3.0]) * 0.01)  # float32 slopes give -99.99999776


def test_every_entry_of_the_difference_list_is_exercised():
    names = {c[0] for c in CASES}
    assert set(TORCH_WRONG) <= names and set(KERAS_LOOSE) <= names
