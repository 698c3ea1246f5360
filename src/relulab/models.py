"""The article's model family (input -> hidden Dense layers with any activation -> softmax) and a small CNN.

``mlp()`` with its defaults is the article's example 1 exactly: ``Dense(64, activation="relu")``,
``Dense(10, activation="softmax")``, glorot_uniform initialisation, Adam at 1e-3, (sparse) categorical
cross-entropy and accuracy.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import keras

from relulab import _memory, _validate, layers
from relulab.errors import SizeError

DEFAULT_HIDDEN = (64,)  # units: the article's one hidden layer of 64
DEFAULT_LEARNING_RATE = 1e-3  # Adam's step size (Keras' default)
DEFAULT_INITIALIZER = "glorot_uniform"  # Keras' default kernel initializer
DEFAULT_EPOCHS = 5  # passes over the training set, as in the article
DEFAULT_BATCH_SIZE = 32  # examples per step (Keras' default)
EVALUATION_BATCH_SIZE = 256  # examples per step when evaluating on the test set


def parameter_count(inputs: int, widths: Sequence[int], num_classes: int) -> int:
    """Weights and biases of the MLP: ``sum((fan_in + 1) * fan_out)`` over its Dense layers."""
    sizes = [inputs, *widths, num_classes]
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes, sizes[1:]))


def training_bytes(inputs: int, widths: Sequence[int], num_classes: int, *, rows: int = 0) -> int:
    """A lower bound on the memory that training the MLP takes: 16 bytes per parameter (the float32
    weight, its gradient and Adam's two moments) plus, for ``rows`` examples at once, 8 bytes per unit
    (each output and its gradient)."""
    units = inputs + sum(widths) + num_classes
    return (parameter_count(inputs, widths, num_classes) * _memory.BYTES_PER_PARAMETER
            + rows * units * 2 * _memory.BYTES_PER_FLOAT)


def check_fits(input_shape: int | Sequence[int], num_classes: int, widths: Sequence[int], *, rows: int = 0,
               name: str = "hidden", owner: str = "mlp") -> None:
    """Refuse, before anything is allocated, an MLP whose training cannot fit in this machine's memory.

    Raises:
        SizeError: :func:`training_bytes` exceeds :func:`relulab._memory.available_bytes`; the message
            names the widths, the memory needed and the memory there is.
    """
    shape = (input_shape,) if isinstance(input_shape, numbers.Integral) else tuple(input_shape)
    inputs = math.prod(shape)
    need, have = training_bytes(inputs, widths, num_classes, rows=rows), _memory.available_bytes()
    if need > have:
        batch = f" and the activations of {rows} examples at once" if rows else ""
        raise SizeError(
            f"{name} of {owner} ({list(widths)}) with {inputs} inputs and {num_classes} classes needs at least "
            f"{_memory.describe_bytes(need)} to train ({parameter_count(inputs, widths, num_classes):.3g} "
            f"parameters, 16 bytes each for the weight, its gradient and Adam's two moments{batch}); this "
            f"machine has {_memory.describe_bytes(have)} of memory. Choose smaller widths."
        )


def hidden_sizes(hidden: int | Sequence[int] = DEFAULT_HIDDEN, depth: int | None = None) -> tuple[int, ...]:
    """The hidden layer widths: an explicit list, or ``depth`` layers of width ``hidden``.

    Raises:
        ValueError / TypeError: a width or depth that is not an integer >= 1.
    """
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        hidden = (hidden,) * (1 if depth is None else _validate.positive_int(depth, name="depth", owner="mlp"))
    elif depth is not None:
        raise ValueError(f"depth of mlp needs hidden to be one width, not a list. Received: hidden={hidden!r}")
    if isinstance(hidden, str) or not isinstance(hidden, Sequence) or not hidden:
        raise TypeError(f"hidden of mlp must be a width or a non-empty list of widths. Received: hidden={hidden!r}")
    return tuple(_validate.positive_int(width, name="hidden", owner="mlp") for width in hidden)


def kernel_layer_names(depth: int) -> list[str]:
    """The names :func:`mlp` gives its Dense layers: ``dense_1 .. dense_<depth>``, then ``output``."""
    return [f"dense_{i}" for i in range(1, depth + 1)] + ["output"]


def check_activation(activation: Any, hidden: Sequence[int]) -> None:
    """Build the activation layer for ``activation`` on each hidden width, as :func:`mlp` will give it
    ``(batch, width)``, so that an argument the input cannot have (PReLU's ``shared_axes=[5]``) fails
    here, in one line, and not inside ``fit``.

    Raises:
        ValueError / TypeError: an invalid spec, or a layer that cannot be built on that input.
    """
    layer = layers.get(activation)
    if layer is activation or layer.built:  # the user's own instance (building it would fix its input
        return  # shape), or a layer with nothing to build
    for width in sorted(set(hidden)):
        (layer if width == min(hidden) else layers.get(activation)).build((None, width))


def mlp(
    input_shape: int | Sequence[int],
    num_classes: int,
    *,
    hidden: int | Sequence[int] = DEFAULT_HIDDEN,
    depth: int | None = None,
    activation: str | keras.layers.Layer = "relu",
    kernel_initializer: str | keras.initializers.Initializer = DEFAULT_INITIALIZER,
    batch_norm: bool = False,
    dropout: float = 0.0,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    compile: bool = True,  # noqa: A002 (Keras' own word for it)
    seed: int | None = None,
    name: str = "mlp",
) -> keras.Model:
    """Build (and compile) the article's MLP.

    Each hidden layer is ``Dense(width, activation=<layer for the spec>)``; with ``batch_norm`` it is
    ``Dense(use_bias=False) -> BatchNormalization -> activation``; ``dropout`` follows each hidden layer.

    Example:
        >>> model = mlp(784, 10, hidden=[100, 10], activation="leaky_relu(negative_slope=0.1)")

    Args:
        input_shape: features per example (an int) or the shape of one example.
        num_classes: size of the softmax output, >= 2.
        hidden: one width (default 64) or a list of widths. depth: repeat ``hidden`` this many times.
        activation: a relulab activation spec (``relulab.activations.available()``) or a layer.
        kernel_initializer: Keras initializer name or instance for the hidden layers (default
            glorot_uniform, Keras' default; he_normal suits rectifiers, lecun_normal suits selu).
        batch_norm: add batch normalisation before each activation. dropout: rate in [0, 0.99].
        learning_rate: Adam's learning rate, default 1e-3. compile: compile with Adam, sparse
            categorical cross-entropy and accuracy.
        seed: seeds each hidden layer's kernel initializer from ``(seed, layer index)``, so that models
            of one seed start from the same weights whatever their activation (an RReLU layer draws
            its own seed when built, which would otherwise shift the initializers' random stream).
            Default None: the initializers follow ``keras.utils.set_random_seed``.

    Raises:
        ValueError / TypeError: an argument out of range, or an unknown activation or initializer.
        SizeError (a ValueError): a model whose weights cannot fit in this machine's memory.
    """
    widths = hidden_sizes(hidden, depth)
    shape = (input_shape,) if isinstance(input_shape, numbers.Integral) else tuple(input_shape)
    if _validate.positive_int(num_classes, name="num_classes", owner="mlp") < 2:
        raise ValueError(f"num_classes of mlp must be >= 2. Received: num_classes={num_classes}")
    _validate.number(dropout, name="dropout", owner="mlp", minimum=0.0, maximum=0.99)
    _validate.number(learning_rate, name="learning_rate", owner="mlp", strictly_above=0.0)
    check_fits(shape, num_classes, widths)  # before any weight is allocated
    initializer(kernel_initializer)  # check once; each layer gets its own instance below (an instance
    # passed in is cloned, so that layers never share one)
    check_activation(activation, widths)  # check the spec once, before building anything

    names = kernel_layer_names(len(widths))
    inputs = keras.Input(shape, name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(shape) > 1 else inputs
    for index, width in enumerate(widths, start=1):
        if batch_norm:
            x = keras.layers.Dense(width, use_bias=False, kernel_initializer=_seeded(kernel_initializer, seed, index),
                                   name=names[index - 1])(x)
            x = keras.layers.BatchNormalization(name=f"batch_norm_{index}")(x)
            x = layers.get(activation, name=f"activation_{index}")(x)
        else:
            act = layers.get(activation)
            x = keras.layers.Dense(width, activation=act, kernel_initializer=_seeded(kernel_initializer, seed, index),
                                   name=names[index - 1])(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{index}")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", kernel_initializer=_seeded(
        "glorot_uniform", seed, len(widths) + 1), name=names[-1])(x)
    model = keras.Model(inputs, outputs, name=name)
    if compile:
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    return model


CNN_FILTERS = (16, 32)  # channels of the two convolutions
CNN_DENSE = 64  # units of the dense layer before the softmax
CNN_KERNEL_SIZE = 3  # height and width of each convolution's window, pixels


def cnn(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    activation: str | keras.layers.Layer = "relu",
    filters: Sequence[int] = CNN_FILTERS,
    dense: int = CNN_DENSE,
    kernel_size: int = CNN_KERNEL_SIZE,
    kernel_initializer: str | keras.initializers.Initializer = DEFAULT_INITIALIZER,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    compile: bool = True,  # noqa: A002 (Keras' own word for it)
    seed: int | None = None,
    name: str = "cnn",
) -> keras.Model:
    """Build (and compile) a small convolutional network: the setting of He et al. and Xu et al. at CPU scale.

    ``Conv2D(filters[0]) -> activation -> MaxPooling2D(2) -> Conv2D(filters[1]) -> activation ->
    MaxPooling2D(2) -> Flatten -> Dense(dense) -> activation -> Dense(num_classes, softmax)``, with
    "valid" convolutions of ``kernel_size`` and the activation as a separate layer (``activation_1`` ..
    ``activation_3``). An image of shape ``(height, width)`` gets a channel axis first (layer ``channels``).

    Example:
        >>> model = cnn((28, 28, 1), 10, activation="prelu", seed=0)

    Args:
        input_shape: one image, ``(height, width)`` or ``(height, width, channels)``.
        num_classes: size of the softmax output, >= 2.
        activation: a relulab activation spec or a layer (one new layer per position is made from a spec).
        filters: channels of each convolution, default (16, 32); one convolution + pooling per entry.
        dense: units of the hidden dense layer, default 64. kernel_size: the convolutions' window, default 3.
        kernel_initializer, learning_rate, compile, seed: as for :func:`mlp` (``seed`` seeds each
            kernel initializer from ``(seed, layer index)``).

    Raises:
        ValueError / TypeError: an argument out of range, or an unknown activation or initializer.
    """
    shape = tuple(input_shape)
    if len(shape) not in (2, 3) or not all(isinstance(d, numbers.Integral) and d >= 1 for d in shape):
        raise ValueError(f"input_shape of cnn must be (height, width) or (height, width, channels). "
                         f"Received: input_shape={input_shape!r}")
    if _validate.positive_int(num_classes, name="num_classes", owner="cnn") < 2:
        raise ValueError(f"num_classes of cnn must be >= 2. Received: num_classes={num_classes}")
    if isinstance(filters, (str, numbers.Integral)) or not isinstance(filters, Sequence) or not filters:
        raise TypeError(f"filters of cnn must be a non-empty list of channel counts. Received: filters={filters!r}")
    filters = tuple(_validate.positive_int(f, name="filters", owner="cnn") for f in filters)
    _validate.positive_int(dense, name="dense", owner="cnn")
    _validate.positive_int(kernel_size, name="kernel_size", owner="cnn")
    _validate.number(learning_rate, name="learning_rate", owner="cnn", strictly_above=0.0)
    initializer(kernel_initializer)
    layers.get(activation)

    def act(index: int) -> keras.layers.Layer:  # a new layer per position, never the caller's instance
        if isinstance(activation, keras.layers.Layer):
            return activation.__class__.from_config({**activation.get_config(), "name": f"activation_{index}"})
        return layers.get(activation, name=f"activation_{index}")

    inputs = keras.Input(shape, name="inputs")
    x = keras.layers.Reshape((*shape, 1), name="channels")(inputs) if len(shape) == 2 else inputs
    for index, channels in enumerate(filters, start=1):
        x = keras.layers.Conv2D(channels, kernel_size, kernel_initializer=_seeded(kernel_initializer, seed, index),
                                name=f"conv_{index}")(x)
        x = act(index)(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool_{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(dense, kernel_initializer=_seeded(kernel_initializer, seed, len(filters) + 1),
                           name="dense_1")(x)
    x = act(len(filters) + 1)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", kernel_initializer=_seeded(
        "glorot_uniform", seed, len(filters) + 2), name="output")(x)
    model = keras.Model(inputs, outputs, name=name)
    if compile:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    return model


def _seeded(value: Any, seed: int | None, index: int) -> keras.initializers.Initializer:
    """A fresh initializer for ``value``; with ``seed``, a random one is seeded from (seed, index)."""
    fresh = initializer(value)
    config = fresh.get_config()
    if seed is None or "seed" not in config or config["seed"] is not None:
        return fresh
    return fresh.__class__.from_config({**config, "seed": (seed * 1_000_003 + index) % 2**31})


def initializer(value: Any, *, seed: int | None = None) -> keras.initializers.Initializer:
    """A fresh initializer for ``value`` (a Keras name, ``"rai"``, a config or an instance), checked.

    ``"rai"`` is relulab's randomized asymmetric initializer (:class:`relulab.initializers.RAI`); ``seed``
    seeds it (Keras names take their seed from ``keras.utils.set_random_seed``).

    Raises:
        ValueError: not a known initializer.
    """
    if isinstance(value, keras.initializers.Initializer):
        return value.__class__.from_config(value.get_config())
    if isinstance(value, str) and value.lower() == "rai":
        from relulab.initializers import RAI

        return RAI(seed=seed)
    try:
        return keras.initializers.get(value)
    except ValueError:
        raise ValueError(
            f"kernel_initializer of mlp must be a Keras initializer name (glorot_uniform, he_normal, "
            f"lecun_normal, ...), 'rai' or an Initializer. Received: kernel_initializer={value!r}"
        ) from None
