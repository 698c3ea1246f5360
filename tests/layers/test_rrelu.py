"""RReLU: random slopes in training, the mean slope at inference, seedable, inside Dense too."""

from __future__ import annotations

import keras
import numpy as np

from relulab import layers

X = -np.ones((2, 500), dtype="float32")


def test_training_draws_fresh_slopes_and_inference_is_deterministic():
    layer = layers.RReLU(lower=0.1, upper=0.3, seed=0)
    first, second = keras.ops.convert_to_numpy(layer(X, training=True)), keras.ops.convert_to_numpy(layer(X, training=True))
    assert not np.array_equal(first, second)
    assert (-first).min() >= 0.1 and (-first).max() <= 0.3
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(X)), -0.2, rtol=1e-6)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(X, training=False)), keras.ops.convert_to_numpy(layer(X)))


def test_the_same_seed_gives_the_same_draws():
    a = keras.ops.convert_to_numpy(layers.RReLU(seed=5)(X, training=True))
    b = keras.ops.convert_to_numpy(layers.RReLU(seed=5)(X, training=True))
    np.testing.assert_array_equal(a, b)


def test_training_flag_reaches_rrelu_as_a_dense_activation():
    keras.utils.set_random_seed(1)
    dense = keras.layers.Dense(500, activation=layers.RReLU(seed=2), kernel_initializer="identity")
    model = keras.Sequential([keras.Input((500,)), dense])
    x = -np.ones((1, 500), dtype="float32")
    trained = keras.ops.convert_to_numpy(model(x, training=True))
    assert np.unique(trained).size > 100  # random slope per element
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x, training=False)), -(1 / 8 + 1 / 3) / 2, rtol=1e-6)
