"""``revive``: dead units get fresh incoming weights, every other weight stays bit-for-bit the same."""

from __future__ import annotations

import importlib

import keras
import numpy as np
import pytest

from relulab.diagnostics import diagnose
from relulab.remedies import revive

revive_module = importlib.import_module("relulab.remedies.revive")  # the module; the package exports the function

X = np.random.default_rng(0).uniform(-1, 1, (128, 5)).astype("float32")
DEAD = [1, 4]


def _plant(layer):
    bias = keras.ops.convert_to_numpy(layer.bias).copy()
    bias[DEAD] = -1000.0
    layer.bias.assign(bias)


def inline_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, activation="relu", name="h"),
                              keras.layers.Dense(6, activation="tanh", name="g"), keras.layers.Dense(2, name="out")])
    _plant(model.get_layer("h"))
    return model, "h", "h"


def batch_norm_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, name="k"),
                              keras.layers.BatchNormalization(name="bn"), keras.layers.ReLU(name="act"),
                              keras.layers.Dense(2, name="out")])
    beta = np.zeros(6, "float32")
    beta[DEAD] = -1000.0
    model.get_layer("bn").beta.assign(beta)
    return model, "act", "k"


def _weights(model):
    return {w.path: keras.ops.convert_to_numpy(w.value).copy() for w in model.weights}


@pytest.mark.parametrize("build", [inline_model, batch_norm_model])
def test_only_the_dead_units_incoming_weights_change(build):
    model, site, kernel_layer = build()
    before = _weights(model)
    assert revive(model, X, seed=0) == {site: 2}
    after = _weights(model)
    kernel = model.get_layer(kernel_layer).kernel.path
    live = [j for j in range(6) if j not in DEAD]
    assert np.array_equal(after[kernel][:, live], before[kernel][:, live])  # bit-exact
    assert not np.any(after[kernel][:, DEAD] == before[kernel][:, DEAD])
    touched = {kernel, model.get_layer(kernel_layer).bias.path} if site == "h" else \
        {kernel, *(w.path for w in model.get_layer("bn").weights)}
    for path in set(before) - touched:
        assert np.array_equal(after[path], before[path]), path
    assert diagnose(model, X).row(site).dead_units == ()


def test_batch_norm_of_revived_units_goes_back_to_its_start():
    model, _, _ = batch_norm_model()
    revive(model, X, seed=0)
    norm = model.get_layer("bn")
    assert keras.ops.convert_to_numpy(norm.beta)[DEAD].tolist() == [0.0, 0.0]
    assert keras.ops.convert_to_numpy(norm.moving_variance)[DEAD].tolist() == [1.0, 1.0]


def test_revive_with_rai_and_a_conv_layer():
    keras.utils.set_random_seed(0)
    conv = keras.layers.Conv2D(6, 3, activation="relu", name="conv")
    model = keras.Sequential([keras.Input((5, 5, 2)), conv, keras.layers.Flatten(), keras.layers.Dense(2)])
    _plant(conv)
    images = np.random.default_rng(1).uniform(0, 1, (8, 5, 5, 2)).astype("float32")
    before = keras.ops.convert_to_numpy(conv.kernel).copy()
    assert revive(model, images, initializer="rai", seed=1) == {"conv": 2}
    after = keras.ops.convert_to_numpy(conv.kernel)
    assert np.array_equal(after[..., [0, 2, 3, 5]], before[..., [0, 2, 3, 5]])
    assert keras.ops.convert_to_numpy(conv.bias)[DEAD].tolist() == [0.0, 0.0]


def test_nothing_dead_nothing_changed():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, activation="relu", name="h")])
    before = _weights(model)
    assert revive(model, X) == {"h": 0}
    assert all(np.array_equal(before[p], v) for p, v in _weights(model).items())


def test_dead_units_fed_straight_from_the_input_are_left_with_a_warning():
    inputs = keras.Input((5,))
    model = keras.Model(inputs, keras.layers.ReLU(name="act")(inputs))
    with pytest.warns(UserWarning, match="5 dead unit\\(s\\) of layer 'act' are not computed by one kernel layer"):
        assert revive(model, -np.abs(X)) == {"act": 0}


def test_an_unknown_initializer_is_refused():
    with pytest.raises(ValueError, match="initializer of revive must be None \\(He normal\\), 'rai', a Keras"):
        revive(inline_model()[0], X, initializer="no_such_initializer")


def _image_model(units=48):
    """A ReLU layer on non-negative inputs (8x8 digits in [0, 1]) with every unit planted dead."""
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(units, activation="relu", name="h"),
                              keras.layers.Dense(10, activation="softmax", name="out")])
    model.get_layer("h").bias.assign(np.full(units, -1000.0, "float32"))
    return model


def _digits():
    from sklearn.datasets import load_digits

    return (load_digits().data[:300] / 16).astype("float32")


def test_on_non_negative_inputs_no_revived_unit_stays_dead(recwarn):
    images = _digits()
    model = _image_model()
    assert revive(model, images, seed=0) == {"h": 48}
    assert diagnose(model, images).row("h").dead_units == ()
    assert not [w for w in recwarn if issubclass(w.category, revive_module.ReviveWarning)]


def test_units_that_stay_dead_after_the_last_draw_are_named_and_not_counted(monkeypatch):
    images = _digits()
    model = _image_model()
    monkeypatch.setattr(revive_module, "MAX_DRAWS", 1)  # one draw, as revive did before it checked
    with pytest.warns(revive_module.ReviveWarning, match=r"unit\(s\) stayed dead on x after 1 fresh draws .*\(h: "):
        revived = revive(model, images, seed=0)
    still_dead = diagnose(model, images).row("h").dead_units
    assert still_dead and revived == {"h": 48 - len(still_dead)}


def test_a_custom_relu_layer_is_revived_too():
    class MyReLU(keras.layers.Layer):
        def call(self, inputs):
            return keras.ops.maximum(0.0, inputs)

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, name="k"), MyReLU(name="my"),
                              keras.layers.Dense(2, name="out")])
    model.get_layer("k").bias.assign(np.array([0, -1000, 0, 0, -1000, 0], "float32"))
    assert revive(model, X, seed=0) == {"my": 2}
    assert diagnose(model, X).row("my").dead_units == ()
