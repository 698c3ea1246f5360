"""The acceptance test: plant dead units, and exactly those are reported, in every layer form.

A unit is planted dead by a bias of -1000 on its pre-activation (inputs are in [-1, 1], kernels small),
so it is in the flat regime on every example; every other unit is alive on some example. The same
planted set must come back from ``diagnose`` and from ``DeadUnitMonitor`` (probe mode through
``on_epoch_end`` with made-up logs, and the batches-seen mode through a real ``fit``).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from relulab import layers
from relulab.callbacks import DeadUnitMonitor
from relulab.diagnostics import diagnose

PLANTED = (1, 4)
WIDTH = 6
X = np.random.default_rng(0).uniform(-1, 1, (128, 5)).astype("float32")
X_IMAGES = np.random.default_rng(1).uniform(-1, 1, (16, 6, 6, 2)).astype("float32")
Y = np.eye(3, dtype="float32")[np.arange(128) % 3]

# The batches-seen mode updates counters inside the compiled training step, which JAX's pure jitted
# step cannot do; on JAX the monitors ask for a probe instead (tested in test_monitors.py).
SEEN_MODE = pytest.mark.skipif(keras.backend.backend() == "jax", reason="batches-seen mode needs TensorFlow or PyTorch")



def _plant(layer: keras.layers.Layer) -> None:
    bias = np.zeros(layer.bias.shape, "float32")
    bias[list(PLANTED)] = -1000.0
    layer.bias.assign(bias)


def _dense(**kwargs):
    return keras.layers.Dense(WIDTH, name="hidden", **kwargs)


def separate_keras_relu():
    inputs = keras.Input((5,))
    dense = _dense()
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.ReLU(name="act")(dense(inputs)))
    return keras.Model(inputs, out), dense, "act"


def separate_relulab_prelu():
    dense = _dense()
    model = keras.Sequential([keras.Input((5,)), dense, layers.PReLU(name="act"), keras.layers.Dense(3)])
    return model, dense, "act"


def dense_string():
    dense = _dense(activation="relu")
    return keras.Sequential([keras.Input((5,)), dense, keras.layers.Dense(3, activation="softmax")]), dense, "hidden"


def dense_relulab_layer():
    dense = _dense(activation=layers.get("leaky_relu(negative_slope=0.1)"))
    return keras.Sequential([keras.Input((5,)), dense, keras.layers.Dense(3)]), dense, "hidden"


def dense_keras_function():
    dense = _dense(activation=keras.activations.relu)
    return keras.Sequential([keras.Input((5,)), dense, keras.layers.Dense(3)]), dense, "hidden"


def nested_model():
    dense = _dense(activation="relu")
    inner = keras.Sequential([keras.Input((4,)), dense], name="inner")
    inputs = keras.Input((5,))
    outputs = keras.layers.Dense(3)(inner(keras.layers.Dense(4, activation="tanh")(inputs)))
    return keras.Model(inputs, outputs), dense, "hidden"


def conv2d():
    conv = keras.layers.Conv2D(WIDTH, 3, activation="relu", name="conv")
    pool = keras.layers.GlobalAveragePooling2D()
    model = keras.Sequential([keras.Input((6, 6, 2)), conv, pool, keras.layers.Dense(3)])
    return model, conv, "conv"


FORMS = [separate_keras_relu, separate_relulab_prelu, dense_string, dense_relulab_layer, dense_keras_function,
         nested_model, conv2d]


def _planted(form):
    keras.utils.set_random_seed(0)
    model, layer, name = form()
    _plant(layer)
    x = X_IMAGES if form is conv2d else X
    return model, name, x


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.__name__)
def test_diagnose_reports_exactly_the_planted_units(form):
    model, name, x = _planted(form)
    report = diagnose(model, x)
    row = report.row(name)
    assert row.kind == "rectifier"
    assert row.dead_units == PLANTED
    assert row.dead_fraction == pytest.approx(len(PLANTED) / WIDTH)
    others = [r for r in report.rows if r.name != name and r.dead_units is not None]
    assert all(r.dead_units == () for r in others)


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.__name__)
def test_monitor_reports_exactly_the_planted_units(form):
    model, name, x = _planted(form)
    monitor = DeadUnitMonitor(x)
    monitor.set_model(model)
    monitor.on_train_begin()
    logs = {"loss": 0.5}
    monitor.on_epoch_end(0, logs)
    assert logs["loss"] == 0.5
    assert logs[f"dead_fraction/{name}"] == pytest.approx(len(PLANTED) / WIDTH)
    assert monitor.last[name].dead_units == PLANTED


@SEEN_MODE
@pytest.mark.parametrize("form", [separate_keras_relu, dense_string, nested_model, conv2d], ids=lambda f: f.__name__)
def test_monitor_without_probe_reports_the_planted_units_seen_in_training(form):
    model, name, x = _planted(form)
    model.compile(optimizer="adam", loss="mse")
    monitor = DeadUnitMonitor()
    history = model.fit(x, Y[: len(x)], epochs=2, batch_size=16, verbose=0, callbacks=[monitor])
    assert history.history[f"dead_fraction/{name}"] == [pytest.approx(len(PLANTED) / WIDTH)] * 2
    assert monitor.last[name].dead_units == PLANTED
