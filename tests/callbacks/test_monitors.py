"""The monitors inside ``fit``: their keys reach History, CSVLogger, TensorBoard and EarlyStopping;
state resets between fits; the batches-seen mode counts training batches only and cleans up after."""

from __future__ import annotations

import csv
import glob

import keras
import numpy as np
import pytest

from relulab.callbacks import DeadUnitMonitor, DeadUnitWarning, GradientFlowMonitor, default_monitors
from relulab.diagnostics import diagnose, gradient_norms

RNG = np.random.default_rng(0)
X = RNG.uniform(-1, 1, (96, 4)).astype("float32")
Y = (X[:, 0] > 0).astype("int64")
DEAD = (0, 2)  # planted: bias -1000

# The batches-seen mode updates counters inside the compiled training step, which JAX's pure jitted
# step cannot do; on JAX the monitors ask for a probe instead (tested in test_monitors.py).
SEEN_MODE = pytest.mark.skipif(keras.backend.backend() == "jax", reason="batches-seen mode needs TensorFlow or PyTorch")



def model(*, learning_rate: float = 0.01, optimizer=None) -> keras.Model:
    keras.utils.set_random_seed(0)
    built = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, activation="relu", name="h"),
                              keras.layers.Dense(2, activation="softmax", name="out")])
    bias = np.zeros(4, "float32")
    bias[list(DEAD)] = -1000.0
    built.get_layer("h").bias.assign(bias)
    built.compile(optimizer=optimizer or keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
    return built


def monitors():
    return [DeadUnitMonitor(X), GradientFlowMonitor((X, Y))]


KEYS = {"loss", "dead_fraction/h", "sparsity/h", "grad_norm/h", "grad_norm/out", "grad_ratio"}


def test_history_has_every_key_every_epoch():
    history = model().fit(X, Y, epochs=3, batch_size=32, verbose=0, callbacks=monitors())
    assert set(history.history) == KEYS
    assert all(len(values) == 3 for values in history.history.values())
    assert history.history["dead_fraction/h"] == [0.5, 0.5, 0.5]
    norms = history.history
    assert norms["grad_ratio"][0] == pytest.approx(norms["grad_norm/h"][0] / norms["grad_norm/out"][0])


def test_csv_logger_writes_the_keys_as_columns(tmp_path):
    path = tmp_path / "history.csv"
    model().fit(X, Y, epochs=2, verbose=0, callbacks=[*monitors(), keras.callbacks.CSVLogger(str(path))])
    rows = list(csv.DictReader(path.open()))
    assert KEYS | {"epoch"} <= set(rows[0])  # (Keras adds empty val_ columns when there is no validation)
    assert [float(r["dead_fraction/h"]) for r in rows] == [0.5, 0.5]


def test_early_stopping_reads_the_dead_fraction():
    stop = keras.callbacks.EarlyStopping(monitor="dead_fraction/h", mode="min", baseline=0.25, patience=0)
    history = model().fit(X, Y, epochs=5, verbose=0, callbacks=[DeadUnitMonitor(X), stop])
    # Keras never stops after the first epoch; without the key it would warn and run all 5
    assert len(history.history["loss"]) == 2 and stop.stopped_epoch == 1


def test_tensorboard_writes_the_keys_as_scalars(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    board = keras.callbacks.TensorBoard(log_dir=str(tmp_path))
    model().fit(X, Y, epochs=2, verbose=0, callbacks=[*monitors(), board])
    events = EventAccumulator(glob.glob(str(tmp_path / "train"))[0], size_guidance={"tensors": 0})
    events.Reload()
    tags = set(events.Tags()["tensors"])
    assert {"epoch_dead_fraction/h", "epoch_grad_ratio", "epoch_grad_norm/out"} <= tags
    values = [float(make_ndarray(event.tensor_proto)) for event in events.Tensors("epoch_dead_fraction/h")]
    assert values == [0.5, 0.5]


def test_one_instance_serves_two_fits_and_resets():
    dead, flow = monitors()
    first, second = model(), model()
    first.fit(X, Y, epochs=1, verbose=0, callbacks=[dead, flow])
    second.get_layer("h").bias.assign(np.zeros(4, "float32"))  # a model without dead units
    history = second.fit(X, Y, epochs=2, verbose=0, callbacks=[dead, flow])
    assert history.history["dead_fraction/h"] == [0.0, 0.0]
    assert dead.last["h"].dead_units == ()
    assert set(flow.last) == {"h", "out"}


def test_made_up_logs_are_extended_not_replaced():
    monitor = GradientFlowMonitor((X, Y))
    monitor.set_model(model())
    monitor.on_train_begin()
    logs = {"loss": 3.0, "val_loss": 4.0}
    monitor.on_epoch_end(0, logs)
    assert logs["loss"] == 3.0 and logs["val_loss"] == 4.0
    assert logs["grad_norm/h"] == pytest.approx(gradient_norms(monitor.model, X, Y, keras.losses.get(
        "sparse_categorical_crossentropy"))["h"])


def test_warns_when_the_dead_fraction_passes_the_threshold():
    message = r"50% of the 4 units of layer 'h' are dead after epoch 1 \(warn_above=0.4\)"
    with pytest.warns(DeadUnitWarning, match=message):
        model().fit(X, Y, epochs=1, verbose=0, callbacks=[DeadUnitMonitor(X, warn_above=0.4)])


def test_batch_frequency_adds_the_keys_to_batch_logs():
    seen = []
    recorder = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(set(logs)))
    model().fit(X, Y, epochs=1, batch_size=16, verbose=0, callbacks=[DeadUnitMonitor(X, batch_frequency=2), recorder])
    assert ["dead_fraction/h" in keys for keys in seen] == [False, True] * 3


def test_probe_mode_adds_no_per_step_callback():
    assert "on_train_batch_end" not in vars(DeadUnitMonitor(X))
    assert "on_train_batch_end" in vars(DeadUnitMonitor(X, batch_frequency=5))


@SEEN_MODE
def test_seen_mode_equals_the_probe_when_weights_do_not_move():
    frozen = model(optimizer=keras.optimizers.SGD(learning_rate=0.0))
    dead, flow = DeadUnitMonitor(), GradientFlowMonitor()
    history = frozen.fit(X, Y, epochs=1, batch_size=32, shuffle=False, verbose=0, callbacks=[dead, flow])
    probe = diagnose(frozen, X).row("h")
    assert dead.last["h"].dead_units == probe.dead_units == DEAD
    assert history.history["sparsity/h"][0] == pytest.approx(probe.sparsity, abs=1e-6)
    loss = keras.losses.get("sparse_categorical_crossentropy")
    per_batch = [gradient_norms(frozen, X[i:i + 32], Y[i:i + 32], loss)["h"] for i in range(0, 96, 32)]
    assert flow.last["h"] == pytest.approx(np.mean(per_batch), rel=1e-4)


@SEEN_MODE
def test_seen_mode_ignores_validation_batches_and_removes_its_hooks():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((1,))
    hidden = keras.layers.Dense(1, activation="relu", kernel_initializer="ones", name="h")(inputs)
    net = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(hidden))
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x_train, x_val = -np.ones((32, 1), "float32"), np.ones((32, 1), "float32")  # h is dead on train, alive on val
    monitor = DeadUnitMonitor()
    history = net.fit(x_train, np.zeros(32), validation_data=(x_val, np.zeros(32)), epochs=2, verbose=0,
                      callbacks=[monitor])
    assert history.history["dead_fraction/h"] == [1.0, 1.0]
    assert "train_step" not in vars(net) and "activation" in vars(net.get_layer("h"))
    assert net.get_layer("h").activation is keras.activations.relu


