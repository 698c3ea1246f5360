"""Every form an activation takes in a model maps to the registry's name and kind; sites are found in
Sequential, functional and nested models and named uniquely."""

from __future__ import annotations

import functools

import keras
import pytest

from relulab import activations, layers
from relulab.diagnostics import classify, find_sites
from relulab.diagnostics.sites import kernel_layers, producer, unmeasured


@pytest.mark.parametrize("activation, spec, kind", [
    ("relu", "relu", "rectifier"),
    (keras.activations.relu, "relu", "rectifier"),
    (keras.activations.leaky_relu, "leaky_relu(negative_slope=0.2)", "rectifier"),  # Keras' function default
    (activations.get("leaky_relu(negative_slope=0.1)"), "leaky_relu(negative_slope=0.1)", "rectifier"),
    (functools.partial(keras.activations.relu, threshold=0.5), "relu(threshold=0.5)", "rectifier"),
    ("relu6", "relu6", "rectifier"),
    (keras.layers.ReLU(max_value=2.0), "relu(max_value=2.0)", "rectifier"),
    (keras.layers.LeakyReLU(negative_slope=0.3), "leaky_relu(negative_slope=0.3)", "rectifier"),
    (keras.layers.PReLU(), "prelu", "rectifier"),
    (keras.layers.Activation("tanh"), "tanh", "saturating"),
    (keras.layers.ELU(), "elu", "smooth"),
    (layers.get("rrelu"), "rrelu", "rectifier"),
    (layers.get("prelu"), "prelu", "rectifier"),
    ("sigmoid", "sigmoid", "saturating"),
    ("gelu", "gelu", "smooth"),
])
def test_classify_names_the_activation_in_the_registry(activation, spec, kind):
    function = keras.layers.Dense(2, activation=activation).activation if isinstance(activation, str) else activation
    found = classify(function)
    assert (found.spec, found.kind) == (spec, kind)


def test_flat_regime_bounds_come_from_the_parameters():
    assert classify(keras.layers.ReLU(threshold=0.5)).threshold == 0.5
    assert classify(keras.layers.ReLU()).max_value is None
    assert classify(keras.activations.relu6).max_value == 6.0
    assert classify(keras.activations.sigmoid).asymptotes == (0.0, 1.0)
    assert classify(keras.activations.relu).zero_slope and not classify(layers.get("leaky_relu")).zero_slope


@pytest.mark.parametrize("activation", ["linear", "softmax", lambda x: x * 2, keras.layers.Softmax(), None])
def test_what_the_registry_does_not_know_is_not_measured(activation):
    assert classify(activation) is None


def test_sites_in_a_nested_functional_model_in_layer_order():
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="relu", name="a"),
                              keras.layers.Dense(3, name="b"), layers.ReLU(name="c")], name="inner")
    inputs = keras.Input((2,))
    h = keras.layers.Dense(3, activation="tanh", name="t")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax", name="out")(inner(h))
    model = keras.Model(inputs, outputs)
    assert [(s.name, s.inline, s.activation.kind) for s in find_sites(model)] == [
        ("t", True, "saturating"), ("a", True, "rectifier"), ("c", False, "rectifier")]
    assert [name for name, _ in kernel_layers(model)] == ["t", "a", "b", "out"]
    assert unmeasured(model) == ["out (softmax)"]
    assert producer(inner.get_layer("c"))[0] is inner.get_layer("b")


def test_equal_layer_names_in_two_sub_models_are_named_by_path():
    def block(name):
        return keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="relu", name="dense")], name=name)
    inputs = keras.Input((2,))
    model = keras.Model(inputs, block("second")(block("first")(inputs)))
    assert [s.name for s in find_sites(model)] == ["first/dense", "second/dense"]
    assert [name for name, _ in kernel_layers(model)] == ["first/dense", "second/dense"]


def test_producer_follows_batch_norm_and_dropout_back_to_the_kernel():
    dense = keras.layers.Dense(3, use_bias=False)
    norm, drop, act = keras.layers.BatchNormalization(), keras.layers.Dropout(0.1), keras.layers.ReLU()
    keras.Sequential([keras.Input((2,)), dense, norm, drop, act])
    assert producer(act) == (dense, [drop, norm])
