"""The convolutional stack: a run inside a stack is the run alone; diagnostics; what falls back and why."""

from __future__ import annotations

from types import SimpleNamespace

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

from relulab import layers as relulab_layers
from relulab import models, training
from relulab.lab.stacked import conv_engine as stacked_conv
from relulab.lab.stacked import conv as conv_module
from relulab.lab.stacked.conv import CONVOLUTIONS, ConvStack, grouped_gradients
from relulab.lab.stacked.conv_plan import describe, unstackable_reason


def digits(train: int = 1347, test: int = 450):
    """scikit-learn's digits as 8x8x1 images in [0, 1]; 1347 = 42 * 32 + 3: every epoch ends with 3."""
    bunch = load_digits()
    index = np.random.default_rng(0).permutation(len(bunch.target))
    x = (bunch.data[index] / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    y = bunch.target[index].astype(np.int64)
    return SimpleNamespace(x_train=x[:train], y_train=y[:train], x_test=x[train:train + test],
                           y_test=y[train:train + test], input_shape=(8, 8, 1), num_classes=10)


def build(activation: str, seed: int, *, learning_rate: float = 3e-3, padding_model: bool = False) -> keras.Model:
    """A run's model as the sequential engine builds it (seeded first)."""
    keras.utils.set_random_seed(seed)
    if not padding_model:
        return models.cnn((8, 8, 1), 10, activation=activation, filters=(4, 8), dense=16, kernel_size=2,
                          learning_rate=learning_rate, seed=seed)
    from relulab import layers  # a user's build: "same" padding, strides, average pooling, inline activation

    model = keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Conv2D(6, 3, padding="same", activation=activation, name="c1"),
        keras.layers.AveragePooling2D(2, name="p1"), keras.layers.Conv2D(5, 2, strides=2, use_bias=False, name="c2"),
        layers.get(activation, name="a2"), keras.layers.Flatten(name="f"), keras.layers.Dense(10, "softmax", name="out"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


RUNS = [("relu", 1), ("elu", 0), ("prelu", 0), ("leaky_relu(negative_slope=0.1)", 2), ("relu", 0), ("tanh", 2)]
OTHER = [("relu", 0), ("elu", 1), ("leaky_relu", 2)]


@pytest.fixture(scope="module")
def data():
    return digits()


@pytest.fixture(scope="module")
def stacked(data):
    runs = {}
    for runs_of, padding in ((RUNS, False), (OTHER, True)):
        histories = stacked_conv.train_models([build(a, s, padding_model=padding) for a, s in runs_of],
                                              [s for _, s in runs_of], data, epochs=2, batch_size=32,
                                              diagnostics=False)
        runs.update({(a, s, padding): h for (a, s), h in zip(runs_of, histories)})
    return runs


@pytest.mark.parametrize(("activation", "seed", "padding"), [(*r, False) for r in RUNS] + [(*r, True) for r in OTHER])
def test_a_run_in_a_stack_is_the_run_alone(activation, seed, padding, data, stacked):
    history = stacked[(activation, seed, padding)]
    alone = training.fit(build(activation, seed, padding_model=padding), data, seed=seed, epochs=2,
                         batch_size=32).history
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(history[key], alone[key], rtol=1e-4, atol=1e-5, err_msg=key)
    for key in ("accuracy", "val_accuracy"):  # at most one example decided differently
        np.testing.assert_allclose(history[key], alone[key], atol=1.01 / len(data.x_test), err_msg=key)


@pytest.mark.parametrize("convolution", CONVOLUTIONS)
def test_stacked_weights_are_the_solo_models_weights(convolution, data):
    """After training, each run's kernels equal those its model reaches alone (the order and Adam are its own)."""
    if convolution == "grouped" and not grouped_gradients():
        pytest.skip(f"TensorFlow {tf.__version__} cannot differentiate a grouped convolution here (oneDNN is off)")
    runs = [("relu", 0), ("prelu", 1), ("elu", 2)]
    stack = ConvStack([build(a, s) for a, s in runs], [s for _, s in runs], batch_size=32, convolution=convolution)
    x, y = data.x_train.astype(np.float32), data.y_train.astype(np.int32)
    stack.train_epoch(x, y, 0)
    for position, (activation, seed) in enumerate(runs):
        model = build(activation, seed)
        training.fit(model, data, seed=seed, epochs=1, batch_size=32)
        for key, value in stack.weights(position).items():
            layer, weight = key.split("/")
            reference = np.asarray(getattr(model.get_layer(layer), weight))
            assert np.median(np.abs(value - reference)) < 1e-4 and np.abs(value - reference).max() < 6e-3, key


def test_diagnostics_per_activation_layer_agree_with_the_monitors(data):
    runs = [("relu", 0), ("tanh", 1), ("prelu", 2)]
    stacked = stacked_conv.train_models([build(a, s) for a, s in runs], [s for _, s in runs], data, epochs=1,
                                        batch_size=32)  # the monitors' default probe for a CNN, 256 examples
    for (activation, seed), history in zip(runs, stacked):
        alone = training.fit(build(activation, seed), data, seed=seed, epochs=1, batch_size=32,
                             callbacks=training.monitors(data)).history
        names = [f"activation_{i}" for i in (1, 2, 3)]
        expected = {f"sparsity/{n}" for n in names} | {f"grad_norm/{n}" for n in ("conv_1", "conv_2", "dense_1", "output")}
        expected |= {f"{'saturation' if activation == 'tanh' else 'dead_fraction'}/{n}" for n in names}
        assert expected <= set(history), activation
        for key in expected | {"grad_ratio"}:
            if key in alone:
                np.testing.assert_allclose(history[key], alone[key], rtol=2e-3, atol=2e-3, err_msg=f"{activation} {key}")
        assert {k for k in expected if k.startswith(("dead_fraction", "saturation", "sparsity"))} <= set(alone)


def test_planted_dead_units_are_found():
    """With every input 0, a ReLU unit's pre-activation after the first convolution is its bias, 0: all dead."""
    data = digits(train=100, test=20)
    data.x_train = np.zeros_like(data.x_train)
    histories = stacked_conv.train_models([build("relu", 0), build("relu", 1)], [0, 1], data, epochs=1, batch_size=32)
    assert [h["dead_fraction/activation_1"] for h in histories] == [[1.0], [1.0]]
    assert [h["grad_norm/conv_1"] for h in histories] == [[0.0], [0.0]]


def with_batch_norm() -> keras.Model:
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3, name="c1")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Flatten()(keras.layers.ReLU()(x))
    return compiled(keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x)))


