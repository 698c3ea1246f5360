"""The definitions, checked against NumPy on values that include the kink, the cap and the asymptotes."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from relulab import layers
from relulab.diagnostics import classify, regimes

Z = np.array([[-1.0, 0.0, 0.5, 6.0], [-2.0, 0.0, 7.0, 5.9], [-3.0, 0.0, -1.0, np.inf]], "float32")


@pytest.mark.parametrize("activation, active", [
    (keras.activations.relu, [False, False, True, True]),  # the kink itself is flat
    (keras.activations.relu6, [False, False, True, True]),  # 6 and above are flat too; 5.9 is not
    (keras.layers.ReLU(threshold=0.5), [False, False, True, True]),
    (layers.get("relu(threshold=-1.5)"), [True, True, True, True]),
])
def test_a_unit_is_active_when_some_example_leaves_the_flat_regime(activation, active):
    assert ops.convert_to_numpy(regimes.units_active(Z, classify(activation))).tolist() == active


def test_a_capped_unit_above_its_cap_on_every_example_is_dead():
    column = np.array([[6.0], [9.0], [-1.0]], "float32")
    assert ops.convert_to_numpy(regimes.units_active(column, classify(keras.activations.relu6))).tolist() == [False]


def test_a_conv_unit_is_a_channel_over_examples_and_positions():
    pre = -np.ones((2, 3, 3, 2), "float32")
    pre[1, 2, 0, 1] = 0.1  # one position of one example wakes channel 1
    assert ops.convert_to_numpy(regimes.units_active(pre, classify(keras.activations.relu))).tolist() == [False, True]


@pytest.mark.parametrize("name, outputs, saturated", [
    ("sigmoid", [0.0099, 0.9901, 0.011, 0.5], [True, True, False, False]),
    ("tanh", [-0.981, 0.981, 0.979, 0.0], [True, True, False, False]),
])
def test_saturated_means_within_one_percent_of_the_range_of_an_asymptote(name, outputs, saturated):
    activation = classify(keras.activations.get(name))
    found = ops.convert_to_numpy(regimes.saturated(np.array(outputs, "float32"), activation))
    assert found.tolist() == saturated


def test_sparsity_is_the_fraction_of_exact_zeros():
    out = np.array([[0.0, 1e-30, 0.0], [-0.0, 2.0, 3.0]], "float32")
    assert float(regimes.zero_fraction(out)) == pytest.approx(0.5)