def test_default_monitors_share_one_spread_probe():
    x = np.arange(50, dtype="float32").reshape(50, 1)
    dead, flow = default_monitors(x, np.arange(50), probe_size=5)
    assert dead._probe[0][:, 0].tolist() == [0.0, 12.0, 24.0, 37.0, 49.0]
    assert flow._probe[1].tolist() == [0, 12, 24, 37, 49]
    assert len(default_monitors(x)) == 1


@pytest.mark.parametrize("make, error, match", [
    (lambda: GradientFlowMonitor(X), TypeError, r"probe of GradientFlowMonitor must be a pair \(x, y\) or None"),
    (lambda: DeadUnitMonitor(batch_frequency=2), ValueError, "batch_frequency of DeadUnitMonitor needs a probe"),
    (lambda: DeadUnitMonitor(X, probe_size=0), ValueError, "probe_size of DeadUnitMonitor must be an integer >= 1"),
    (lambda: DeadUnitMonitor(X, warn_above=2), ValueError,
     r"warn_above of DeadUnitMonitor must be a finite number in \[0, 1\]( or None)?\. Received: warn_above=2"),
])
def test_bad_arguments_are_refused_at_construction(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("monitor, match", [
    (DeadUnitMonitor(np.zeros((4, 3))), r"x of DeadUnitMonitor must have shape \(n, 4\)"),
    (DeadUnitMonitor(X, layers=["nope"]), "layers of DeadUnitMonitor must name measurable layers of the model: h"),
    (GradientFlowMonitor((X, Y[:5])), "y of GradientFlowMonitor must have one entry per example of x"),
])
def test_a_probe_or_layer_that_does_not_fit_the_model_is_refused_when_training_starts(monitor, match):
    with pytest.raises(ValueError, match=match):
        model().fit(X, Y, epochs=1, verbose=0, callbacks=[monitor])


def test_only_the_examples_a_monitor_measures_are_checked():
    x = np.repeat(X, 5, axis=0)  # 480 examples, probed on 5 of them
    outside, inside = x.copy(), x.copy()
    outside[1, 0] = np.nan  # not one of the 5 spread over the set (0, 120, 240, 359, 479)
    inside[240, 0] = np.nan
    dead = DeadUnitMonitor(outside, probe_size=5)
    model().fit(X, Y, epochs=1, verbose=0, callbacks=[dead])
    assert len(dead.x) == 5 and np.isfinite(dead.x).all()
    with pytest.raises(ValueError, match=r"x of DeadUnitMonitor must be finite.*\(in the probe: the 5 examples "
                                         r"DeadUnitMonitor measures, spread over the 480 it was given\)"):
        model().fit(X, Y, epochs=1, verbose=0, callbacks=[DeadUnitMonitor(inside, probe_size=5)])


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="the JAX-only refusal of the batches-seen mode")
def test_on_jax_the_monitor_asks_for_a_probe():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="relu", name="h")])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"probe of DeadUnitMonitor is needed on the JAX backend"):
        model.fit(np.ones((4, 3)), np.ones((4, 2)), epochs=1, verbose=0, callbacks=[DeadUnitMonitor()])