def two_branches() -> keras.Model:
    inputs = keras.Input((8, 8, 1))
    flat = keras.layers.Flatten(name="flat")(inputs)
    x = keras.layers.Concatenate(name="join")([flat, flat])
    return compiled(keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x)))


def compiled(model: keras.Model, optimizer: str = "adam") -> keras.Model:
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize(("make", "reason"), [
    (with_batch_norm, "its layer bn is BatchNormalization, which the stack does not model"),
    (two_branches, "its layer join is not fed by the layer before it (not a plain chain)"),
    (lambda: compiled(keras.Sequential([keras.Input((8, 8, 1)), keras.layers.LayerNormalization(name="ln"),
                                        keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])),
     "its layer ln is a LayerNormalization, which the stack does not take"),
    (lambda: compiled(build("relu", 0), "rmsprop"), "its optimizer is RMSprop, not Adam or SGD"),
    (lambda: compiled(build("relu", 0), keras.optimizers.SGD(0.1, clipnorm=1.0)),
     "its SGD sets clipnorm=1.0, which the stack does not apply"),
    (lambda: compiled(build("relu", 0), keras.optimizers.Adam(amsgrad=True)), "its Adam uses AMSGrad, which the stack does not apply"),
    (lambda: compiled(build("relu", 0), keras.optimizers.Adam(weight_decay=1e-4)),
     "its Adam sets weight_decay=0.0001, which the stack does not apply"),
    (lambda: compiled(build("relu", 0), keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))),
     "its SGD's learning rate follows a schedule"),
    (lambda: build("selu", 0, padding_model=True),  # Keras' selu: the gradient at 0 is scale, relulab's scale*alpha
     "its activation selu is Keras' own, whose gradient differs from relulab's selu (at the kink)"),
    (lambda: compiled(keras.Sequential([keras.Input((64,)), keras.layers.Dense(10)])),
     "its last layer is not a Dense layer with softmax"),
    (lambda: compiled(keras.Sequential([  # a PReLU as activation= has its slopes in the Dense layer
        keras.Input((64,)), keras.layers.Dense(16, activation=relulab_layers.get("prelu"), name="d"),
        keras.layers.Dense(10, activation="softmax")])),
     "its layer d has a PReLU with weights as its activation= (the stack takes one as a layer of its own)"),
    (lambda: compiled(keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation=keras.layers.PReLU(), name="c"),
        keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])),
     "its layer c has a PReLU with weights as its activation= (the stack takes one as a layer of its own)"),
])
def test_what_the_stack_cannot_take_says_why(make, reason):
    assert unstackable_reason(make()) == reason


