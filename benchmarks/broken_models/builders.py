"""Builders of the benchmark's models: an MLP and a small CNN, each compiled with its planted settings.

``init`` is a Keras initializer name or a standard deviation (a float: ``RandomNormal(stddev=init)``);
``bias`` the constant every hidden bias starts at (a negative shift kills rectifier units at birth);
``optimizer`` ``"adam"`` or ``"sgd"`` (plain, no clipping); ``output`` ``"softmax"`` (sparse categorical
cross-entropy) or ``"sigmoid"`` (one unit, binary cross-entropy, two classes only).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np


def _initializer(init: Any, seed: int) -> Any:
    if isinstance(init, (int, float)):
        return keras.initializers.RandomNormal(stddev=float(init), seed=seed)
    if init == "zeros":
        return "zeros"
    return type(keras.initializers.get(init))(seed=seed)  # "he_normal", "glorot_uniform", ...: seeded


def _compile(model: keras.Model, optimizer: str, learning_rate: float, output: str) -> keras.Model:
    step = (keras.optimizers.Adam(learning_rate) if optimizer == "adam"
            else keras.optimizers.SGD(learning_rate))
    loss = "binary_crossentropy" if output == "sigmoid" else "sparse_categorical_crossentropy"
    model.compile(optimizer=step, loss=loss, metrics=["accuracy"])
    return model


def _head(dataset: Any, output: str, seed: int) -> keras.layers.Layer:
    if output == "sigmoid":
        return keras.layers.Dense(1, activation="sigmoid", kernel_initializer=keras.initializers.GlorotUniform(seed))
    return keras.layers.Dense(dataset.num_classes, activation="softmax",
                              kernel_initializer=keras.initializers.GlorotUniform(seed))


def mlp(dataset: Any, *, learning_rate: float, seed: int = 0, hidden: tuple[int, ...] = (64, 64),
        activation: str = "relu", init: Any = "he_normal", bias: float = 0.0, optimizer: str = "adam",
        output: str = "softmax", batch_norm: bool = False) -> keras.Model:
    """Dense layers of widths ``hidden`` with ``activation``, then the output layer."""
    layers: list[keras.layers.Layer] = [keras.Input(dataset.input_shape)]
    for index, width in enumerate(hidden):
        kernel = _initializer(init, seed + index)
        if batch_norm:
            layers += [keras.layers.Dense(width, use_bias=False, kernel_initializer=kernel),
                       keras.layers.BatchNormalization(), keras.layers.Activation(activation)]
        else:
            layers.append(keras.layers.Dense(width, activation=activation, kernel_initializer=kernel,
                                             bias_initializer=keras.initializers.Constant(bias)))
    layers.append(_head(dataset, output, seed + len(hidden)))
    return _compile(keras.Sequential(layers), optimizer, learning_rate, output)


def cnn(dataset: Any, *, learning_rate: float, seed: int = 0, filters: tuple[int, ...] = (8, 16),
        activation: str = "relu", init: Any = "he_normal", bias: float = 0.0, optimizer: str = "adam",
        pool_every: int = 1) -> keras.Model:
    """3x3 convolutions of ``filters`` channels (max-pooling after every ``pool_every`` of them), then softmax."""
    side = int(round(float(np.sqrt(int(np.prod(dataset.input_shape))))))
    image = (side, side)  # square images, flattened: digits 8x8, Fashion-MNIST 28x28
    layers: list[keras.layers.Layer] = [keras.Input(dataset.input_shape), keras.layers.Reshape((*image, 1))]
    size = min(image)
    for index, channels in enumerate(filters):
        layers.append(keras.layers.Conv2D(channels, 3, padding="same", activation=activation,
                                          kernel_initializer=_initializer(init, seed + index),
                                          bias_initializer=keras.initializers.Constant(bias)))
        if (index + 1) % pool_every == 0 and size >= 4:
            layers.append(keras.layers.MaxPooling2D())
            size //= 2
    layers += [keras.layers.Flatten(), _head(dataset, "softmax", seed + len(filters))]
    return _compile(keras.Sequential(layers), optimizer, learning_rate, "softmax")


def accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """Test accuracy of ``model`` from its predictions (one sigmoid unit: > 0.5; else the arg max)."""
    scores = np.asarray(model.predict(x, verbose=0, batch_size=1024))
    guess = (scores[:, 0] > 0.5).astype("int64") if scores.shape[-1] == 1 else scores.argmax(-1)
    return float(np.mean(guess == y))