def test_gradient_flow_fits_integer_labels_to_a_categorical_model():
    categorical = model()
    categorical.compile(optimizer="sgd", loss="categorical_crossentropy")
    monitor = GradientFlowMonitor((X, Y))  # integer labels; the model wants one-hot rows
    categorical.fit(X, np.eye(2)[Y], epochs=1, batch_size=96, verbose=0, callbacks=[monitor])
    sparse = model()
    sparse.set_weights(categorical.get_weights())
    expected = gradient_norms(sparse, X, Y, keras.losses.get("sparse_categorical_crossentropy"))
    assert monitor.last == pytest.approx(expected)


class MyReLU(keras.layers.Layer):
    def call(self, inputs):
        return keras.ops.maximum(0.0, inputs)


def test_a_custom_activation_layer_gets_a_dead_fraction_in_the_logs():
    keras.utils.set_random_seed(0)
    built = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, name="k"), MyReLU(name="my_relu"),
                              keras.layers.Dense(2, activation="softmax")])
    built.get_layer("k").bias.assign(np.array([-1000.0, 0.0, -1000.0, 0.0], "float32"))
    built.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = built.fit(X, Y, epochs=1, verbose=0, callbacks=[DeadUnitMonitor(X)])
    assert history.history["dead_fraction/my_relu"] == [0.5]


def test_default_monitors_measure_in_one_pass_what_separate_monitors_measure(monkeypatch):
    from relulab.diagnostics.probe_pass import ProbePass

    passes = []
    counted = ProbePass.__call__
    monkeypatch.setattr(ProbePass, "__call__", lambda *a, **k: passes.append(1) or counted(*a, **k))
    shared = model().fit(X, Y, epochs=3, verbose=0, callbacks=default_monitors(X, Y)).history
    assert len(passes) == 3
    alone = model().fit(X, Y, epochs=3, verbose=0, callbacks=monitors()).history
    assert len(passes) == 3 + 6
    assert set(shared) == set(alone) == KEYS
    for key in KEYS:
        np.testing.assert_allclose(shared[key], alone[key], rtol=1e-5, err_msg=key)


def test_monitors_on_different_probes_do_not_share_a_pass():
    from relulab.callbacks._monitor import SharedPass

    dead, flow = DeadUnitMonitor(X[:48]), GradientFlowMonitor((X[48:], Y[48:]))
    shared = SharedPass()
    shared.join(dead)
    shared.join(flow)
    trained = model(learning_rate=0.0)
    history = trained.fit(X, Y, epochs=1, verbose=0, callbacks=[dead, flow]).history
    assert history["dead_fraction/h"] == [diagnose(trained, X[:48]).row("h").dead_fraction]
    assert history["grad_norm/h"][0] == pytest.approx(gradient_norms(trained, X[48:], Y[48:], keras.losses.get(
        "sparse_categorical_crossentropy"))["h"], rel=1e-5)
    assert dead.measurement is not flow.measurement and dead.measurement.norms is None


