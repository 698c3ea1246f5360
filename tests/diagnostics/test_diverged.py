"""A diverged model (NaN weights) is not measured: its dead fraction, sparsity and saturation are NaN, shown
as "-", never "0% dead" (diagnose, the monitors' logs, and the lab's stacked diagnostics)."""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from relulab.callbacks.dead_units import activity_logs
from relulab.diagnostics import diagnose
from relulab.diagnostics import measure_activity
from relulab.lab.stacked import diagnostics as diag


def model_with_nan_weights() -> keras.Model:
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, activation="relu", name="dense_1")(inputs)
    hidden = keras.layers.Dense(8, activation="tanh", name="dense_2")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="output")(hidden))
    kernel, bias = model.get_layer("dense_1").get_weights()
    model.get_layer("dense_1").set_weights([np.full_like(kernel, np.nan), bias])
    return model


def test_activity_of_a_diverged_model_is_not_measured():
    activity = measure_activity(model_with_nan_weights(), np.ones((16, 4), np.float32))
    relu, tanh = activity["dense_1"], activity["dense_2"]
    assert not relu.finite and math.isnan(relu.dead_fraction) and math.isnan(relu.sparsity)
    assert math.isnan(tanh.saturation)
    logs = activity_logs(activity)
    assert math.isnan(logs["dead_fraction/dense_1"]) and math.isnan(logs["saturation/dense_2"])


def test_the_diagnose_table_shows_a_dash_not_zero_percent_dead():
    report = diagnose(model_with_nan_weights(), np.ones((16, 4), np.float32))
    line = next(line for line in report.to_text().splitlines() if line.startswith("dense_1"))
    assert "0.0%" not in line and line.split()[4] == "-", line
    assert report.to_dict()["rows"][0]["dead_fraction"] is None  # strict JSON: not measured


def test_a_finite_model_is_still_measured():
    model = model_with_nan_weights()
    kernel, bias = model.get_layer("dense_1").get_weights()
    model.get_layer("dense_1").set_weights([np.full_like(kernel, -1.0), bias])
    activity = measure_activity(model, np.ones((16, 4), np.float32))
    assert activity["dense_1"].finite and activity["dense_1"].dead_fraction == 1.0


def test_stacked_diagnostics_give_nan_for_the_diverged_run_only():
    pre = np.random.default_rng(0).normal(size=(2, 20, 5)).astype(np.float32)
    pre[1, 3, 2] = np.nan
    out = np.maximum(pre, 0)
    bounds = np.array([[0, np.inf, np.nan, np.nan]] * 2, np.float32).T
    dead, saturated, zeros = (np.asarray(v) for v in diag.unit_fractions(tf.constant(pre), tf.constant(out), *bounds))
    assert np.isfinite([dead[0], zeros[0]]).all()
    assert np.isnan([dead[1], saturated[1], zeros[1]]).all()
