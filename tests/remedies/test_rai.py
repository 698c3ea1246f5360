"""RAI's statistics (Lu et al. 2019): one Beta(2, 1) entry per unit, the rest N(0, (0.6007/sqrt(fan_in))^2);
seeding, serialisation and use in a layer."""

from __future__ import annotations

import math
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import ops

from relulab.initializers import RAI, RAI_SCALE, apply_rai, rai_values

FAN_IN, UNITS = 4900, 1000  # sigma = 0.0086: normal entries stay far below the Beta draws


def _split_max(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per unit (column): the largest entry (the Beta draw, at this fan-in) and all the others."""
    top = kernel == kernel.max(axis=0, keepdims=True)
    return kernel[top], kernel[~top]


def test_one_entry_per_unit_is_beta_2_1_and_the_rest_have_the_rai_std():
    kernel = ops.convert_to_numpy(RAI(seed=3)((FAN_IN, UNITS)))
    beta, rest = _split_max(kernel)
    assert len(beta) == UNITS and np.all((beta > 0) & (beta < 1))
    assert beta.mean() == pytest.approx(2 / 3, abs=0.03)  # Beta(2, 1): mean 2/3, sd 0.236
    assert np.mean(beta < 0.5) == pytest.approx(0.25, abs=0.04)  # its CDF is x^2
    assert rest.std() == pytest.approx(RAI_SCALE / math.sqrt(FAN_IN), rel=0.01)
    assert abs(rest.mean()) < 1e-4


def test_at_fan_in_one_every_weight_is_the_beta_draw():
    kernel = ops.convert_to_numpy(RAI(seed=0)((1, 5000)))
    assert np.all((kernel > 0) & (kernel < 1)) and kernel.mean() == pytest.approx(2 / 3, abs=0.02)


def test_with_the_bias_the_beta_entry_is_any_of_the_fan_in_plus_one_positions():
    fan_in, units, seed = 3, 8000, 5
    values = ops.convert_to_numpy(rai_values(fan_in, units, seed=seed))
    normal = ops.convert_to_numpy(keras.random.normal((fan_in + 1, units), stddev=RAI_SCALE / math.sqrt(fan_in),
                                                      seed=seed))
    replaced = values != normal
    assert replaced.sum(axis=0).tolist() == [1] * units  # exactly one entry per unit
    assert replaced.mean(axis=1) == pytest.approx([0.25] * 4, abs=0.02)  # the bias row included
    assert values[replaced].mean() == pytest.approx(2 / 3, abs=0.01)


def test_seeded_rai_repeats_and_different_seeds_differ():
    assert np.array_equal(RAI(seed=1)((6, 4)), RAI(seed=1)((6, 4)))
    assert not np.array_equal(RAI(seed=1)((6, 4)), RAI(seed=2)((6, 4)))
    keras.utils.set_random_seed(7)
    first = ops.convert_to_numpy(RAI()((6, 4)))
    keras.utils.set_random_seed(7)
    assert np.array_equal(first, RAI()((6, 4)))


def test_conv_kernels_use_all_but_the_last_axis_as_fan_in():
    kernel = ops.convert_to_numpy(RAI(seed=0)((3, 3, 500, 300)))
    beta, rest = _split_max(kernel.reshape(-1, 300))
    assert rest.std() == pytest.approx(RAI_SCALE / math.sqrt(4500), rel=0.02) and np.all(beta > 0)


def test_apply_rai_redraws_kernel_and_bias_of_every_layer_in_place():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="relu", name="a"),
                              keras.layers.Dense(2, use_bias=False, name="nobias")])
    assert apply_rai(model, seed=4) == ["a"]
    kernel, bias = model.get_layer("a").get_weights()
    expected = ops.convert_to_numpy(rai_values(2, 3, seed=4))
    assert np.array_equal(np.vstack([kernel, bias]), expected)


def test_rai_is_serialisable_and_survives_save_and_load_in_a_fresh_process(tmp_path):
    initializer = RAI(seed=9)
    assert keras.initializers.deserialize(keras.initializers.serialize(initializer)).get_config() == {"seed": 9}
    dense = keras.layers.Dense(3, activation="relu", kernel_initializer=initializer)
    model = keras.Sequential([keras.Input((4,)), dense])
    path = tmp_path / "rai.keras"
    model.save(path)
    code = (f"import relulab.initializers, keras; m = keras.saving.load_model({str(path)!r}); "
            "print(type(m.layers[0].kernel_initializer).__name__, m.layers[0].kernel_initializer.seed)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["RAI", "9"]


@pytest.mark.parametrize("make, error, match", [
    (lambda: RAI(seed=1.5), TypeError, r"seed of RAI must be an int or None. Received: seed=1.5"),
    (lambda: RAI(seed=0)((5,)), ValueError, r"RAI needs a kernel shape \(fan_in, ..., units\) of rank >= 2"),
])
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()
