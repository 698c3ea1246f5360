"""The article's example 1, as current Keras wants it: Dense(64, relu) -> Dense(10, softmax).

Changes from the article: an ``Input`` layer instead of ``input_shape=`` (which Keras 3 warns about).
Runs on scikit-learn's bundled digits by default (offline); ``--dataset mnist`` uses MNIST when it is
cached or downloadable, ``--data-path`` a local ``mnist.npz``.

    python examples/01_relu_mlp.py --epochs 5
"""

from __future__ import annotations

import argparse

import relulab  # first: it keeps TensorFlow's start-up messages off the terminal

import keras  # noqa: E402, I001 (after relulab, on purpose)


def build_model(num_features: int, num_classes: int) -> keras.Model:
    inputs = keras.Input(shape=(num_features,))
    hidden = keras.layers.Dense(64, activation="relu")(inputs)
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