def test_a_loss_the_stack_does_not_compute_is_refused_by_its_setting():
    def with_loss(loss):
        model = build("relu", 0)
        model.compile(optimizer="adam", loss=loss)
        return model

    assert unstackable_reason(with_loss(keras.losses.SparseCategoricalCrossentropy())) is None
    assert unstackable_reason(with_loss(keras.losses.sparse_categorical_crossentropy)) is None
    assert unstackable_reason(with_loss(keras.losses.SparseCategoricalCrossentropy(reduction="sum"))) == (
        "its loss sets reduction='sum', which the stack does not apply")
    assert unstackable_reason(with_loss(keras.losses.SparseCategoricalCrossentropy(ignore_class=0))) == (
        "its loss sets ignore_class=0, which the stack does not apply")
    assert unstackable_reason(with_loss("categorical_crossentropy")) == (
        "its loss is categorical_crossentropy, not sparse_categorical_crossentropy")
    assert unstackable_reason(with_loss(["sparse_categorical_crossentropy"])) is None  # one output's loss in a list
    weighted = build("relu", 0)
    weighted.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", loss_weights=[10.0])
    assert unstackable_reason(weighted) == "its loss is weighted (loss_weights=[10.0]), which the stack does not apply"


def test_adam_keeps_its_own_betas_and_epsilon_in_the_stack(data):
    """A non-default Adam trains in the stack as alone, and never in one stack with the default Adam."""
    def tuned(activation, seed):
        return compiled(build(activation, seed), keras.optimizers.Adam(3e-3, beta_1=0.5, beta_2=0.9, epsilon=1e-2))

    runs = [("relu", 0), ("elu", 1)]
    histories = stacked_conv.train_models([tuned(a, s) for a, s in runs], [s for _, s in runs], data, epochs=2,
                                          batch_size=32, diagnostics=False)
    for (activation, seed), history in zip(runs, histories):
        alone = training.fit(tuned(activation, seed), data, seed=seed, epochs=2, batch_size=32).history
        np.testing.assert_allclose(history["loss"], alone["loss"], rtol=1e-4, atol=1e-5, err_msg=activation)
    stacks, _ = stacked_conv.stack_groups([build("relu", 0), tuned("relu", 1), build("elu", 2), tuned("elu", 3)])
    assert sorted(stacks) == [[0, 2], [1, 3]]


