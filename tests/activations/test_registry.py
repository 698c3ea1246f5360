"""The registry, the spec parser and get(): names, aliases, defaults and every error message."""

from __future__ import annotations

import inspect

import hypothesis.strategies as st
import keras
import pytest
from hypothesis import given

from relulab import activations, layers
from relulab.activations import defaults, functions
from relulab.activations.spec import format_spec, parse


def test_available_lists_the_rectifier_family_and_keras_functions():
    names = activations.available()
    for name in ["relu", "leaky_relu", "prelu", "rrelu", "relu6", "elu", "selu", "celu", "gelu", "silu",
                 "mish", "softplus", "sigmoid", "tanh"]:
        assert name in names
    assert activations.available("saturating") == ["hard_sigmoid", "sigmoid", "softsign", "tanh"]


def test_keras_functions_are_reexported_not_rewritten():
    for name in ["relu6", "silu", "mish", "sigmoid", "tanh"]:  # elu, selu, gelu, hard_*, softsign: relulab.activations.smooth
        assert activations.get(name) is getattr(keras.activations, name)


@pytest.mark.parametrize(("alias", "name"), [("swish", "silu"), ("LeakyReLU", "leaky_relu"),
                                             ("leaky-relu", "leaky_relu"), ("RELU", "relu")])
def test_aliases_and_case_resolve_to_one_entry(alias, name):
    assert activations.lookup(alias) is activations.lookup(name)


def test_get_binds_parameters_and_keeps_a_readable_name():
    f = activations.get("leaky_relu(negative_slope=0.1)")
    assert repr(f) == "leaky_relu(negative_slope=0.1)"
    assert f.params == {"negative_slope": 0.1}
    assert activations.get("leaky_relu(0.1)").params == {"negative_slope": 0.1}
    assert activations.get("leaky_relu") is functions.leaky_relu


def test_get_returns_callables_unchanged():
    assert activations.get(keras.activations.relu) is keras.activations.relu


@pytest.mark.parametrize(
    ("function", "layer", "name", "param", "default"),
    [
        (functions.leaky_relu, layers.LeakyReLU, "leaky_relu", "negative_slope", defaults.LEAKY_RELU_NEGATIVE_SLOPE),
        (functions.rrelu, layers.RReLU, "rrelu", "lower", defaults.RRELU_LOWER),
        (functions.rrelu, layers.RReLU, "rrelu", "upper", defaults.RRELU_UPPER),
        (functions.celu, layers.CELU, "celu", "alpha", defaults.CELU_ALPHA),
        (functions.softplus, layers.Softplus, "softplus", "beta", defaults.SOFTPLUS_BETA),
        (functions.softplus, layers.Softplus, "softplus", "threshold", defaults.SOFTPLUS_THRESHOLD),
    ],
)
def test_function_layer_and_get_share_one_default(function, layer, name, param, default):
    assert inspect.signature(function).parameters[param].default == default
    assert inspect.signature(layer.__init__).parameters[param].default == default
    assert activations.lookup(name).defaults()[param] == default
    assert layers.get(name).get_config()[param] == default


def test_prelu_layer_starts_at_the_function_default():
    assert layers.get("prelu").get_config()["alpha_initializer"] == defaults.PRELU_ALPHA
    assert inspect.signature(functions.prelu).parameters["alpha"].default == defaults.PRELU_ALPHA


@pytest.mark.parametrize(
    ("spec", "error", "match"),
    [
        ("relux", ValueError, r"Unknown activation 'relux'\. Valid names: celu, elu, .*leaky_relu"),
        ("", ValueError, r"activation spec must be a name such as 'relu'.*Received: spec=''"),
        ("leaky_relu(", ValueError, r"activation spec must be .*Received: spec='leaky_relu\('"),
        ("leaky_relu(slope=0.1)", TypeError,
         r"activation 'leaky_relu' got an unknown argument slope=0\.1\. Allowed arguments: negative_slope\."),
        ("leaky_relu(negative_slope=__import__('os'))", ValueError, r"not a literal value"),
        ("leaky_relu(negative_slope=-1)", ValueError,
         r"negative_slope of activation 'leaky_relu' must be a finite number >= 0\. Received: negative_slope=-1"),
        ("leaky_relu(negative_slope='a')", TypeError, r"must be a finite number >= 0\. Received: negative_slope='a'"),
        ("leaky_relu(negative_slope=nan)", ValueError, r"not a literal value"),
        ("leaky_relu(0.1, 0.2)", TypeError, r"takes at most 1 positional argument\(s\) \(negative_slope\)"),
        ("rrelu(lower=0.5, upper=0.1)", ValueError, r"lower of activation 'rrelu' must be <= upper\. "
                                                    r"Received: lower=0\.5, upper=0\.1"),
        ("tanh(1)", TypeError, r"activation 'tanh' takes at most 0 positional argument\(s\) \(none\)"),
        ("relu(max_value=-1)", ValueError, r"max_value of activation 'relu' must be a finite number >= 0 or None"),
        ("gelu(approximate=1)", TypeError, r"approximate of activation 'gelu' must be True or False\. Received: approximate=1"),
        ("softplus(beta=0)", ValueError, r"beta of activation 'softplus' must be a finite number > 0\. Received: beta=0"),
        ("leaky_relu(**{'a': 1})", ValueError, r"may not use \* or \*\* arguments"),
        ("1 + 2", ValueError, r"activation spec must be"),
        ("leaky_relu(negative_slope=0.1, negative_slope=0.2)", ValueError,
         r"activation spec 'leaky_relu\(negative_slope=0\.1, negative_slope=0\.2\)' gives negative_slope more than once"),
    ],
)
def test_bad_specs_name_the_problem(spec, error, match):
    with pytest.raises(error, match=match):
        activations.get(spec)


def test_spec_must_be_a_string():
    with pytest.raises(TypeError, match=r"activation spec must be a string\. Received: spec=3"):
        parse(3)


def test_layers_get_rejects_parameters_for_keras_functions():
    with pytest.raises(TypeError, match=r"activation 'tanh' got an unknown argument scale=2"):
        layers.get("tanh(scale=2)")


@given(
    name=st.sampled_from(["leaky_relu", "relu", "celu", "softplus"]),
    value=st.floats(0.01, 100, allow_nan=False),
)
def test_format_and_parse_round_trip(name, value):
    param = next(iter(activations.lookup(name).params))
    spec = format_spec(name, {param: value})
    assert parse(spec) == (name, (), {param: value})
