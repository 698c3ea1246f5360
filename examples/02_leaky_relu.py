"""The article's example 2, as current Keras wants it: the hidden layer uses LeakyReLU with slope 0.1.

Changes from the article: an ``Input`` layer, and ``negative_slope=0.1`` instead of the deprecated
``alpha=0.1``. ``relulab.layers.LeakyReLU(negative_slope=0.1)`` is a drop-in alternative whose default
slope (0.01, Maas et al. 2013) is the same for the function and the layer.

    python examples/02_leaky_relu.py --epochs 5
"""

from __future__ import annotations

import argparse

import relulab  # first: it keeps TensorFlow's start-up messages off the terminal

import keras  # noqa: E402, I001 (after relulab, on purpose)


def build_model(num_features: int, num_classes: int) -> keras.Model:
    inputs = keras.Input(shape=(num_features,))
    hidden = keras.layers.Dense(64, activation=keras.layers.LeakyReLU(negative_slope=0.1))(inputs)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--data-path")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args(argv)

    data = relulab.data.load(args.dataset, data_path=args.data_path)
    y_train = keras.utils.to_categorical(data.y_train, data.num_classes)
    y_test = keras.utils.to_categorical(data.y_test, data.num_classes)
    keras.utils.set_random_seed(0)
    model = build_model(data.input_shape[0], data.num_classes)
    model.fit(data.x_train, y_train, epochs=args.epochs, batch_size=32, verbose=2)
    _, accuracy = model.evaluate(data.x_test, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