def test_other_backends_and_policies_are_not_stacked(monkeypatch):
    model = build("relu", 0)
    monkeypatch.setattr(keras.config, "dtype_policy", lambda: keras.DTypePolicy("mixed_float16"))
    assert unstackable_reason(model) == "the stack runs on TensorFlow in float32 only"
    monkeypatch.undo()
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    assert unstackable_reason(model) == "the stack runs on TensorFlow in float32 only"


def test_the_cnn_is_stackable_and_fit_all_falls_back_once_per_model(data):
    assert unstackable_reason(build("rrelu", 0)) is None
    kinds = [op.kind for op in describe(models.cnn((8, 8), 10, kernel_size=2))]
    assert kinds == ["reshape", "conv", "activation", "pool", "conv", "activation", "pool", "flatten", "dense",
                     "activation", "dense"]
    small = digits(train=64, test=32)
    models_ = [build("relu", 0), build("elu", 1), with_batch_norm()]
    histories, notes = stacked_conv.fit_all(models_, [0, 1, 2], small, epochs=1, batch_size=32, diagnostics=False)
    assert notes == [f"{models_[2].name} (seed 2) trains alone: its layer bn is BatchNormalization, which the "
                     f"stack does not model"]
    assert all(set(h) == {"loss", "accuracy", "val_loss", "val_accuracy"} for h in histories)


def test_a_stack_needs_one_architecture_learning_rate_and_a_known_convolution():
    with pytest.raises(ValueError, match="convolution of ConvStack must be one of 'grouped', 'per_run'. Received: "
                                         "convolution='patches'"):
        ConvStack([build("relu", 0)], [0], 32, convolution="patches")
    with pytest.raises(ValueError, match="models of ConvStack must share one architecture"):
        ConvStack([build("relu", 0), build("relu", 0, padding_model=True)], [0, 0], 32)
    with pytest.raises(ValueError, match=r"models of ConvStack must share one optimizer and learning rate. "
                                         r"Received: \['Adam at 0.001', 'Adam at 0.003'\]"):
        ConvStack([build("relu", 0), build("relu", 0, learning_rate=1e-3)], [0, 0], 32)
    with pytest.raises(ValueError, match=r"Received: \['Adam at 0.003', 'SGD at 0.003, momentum 0.9 \(Nesterov\)'\]"):
        ConvStack([build("relu", 0), compiled(build("relu", 0), keras.optimizers.SGD(3e-3, 0.9, nesterov=True))],
                  [0, 0], 32)


@pytest.mark.parametrize("optimizer", [
    lambda: keras.optimizers.SGD(0.05), lambda: keras.optimizers.SGD(0.02, momentum=0.9),
    lambda: keras.optimizers.SGD(0.02, momentum=0.8, nesterov=True)], ids=["plain", "momentum", "nesterov"])
def test_a_run_stepped_by_sgd_in_a_stack_is_the_run_alone(optimizer, data):
    """Keras' SGD, with and without (Nesterov) momentum, as the fused kernels compute it: losses and weights."""
    runs = [("relu", 0), ("elu", 1), ("leaky_relu(negative_slope=0.1)", 2)]

    def sgd_model(activation, seed):
        return compiled(build(activation, seed), optimizer())

    stack = ConvStack([sgd_model(a, s) for a, s in runs], [s for _, s in runs], batch_size=32)
    assert type(stack.optimizer).__name__ == "FusedSGD"
    histories = stacked_conv.train_models([sgd_model(a, s) for a, s in runs], [s for _, s in runs], data, epochs=2,
                                          batch_size=32, diagnostics=False)
    x, y = data.x_train.astype(np.float32), data.y_train.astype(np.int32)
    stack.train_epoch(x, y, 0)
    for position, ((activation, seed), history) in enumerate(zip(runs, histories)):
        model = sgd_model(activation, seed)
        alone = training.fit(model, data, seed=seed, epochs=2, batch_size=32).history
        np.testing.assert_allclose(history["loss"], alone["loss"], rtol=1e-4, atol=1e-5, err_msg=activation)
        np.testing.assert_allclose(history["val_accuracy"], alone["val_accuracy"], atol=1.01 / len(data.x_test))
        first = sgd_model(activation, seed)
        training.fit(first, data, seed=seed, epochs=1, batch_size=32)
        for key, value in stack.weights(position).items():
            layer, weight = key.split("/")
            reference = np.asarray(getattr(first.get_layer(layer), weight))
            assert np.abs(value - reference).max() < 1e-4, (activation, key)


