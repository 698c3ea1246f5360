"""The article's example 3 done right: a custom rectifier layer that survives save and load.

The article's ``MyReLU`` has an ``__init__`` without ``**kwargs`` and no registration, so
``keras.saving.load_model`` cannot rebuild it. A layer that round-trips needs three things:
1. ``@keras.saving.register_keras_serializable(package=...)``, so Keras can find the class by name;
2. an ``__init__`` that takes ``**kwargs`` (name, dtype, trainable) and passes them to ``super()``;
3. a ``get_config`` that returns every constructor argument.
And ``call`` uses ``keras.ops.relu`` rather than ``tf.math.maximum(0.0, x)``: it runs on every backend,
TensorFlow fuses it into the preceding MatMul, and its backward pass is the cheaper native one.

    python examples/03_custom_rectifier.py --epochs 5 --save-to my_relu.keras
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import relulab  # first: it keeps TensorFlow's start-up messages off the terminal

import keras  # noqa: E402, I001 (after relulab, on purpose)
import numpy as np


@keras.saving.register_keras_serializable(package="examples")
class MyReLU(keras.layers.Layer):
    """``max(x, threshold)``-style rectifier: ``x`` above ``threshold``, else 0 (the article's with 0)."""

    def __init__(self, threshold: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.threshold = float(threshold)

    def call(self, inputs):
        if self.threshold == 0.0:
            return keras.ops.relu(inputs)
        return keras.ops.where(inputs > self.threshold, inputs, keras.ops.zeros_like(inputs))

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


def build_model(num_features: int, num_classes: int) -> keras.Model:
    inputs = keras.Input(shape=(num_features,))
    hidden = MyReLU()(keras.layers.Dense(64)(inputs))
    outputs = keras.layers.Dense(num_classes, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--data-path")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--save-to", type=Path, help="where to save the model (default: a temporary file)")
    args = parser.parse_args(argv)

    data = relulab.data.load(args.dataset, data_path=args.data_path)
    y_train = keras.utils.to_categorical(data.y_train, data.num_classes)
    y_test = keras.utils.to_categorical(data.y_test, data.num_classes)
    keras.utils.set_random_seed(0)
    model = build_model(data.input_shape[0], data.num_classes)
    model.fit(data.x_train, y_train, epochs=args.epochs, batch_size=32, verbose=2)
    _, accuracy = model.evaluate(data.x_test, y_test, verbose=0)

    with tempfile.TemporaryDirectory() as scratch:
        path = args.save_to or Path(scratch) / "my_relu.keras"
        model.save(path)
        restored = keras.saving.load_model(path)
        difference = np.abs(restored.predict(data.x_test, verbose=0) - model.predict(data.x_test, verbose=0)).max()
    print(f"test accuracy: {accuracy:.4f}")
    print(f"saved and loaded back: largest prediction difference {difference:g}")
    return accuracy


if __name__ == "__main__":
    main()
