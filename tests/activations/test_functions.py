"""Each registered function against a NumPy reference: values on 0, the kink, +-inf and NaN, and the
gradient against the analytic derivative, including the documented gradient at the kink."""

from __future__ import annotations

import math

import hypothesis.strategies as st
import keras
import numpy as np
import pytest
from hypothesis import given, settings
from scipy.special import erf, expit

from relulab import activations
from relulab.activations import defaults

SELU_A, SELU_S = defaults.SELU_ALPHA, defaults.SELU_SCALE


def _where(c, a, b):
    with np.errstate(all="ignore"):
        return np.where(c, a, b)


def _relu_ref(x, negative_slope=0.0, max_value=None, threshold=0.0):
    with np.errstate(all="ignore"):
        below = (x - threshold) * negative_slope if negative_slope else np.zeros_like(x)
        y = np.where(x > threshold, x, below)
        if max_value is not None:
            y = np.where(y >= max_value, max_value, y)
        return np.where(np.isnan(x), x, y)


def _relu_grad(x, negative_slope=0.0, max_value=None, threshold=0.0):
    g = np.where(x > threshold, 1.0, negative_slope)
    if max_value is not None:
        g = np.where(_relu_ref(x, negative_slope, max_value, threshold) >= max_value, 0.0, g)
    return g


def _softplus(x, beta=1.0, threshold=20.0):
    with np.errstate(all="ignore"):
        return np.where(beta * x > threshold, x, np.logaddexp(0.0, beta * x) / beta)


def _mul(a, b):
    with np.errstate(invalid="ignore"):
        return a * b


def _phi(x):
    return 0.5 * (1 + erf(x / math.sqrt(2)))


# name, params, f(x), f'(x) (None: derivative not checked on +-inf/NaN), inputs where f' is checked.
CASES = [
    ("relu", {}, _relu_ref, _relu_grad),
    ("relu", {"negative_slope": 0.1, "max_value": 2.0, "threshold": 0.5},
     lambda x: _relu_ref(x, 0.1, 2.0, 0.5), lambda x: _relu_grad(x, 0.1, 2.0, 0.5)),
    ("relu", {"threshold": 0.5}, lambda x: _relu_ref(x, threshold=0.5), lambda x: _relu_grad(x, threshold=0.5)),
    ("leaky_relu", {}, lambda x: _where(x > 0, x, 0.01 * x), lambda x: np.where(x > 0, 1.0, 0.01)),
    ("leaky_relu", {"negative_slope": 0.3}, lambda x: _where(x > 0, x, 0.3 * x), lambda x: np.where(x > 0, 1.0, 0.3)),
    ("prelu", {}, lambda x: _where(x > 0, x, 0.25 * x), lambda x: np.where(x > 0, 1.0, 0.25)),
    ("rrelu", {}, lambda x: _where(x > 0, x, (1 / 8 + 1 / 3) / 2 * x),
     lambda x: np.where(x > 0, 1.0, (1 / 8 + 1 / 3) / 2)),
    ("relu6", {}, lambda x: _where(np.isnan(x), x, np.clip(x, 0, 6)), lambda x: np.where((x > 0) & (x < 6), 1.0, 0.0)),
    ("elu", {}, lambda x: _where(x > 0, x, np.expm1(np.minimum(x, 0))),
     lambda x: np.where(x >= 0, 1.0, np.exp(np.minimum(x, 0)))),  # Keras: 1 at 0
    ("selu", {}, lambda x: SELU_S * _where(x > 0, x, SELU_A * np.expm1(np.minimum(x, 0))),
     lambda x: SELU_S * np.where(x > 0, 1.0, SELU_A * np.exp(np.minimum(x, 0)))),  # the left side at 0
    ("celu", {"alpha": 2.0}, lambda x: _where(x > 0, x, 2.0 * np.expm1(np.minimum(x, 0) / 2.0)),
     lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0) / 2.0))),
    ("gelu", {}, lambda x: _mul(x, _phi(x)), lambda x: _phi(x) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)),
    ("silu", {}, lambda x: _mul(x, expit(x)), lambda x: expit(x) * (1 + x * (1 - expit(x)))),
    ("softplus", {"beta": 2.0}, lambda x: _softplus(x, 2.0), lambda x: np.where(2 * x > 20, 1.0, expit(2 * x))),
    ("sigmoid", {}, expit, lambda x: expit(x) * (1 - expit(x))),
    ("tanh", {}, np.tanh, lambda x: 1 - np.tanh(x) ** 2),
]
IDS = [activations.lookup(name).spec(params) for name, params, *_ in CASES]

FINITE = np.array([-7.5, -2.0, -1.0, -1e-3, 0.0, 1e-3, 0.5, 1.0, 2.0, 5.99, 6.0, 7.0, 30.0])
# x * g(x) forms give IEEE NaN at -inf (-inf * 0); the formula's limit is 0 but the arithmetic is not.
NAN_AT_MINUS_INF = {"gelu", "silu", "mish", "hard_silu"}


def _function(name, params):
    return activations.get(activations.lookup(name).spec(params))


@pytest.mark.parametrize(("name", "params", "reference", "derivative"), CASES, ids=IDS)
def test_value_and_gradient_match_numpy(name, params, reference, derivative, grad):
    y, dy = grad(_function(name, params), FINITE.astype("float64"))
    np.testing.assert_allclose(y, reference(FINITE), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dy, derivative(FINITE), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("name", "params", "reference", "derivative"), CASES, ids=IDS)
def test_nan_propagates_and_infinities_follow_the_formula(name, params, reference, derivative):
    special = np.array([np.nan, np.inf, -np.inf])
    y = keras.ops.convert_to_numpy(_function(name, params)(keras.ops.convert_to_tensor(special)))
    assert np.isnan(y[0]), f"{name}(nan) must be nan, got {y[0]}"
    expected = reference(special[1:])
    if name in NAN_AT_MINUS_INF:
        expected[1] = np.nan
    np.testing.assert_allclose(y[1:], expected, rtol=1e-6)  # equal infinities, or the finite limit


KINK_GRADIENTS = [
    ("relu", {}, 0.0, 0.0),
    ("relu", {"threshold": 0.5, "negative_slope": 0.1}, 0.5, 0.1),
    ("relu", {"max_value": 2.0}, 2.0, 0.0),
    ("leaky_relu", {}, 0.0, defaults.LEAKY_RELU_NEGATIVE_SLOPE),
    ("leaky_relu", {"negative_slope": 0.2}, 0.0, 0.2),
    ("prelu", {}, 0.0, defaults.PRELU_ALPHA),
    ("relu6", {}, 0.0, 0.0),
    ("relu6", {}, 6.0, 0.0),
    ("celu", {}, 0.0, 1.0),  # Keras' own celu gives 2 here
    ("elu", {}, 0.0, 1.0),
    ("elu", {"alpha": 0.5}, 0.0, 0.5),  # the left side, alpha * exp(0)
    ("selu", {}, 0.0, SELU_S * SELU_A),  # the left side on every backend (TensorFlow's kernel: scale)
]


@pytest.mark.parametrize(("name", "params", "kink", "expected"), KINK_GRADIENTS)
def test_gradient_at_the_kink_is_the_documented_one(name, params, kink, expected, grad):
    _, dy = grad(_function(name, params), np.array([kink], dtype="float32"))
    assert dy[0] == pytest.approx(expected)


def test_relu_keeps_nan_where_keras_own_relu_with_a_threshold_drops_it():
    x = keras.ops.convert_to_tensor(np.array([np.nan, 1.0], dtype="float32"))
    assert np.isnan(keras.ops.convert_to_numpy(activations.relu(x, threshold=0.5))[0])


def test_rrelu_training_slopes_lie_in_range_and_follow_the_seed():
    x = keras.ops.convert_to_tensor(-np.ones((4000,), dtype="float32"))
    first = keras.ops.convert_to_numpy(activations.rrelu(x, 0.1, 0.3, training=True, seed=7))
    again = keras.ops.convert_to_numpy(activations.rrelu(x, 0.1, 0.3, training=True, seed=7))
    slopes = -first
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.01 and slopes.std() > 0.05  # U(0.1, 0.3): mean 0.2, sd 0.058
    np.testing.assert_array_equal(first, again)


def test_rrelu_inference_is_deterministic_mean_slope():
    x = keras.ops.convert_to_tensor(np.array([-3.0, 3.0], dtype="float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(activations.rrelu(x, 0.1, 0.3)), [-0.6, 3.0], rtol=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    x=st.lists(st.floats(-1e6, 1e6, width=32), min_size=1, max_size=32),
    slope=st.floats(0.0, 1.0),
)
def test_leaky_relu_matches_numpy_on_any_finite_input(x, slope):
    x = np.array(x, dtype="float32")
    y = keras.ops.convert_to_numpy(activations.leaky_relu(keras.ops.convert_to_tensor(x), slope))
    expected = np.where(x > 0, x, np.float32(slope) * x)
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-30)



# name, params, c, d: the negative side is c * expm1(x / d), its derivative c / d * exp(x / d).
EXPONENTIAL = [("elu", {}, 1.0, 1.0), ("elu", {"alpha": 0.5}, 0.5, 1.0), ("celu", {"alpha": 2.0}, 2.0, 2.0),
               ("selu", {}, SELU_S * SELU_A, 1.0)]


@pytest.mark.parametrize(("name", "params", "c", "d"), EXPONENTIAL, ids=[f"{n}{p or ''}" for n, p, _, _ in EXPONENTIAL])
def test_the_exponential_family_is_within_a_few_ulps_on_a_dense_sweep_of_the_negative_side(name, params, c, d, grad):
    """Float32 magnitudes from 1e-30 to 100 (log-spaced) and a uniform sweep of [-30, 0]: values and gradients
    within 8 ulps of the float64 formula (the oracle's sparse grid could miss a region where the expm1
    identity loses digits)."""
    rng = np.random.default_rng(0)
    x = np.concatenate([-np.logspace(-30, 2, 20_000), -rng.uniform(0, 30, 20_000)]).astype("float32")
    y, dy = grad(_function(name, params), x)
    x64 = x.astype("float64")
    for got, want, what in ((y, c * np.expm1(x64 / d), "value"), (dy, c / d * np.exp(x64 / d), "gradient")):
        tiny = np.minimum(np.abs(want), np.exp(x64 / d)) < np.finfo("float32").tiny  # flushed to 0 on TensorFlow
        ulps = np.abs(got.astype("float64") - want) / np.spacing(np.abs(want).astype("float32")).astype("float64")
        ulps[tiny] = 0.0
        worst = int(np.argmax(ulps))
        assert ulps[worst] <= 8, f"{name}{params} {what} at x={x[worst]!r}: {got[worst]!r} vs {want[worst]!r}"
