"""Dead and saturated through the derivative: a user's layer is measured, and the fast paths agree with it."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from relulab.diagnostics import diagnose, find_sites, measure_activity
from relulab.diagnostics.slopes import DEAD_DERIVATIVE, SATURATION_DERIVATIVE, closed_form, relative_derivative

X = np.random.default_rng(0).uniform(-1, 1, (200, 5)).astype("float32")


class MyReLU(keras.layers.Layer):
    """The article's custom layer: ``maximum(0, x)``, no registration."""

    def call(self, inputs):
        return ops.maximum(0.0, inputs)


def _sigmoid(z):
    return 1 / (1 + ops.exp(-z))


def _model(*activation, inline=None, scale=1.0):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(16, activation=inline, name="k"), *activation,
                              keras.layers.Dense(2, activation="softmax", name="out")])
    kernel = model.get_layer("k")
    kernel.kernel.assign(kernel.kernel * scale)
    kernel.bias.assign(np.linspace(-3, 1, 16).astype("float32") * scale)  # some units dead on every example
    return model


def _dead_and_saturated(model):
    layer = measure_activity(model, X)[find_sites(model)[0].name]
    return layer.dead_units, layer.saturated_units


@pytest.mark.parametrize("custom", [
    lambda: (MyReLU(name="a"),),
    lambda: (keras.layers.Lambda(lambda z: ops.maximum(0.0, z), name="a"),),
    lambda: (keras.layers.Activation(lambda z: ops.maximum(z, 0.0), name="a"),),
])
def test_a_custom_relu_has_the_dead_units_of_keras_relu(custom):
    dead, _ = _dead_and_saturated(_model(keras.layers.ReLU(name="a")))
    assert dead and len(dead) < 16  # the planted bias kills some units, not all
    custom_dead, custom_saturated = _dead_and_saturated(_model(*custom()))
    assert custom_dead == dead and custom_saturated == dead  # flat side: zero derivative, saturated too


def test_an_inline_custom_function_is_measured_too():
    dead, _ = _dead_and_saturated(_model(keras.layers.ReLU(name="a")))
    model = _model(inline=lambda z: ops.maximum(0.0, z))
    assert find_sites(model)[0].activation.kind == "custom"
    assert _dead_and_saturated(model)[0] == dead


@pytest.mark.parametrize("scale", [1.0, 8.0, 40.0])
def test_sigmoid_fast_path_agrees_with_autodiff(scale):
    _, fast = _dead_and_saturated(_model(keras.layers.Activation("sigmoid", name="a"), scale=scale))
    _, generic = _dead_and_saturated(_model(keras.layers.Activation(_sigmoid, name="a"), scale=scale))
    assert fast == generic
    if scale == 40.0:
        assert fast  # the check is not vacuous: some units saturate


@pytest.mark.parametrize("name, function, asymptotes", [
    ("sigmoid", _sigmoid, (0.0, 1.0)), ("tanh", ops.tanh, (-1.0, 1.0))])
def test_closed_form_equals_the_relative_derivative(name, function, asymptotes):
    z = np.linspace(-12, 12, 97, dtype="float32").reshape(-1, 1)
    out = ops.convert_to_numpy(function(z))
    peak = 0.25 if name == "sigmoid" else 1.0
    assert closed_form(name, out, asymptotes) == pytest.approx(relative_derivative(function, z, peak), abs=1e-6)
    assert SATURATION_DERIVATIVE == pytest.approx(0.0396) and DEAD_DERIVATIVE == 1e-6


def test_diagnose_reports_a_dead_fraction_for_mylayer_and_advises_a_dying_rectifier():
    model = _model(MyReLU(name="a"))
    model.get_layer("k").bias.assign(np.full(16, -100.0, "float32"))
    report = diagnose(model, X, np.arange(200) % 2)
    row = report.row("a")
    assert (row.activation, row.kind, row.dead_fraction) == ("MyReLU", "custom", 1.0)
    assert "leaky_rectifier" in [a.code for a in report.advice] and "-" not in str(report).splitlines()[2].split()[4]


class Block(keras.layers.Layer):
    """Same shape in and out, but a block of other layers, not an activation."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = keras.layers.Dense(16)

    def call(self, inputs):
        return self.inner(inputs)


def test_a_block_of_layers_is_not_taken_for_an_activation():
    model = _model(keras.layers.ReLU(name="a"), Block(name="block"))
    assert [site.name for site in find_sites(model)] == ["a"]
