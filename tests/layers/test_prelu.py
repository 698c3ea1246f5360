"""PReLU as He et al. define it: per-channel slopes starting at 0.25, shared axes, learned."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from relulab import layers


def test_one_slope_per_channel_by_default_on_images():
    layer = layers.PReLU()
    layer.build((None, 7, 7, 8))
    assert tuple(layer.alpha.shape) == (1, 1, 8)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.alpha), np.full((1, 1, 8), 0.25))


def test_unknown_non_channel_dimensions_work():
    model = keras.Sequential([keras.Input((None, None, 3)), layers.PReLU()])
    y = model(np.full((2, 5, 4, 3), -4.0, dtype="float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(y), -1.0)


@pytest.mark.parametrize(("shared_axes", "shape"), [("all", (1, 1, 1)), ([1, 2], (1, 1, 8)), ([3], (7, 7, 1)), (None, (1, 1, 8))])
def test_shared_axes(shared_axes, shape):
    layer = layers.PReLU(shared_axes=shared_axes)
    layer.build((None, 7, 7, 8))
    assert tuple(layer.alpha.shape) == shape


def test_unknown_size_on_an_axis_with_its_own_slopes_is_a_clear_error():
    with pytest.raises(ValueError, match=r"PReLU needs a known size on every axis that has its own slopes"):
        layers.PReLU(shared_axes=[2]).build((None, None, 8))
    with pytest.raises(ValueError, match=r"shared_axes of PReLU must be axes of its rank-3 input, 1 to 2 \(or .all., or None for one slope per channel\)\. Received: shared_axes=\[3\] for input_shape=\(None, 4, 8\)"):
        layers.PReLU(shared_axes=[3]).build((None, 4, 8))


def test_slopes_are_learned_from_negative_inputs_only():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), layers.PReLU()])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    x = np.array([[-1.0, -1.0, 1.0, 1.0]], dtype="float32")
    model.fit(x, np.array([[-0.5, -0.5, 1.0, 1.0]], dtype="float32"), epochs=50, verbose=0)
    alpha = keras.ops.convert_to_numpy(model.layers[0].alpha)
    np.testing.assert_allclose(alpha[:2], 0.5, atol=1e-3)  # driven to the target slope
    np.testing.assert_allclose(alpha[2:], 0.25)  # positive inputs give no gradient to alpha


def test_regularizer_and_constraint_apply_to_the_slopes():
    layer = layers.PReLU(alpha_regularizer=keras.regularizers.L2(1.0), alpha_constraint="non_neg")
    layer.build((None, 4))
    layer(np.zeros((1, 4), dtype="float32"))
    assert float(keras.ops.sum(layer.losses)) == pytest.approx(4 * 0.25**2)
    assert isinstance(layer.alpha.constraint, keras.constraints.NonNeg)


def test_a_non_constant_initializer_round_trips():
    layer = layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.1, 0.2, seed=1))
    clone = layers.PReLU.from_config(layer.get_config())
    assert isinstance(clone.alpha_initializer, keras.initializers.RandomUniform)


def test_a_number_as_alpha_initializer_is_exact_in_float64():
    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            pytest.skip("JAX computes float64 as float32 unless JAX_ENABLE_X64=1")
    layer = layers.PReLU(alpha_initializer=0.1, dtype="float64")
    y = layer(keras.ops.convert_to_tensor(np.array([[-1e4, 2.0]]), dtype="float64"))
    assert keras.ops.convert_to_numpy(layer.alpha)[0] == 0.1  # Keras' Constant gives 0.10000000149
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(y), [[-1e4 * 0.1, 2.0]])
    assert layer.get_config()["alpha_initializer"] == 0.1