def test_builds_that_differ_in_layer_names_only_stack_and_keep_their_own_names(data):
    """Keras numbers unnamed layers globally: the same architecture built twice has other names, and still stacks."""
    def unnamed(seed):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 2, activation="relu"),
                                  keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
        return compiled(model)

    first, second = unnamed(0), unnamed(1)
    assert [layer.name for layer in first.layers] != [layer.name for layer in second.layers]
    stacks, alone = stacked_conv.stack_groups([first, second])
    assert stacks == [[0, 1]] and alone == []
    wider = compiled(keras.Sequential([keras.Input((9, 9, 1)), keras.layers.Conv2D(4, 2, activation="relu"),
                                       keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]))
    assert stacked_conv.stack_groups([first, wider]) == ([], [
        (0, "no other run shares its architecture, optimizer settings and learning rate"),
        (1, "no other run shares its architecture, optimizer settings and learning rate")])
    histories = stacked_conv.train_models([first, second], [0, 1], data, epochs=1, batch_size=32)
    for model, history, seed in zip((first, second), histories, (0, 1)):
        conv, dense = model.layers[0].name, model.layers[-1].name
        assert {f"grad_norm/{conv}", f"grad_norm/{dense}", f"dead_fraction/{conv}"} <= set(history)
        alone_history = training.fit(unnamed(seed), data, seed=seed, epochs=1, batch_size=32).history
        np.testing.assert_allclose(history["loss"], alone_history["loss"], rtol=1e-4, atol=1e-5)
    stack = ConvStack([first, second], [0, 1], batch_size=32)
    stack.assign_to(second, 1)  # each run's weights go back under its own model's names
    assert set(stack.weights(1)) == {f"{second.layers[0].name}/kernel", f"{second.layers[0].name}/bias",
                                     f"{second.layers[-1].name}/kernel", f"{second.layers[-1].name}/bias"}


def test_the_probe_of_grouped_gradients_predicts_a_traced_training_step():
    """The eager check on a tiny input says what a traced step of the stack's shape meets: a grouped convolution
    (2 runs of 3 channels) differentiated with respect to its input inside a ``tf.function``."""
    x, kernel = tf.random.normal((4, 6, 6, 6)), tf.random.normal((3, 3, 3, 10))

    @tf.function
    def input_gradient():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(tf.nn.conv2d(x, kernel, 1, "SAME") ** 2)
        return tape.gradient(y, x)

    try:
        input_gradient()
        traced = True
    except tf.errors.InvalidArgumentError:
        traced = False
    assert grouped_gradients() == traced


@pytest.mark.parametrize("supported", [True, False])
def test_the_default_convolution_is_grouped_where_tensorflow_can_train_it(supported, monkeypatch):
    monkeypatch.setattr(conv_module, "grouped_gradients", lambda: supported)
    assert ConvStack([build("relu", 0)], [0], 32).convolution == ("grouped" if supported else "per_run")
    assert ConvStack([build("relu", 0)], [0], 32, convolution="per_run").convolution == "per_run"
    if supported:
        assert ConvStack([build("relu", 0)], [0], 32, convolution="grouped").convolution == "grouped"
    else:
        refusal = (r"convolution of ConvStack cannot be 'grouped' here: TensorFlow .* TF_ENABLE_ONEDNN_OPTS=1\); use "
                   r"'per_run' or None \(the default picks\). Received: convolution='grouped'")
        with pytest.raises(ValueError, match=refusal):
            ConvStack([build("relu", 0)], [0], 32, convolution="grouped")