def test_a_convolutional_model_is_probed_on_fewer_examples_by_default():
    from relulab.diagnostics.probe import CONV_PROBE_SIZE, DEFAULT_PROBE_SIZE, default_probe_size

    keras.utils.set_random_seed(0)
    cnn = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(4, 3, activation="relu", name="c"),
                            keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax", name="out")])
    cnn.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert default_probe_size(cnn) == CONV_PROBE_SIZE and default_probe_size(model()) == DEFAULT_PROBE_SIZE
    x = RNG.uniform(0, 1, (600, 6, 6, 1)).astype("float32")
    y = np.arange(600) % 2
    dead, flow = default_monitors(x, y)
    cnn.fit(x, y, epochs=1, verbose=0, callbacks=[dead, flow])
    assert len(dead.x) == len(flow.x) == CONV_PROBE_SIZE and len(dead.measurement.outputs) == CONV_PROBE_SIZE
    assert dead.measurement is flow.measurement  # still one shared pass
    explicit = DeadUnitMonitor(x, probe_size=500)
    cnn.fit(x, y, epochs=1, verbose=0, callbacks=[explicit])
    assert len(explicit.x) == 500


def test_a_model_without_an_input_is_built_before_its_layers_are_found():
    keras.utils.set_random_seed(0)
    unbuilt = keras.Sequential([keras.layers.Dense(4, activation="relu", name="h"),
                                keras.layers.Dense(2, activation="softmax", name="out")])
    unbuilt.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = unbuilt.fit(X, Y, epochs=1, verbose=0, callbacks=default_monitors(X, Y)).history
    assert KEYS <= set(history)



def test_a_probe_that_does_not_fit_an_unbuilt_model_leaves_it_built_from_the_training_data():
    keras.utils.set_random_seed(0)
    unbuilt = keras.Sequential([keras.layers.Dense(4, activation="relu", name="h"),
                                keras.layers.Dense(2, activation="softmax", name="out")])
    unbuilt.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"x of DeadUnitMonitor must have shape \(n, 4\)"):
        unbuilt.fit(X, Y, epochs=1, verbose=0, callbacks=default_monitors(X[:, :3], Y))
    assert tuple(unbuilt.inputs[0].shape)[1:] == (4,)  # Keras built it from X, not from the probe
    unbuilt.fit(X, Y, epochs=1, verbose=0)  # and it still trains


def test_a_monitor_of_a_pair_used_alone_is_measured_alone():
    dead, flow = default_monitors(X, Y)
    trained = model()
    trained.fit(X, Y, epochs=1, verbose=0, callbacks=[dead, flow])
    assert dead.measurement is flow.measurement and dead.measurement.norms is not None
    trained.fit(X, Y, epochs=1, verbose=0, callbacks=[dead])  # its partner is not in this fit: no gradient pass
    assert dead.measurement.norms is None and dead.measurement is not flow.measurement


def test_a_long_fit_compiles_the_pass_and_logs_what_the_eager_pass_measures():
    from relulab.diagnostics.probe_pass import COMPILE_PASSES

    backend = keras.backend.backend()
    epochs = COMPILE_PASSES.get(backend, (3,))[0]  # PyTorch never compiles: any number of epochs
    dead, flow = default_monitors(X, Y)
    frozen = model(learning_rate=0.0)  # the same weights at every epoch end
    history = frozen.fit(X, Y, epochs=epochs, verbose=0, callbacks=[dead, flow]).history
    assert dead._shared._passes and all(probe_pass.compiled == (backend in COMPILE_PASSES)
                                        for probe_pass in dead._shared._passes.values())
    eager = diagnose(frozen, X, Y)
    assert history["dead_fraction/h"] == [eager.row("h").dead_fraction] * epochs
    for name in ("h", "out"):
        np.testing.assert_allclose(history[f"grad_norm/{name}"], eager.grad_norms[name], rtol=1e-5)
    np.testing.assert_allclose(history["sparsity/h"], eager.row("h").sparsity, rtol=1e-6)
    short = DeadUnitMonitor(X)
    model().fit(X, Y, epochs=max(1, epochs - 1), verbose=0, callbacks=[short])
    assert short._shared._passes and not any(probe_pass.compiled  # a short fit does not pay for a trace
                                             for probe_pass in short._shared._passes.values())
