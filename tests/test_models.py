"""The article's model family: defaults equal example 1, options build what they say, bad arguments fail."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from relulab import layers, models


def test_defaults_are_the_articles_example_1():
    model = models.mlp(784, 10)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [64, 10]
    assert isinstance(dense[0].activation, layers.ReLU)
    assert dense[1].activation is keras.activations.softmax
    assert isinstance(dense[0].kernel_initializer, keras.initializers.GlorotUniform)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)
    assert model.count_params() == 784 * 64 + 64 + 64 * 10 + 10


def test_depth_batch_norm_dropout_and_initializer():
    model = models.mlp((8, 8), 3, hidden=16, depth=3, batch_norm=True, dropout=0.2, activation="prelu",
                       kernel_initializer="he_normal")
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("Dense") == 4 and kinds.count("BatchNormalization") == 3
    assert kinds.count("PReLU") == 3 and kinds.count("Dropout") == 3 and kinds[1] == "Flatten"
    assert isinstance(model.get_layer("dense_2").kernel_initializer, keras.initializers.HeNormal)


def test_layers_never_share_an_initializer_instance():
    model = models.mlp(4, 2, hidden=[5, 5], kernel_initializer=keras.initializers.HeNormal())
    first, second = model.get_layer("dense_1"), model.get_layer("dense_2")
    assert first.kernel_initializer is not second.kernel_initializer


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"hidden": 0}, ValueError, r"hidden of mlp must be an integer >= 1\. Received: hidden=0"),
        ({"hidden": []}, TypeError, r"hidden of mlp must be a width or a non-empty list"),
        ({"hidden": [8, 8], "depth": 2}, ValueError, r"depth of mlp needs hidden to be one width"),
        ({"num_classes": 1}, ValueError, r"num_classes of mlp must be >= 2\. Received: num_classes=1"),
        ({"dropout": 1.0}, ValueError, r"dropout of mlp must be a finite number in \[0, 0\.99\]\. Received: dropout=1\.0"),
        ({"learning_rate": 0}, ValueError, r"learning_rate of mlp must be a finite number > 0"),
        ({"activation": "relux"}, ValueError, r"Unknown activation 'relux'"),
        ({"kernel_initializer": "he_nromal"}, ValueError, r"kernel_initializer of mlp must be a Keras initializer"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    arguments = {"input_shape": 4, "num_classes": 3, **kwargs}
    with pytest.raises(error, match=match):
        models.mlp(**arguments)


def test_one_seed_gives_the_same_initial_weights_whatever_the_activation():
    """The lab's pairing: RReLU draws a seed of its own when built, which must not shift the weights."""
    kernels = {}
    for activation in ("relu", "rrelu", "prelu", "tanh", "leaky_relu(0.1)"):
        keras.utils.set_random_seed(0)
        model = models.mlp(16, 3, hidden=[8, 8], activation=activation, seed=5)
        kernels[activation] = [keras.ops.convert_to_numpy(model.get_layer(n).kernel) for n in ("dense_1", "dense_2", "output")]
    for activation, weights in kernels.items():
        for ours, reference in zip(weights, kernels["relu"]):
            np.testing.assert_array_equal(ours, reference, err_msg=activation)
    keras.utils.set_random_seed(0)
    other = models.mlp(16, 3, hidden=[8, 8], seed=6).get_layer("dense_1").kernel
    assert not np.array_equal(keras.ops.convert_to_numpy(other), kernels["relu"][0])


def test_cnn_is_two_convolutions_with_pooling_then_one_dense_layer():
    model = models.cnn((28, 28), 10, activation="prelu", seed=0)
    kinds = [type(layer).__name__ for layer in model.layers[1:]]
    assert kinds == ["Reshape", "Conv2D", "PReLU", "MaxPooling2D", "Conv2D", "PReLU", "MaxPooling2D", "Flatten",
                     "Dense", "PReLU", "Dense"]
    assert [model.get_layer(n).filters for n in ("conv_1", "conv_2")] == list(models.CNN_FILTERS)
    assert model.get_layer("dense_1").units == models.CNN_DENSE and model.output.shape == (None, 10)
    assert model.get_layer("activation_1").alpha.shape == (1, 1, models.CNN_FILTERS[0])  # one slope per channel
    assert isinstance(model.optimizer, keras.optimizers.Adam) and model.loss == "sparse_categorical_crossentropy"


def test_cnn_initial_weights_depend_only_on_the_seed():
    def kernels(activation, seed):
        keras.utils.set_random_seed(seed)
        model = models.cnn((8, 8, 1), 3, activation=activation, filters=(2, 3), dense=4, kernel_size=2, seed=seed)
        return [np.asarray(layer.kernel) for layer in model.layers if hasattr(layer, "kernel")]

    for a, b in zip(kernels("relu", 1), kernels("rrelu", 1)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(kernels("relu", 1)[0], kernels("relu", 2)[0])


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"input_shape": (784,)}, ValueError, r"input_shape of cnn must be \(height, width\) or \(height, width, "
                                          r"channels\). Received: input_shape=\(784,\)"),
    ({"filters": 16}, TypeError, "filters of cnn must be a non-empty list of channel counts. Received: filters=16"),
    ({"dense": 0}, ValueError, "dense of cnn must be an integer >= 1. Received: dense=0"),
    ({"num_classes": 1}, ValueError, "num_classes of cnn must be >= 2"),
])
def test_cnn_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        models.cnn(**{"input_shape": (28, 28, 1), "num_classes": 10, **kwargs})
