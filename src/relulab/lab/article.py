"""The article's custom layer, done right, for the lab's ``seed`` preset.

The article's ``MyReLU`` computes ``tf.math.maximum(0.0, x)`` after a linear ``Dense(64)``; as written it
cannot be saved and loaded (its ``__init__`` takes no ``**kwargs`` and it is not registered). This is the
same computation on ``keras.ops`` with what it lacked, so the lab can train it beside relu, and so a
user can see that a custom layer with the same formula matches the built-in one.
The lab names it by import path: ``relulab.lab.article:MyReLU``.
"""

from __future__ import annotations

from typing import Any

import keras


@keras.saving.register_keras_serializable(package="relulab.article")
class MyReLU(keras.layers.Layer):
    """``max(0, x)`` written as the article does: an element-wise maximum with 0.

    Gradient: 1 for ``x > 0``, 0 for ``x < 0``; at 0 it is whatever the backend's ``maximum`` gives
    to the second argument on a tie (0 on TensorFlow). Reference: the article's example 3.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def call(self, inputs: Any) -> Any:
        return keras.ops.maximum(0.0, inputs)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape
