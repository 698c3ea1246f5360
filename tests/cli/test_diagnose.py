"""``relulab diagnose``: a table or JSON for a plain-Keras model, and every bad input as one line, exit 2."""

from __future__ import annotations

import json
import re
import warnings

import keras
import numpy as np
import pytest

from relulab.cli import main

RNG = np.random.default_rng(0)


def _npz(path, features=6, n=40, nan=False, classes=3):
    x = RNG.uniform(0, 1, (n, features))
    if nan:
        x[5, 1] = np.nan
    np.savez(path, x_train=x, y_train=np.arange(n) % classes, x_test=x[:10], y_test=np.arange(10) % classes)
    return str(path)


def _model(path, *hidden_layers, features=6, compile=True):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((features,)), *hidden_layers, keras.layers.Dense(3, activation="softmax",
                                                                                         name="out")])
    if compile:
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.optimizer.build(model.trainable_variables)  # as after training: its state saves and loads
    model.save(path)
    return str(path)


def _relu_model(tmp_path, **kwargs):
    dense = keras.layers.Dense(5, activation="relu", name="h")
    return _model(tmp_path / "m.keras", dense, keras.layers.Dense(4, name="k"), keras.layers.ReLU(name="act"), **kwargs)


def test_prints_the_table_for_a_plain_keras_model(tmp_path, capsys):
    assert main(["diagnose", _relu_model(tmp_path), "--dataset", _npz(tmp_path / "d.npz"), "--probe-size", "30"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("on " + str(tmp_path / "d.npz") + " (train, 30 examples, scaling unit)")
    assert out[1].split()[:4] == ["layer", "activation", "kind", "units"]
    assert [line.split()[0] for line in out[3:5]] == ["h", "act"]
    assert "gradient ratio first/last kernel layer (h / out)" in out[5]


def test_a_model_saved_compiled_before_training_loads_without_keras_optimizer_warning(tmp_path, capsys):
    """Keras warns that it skips the optimizer's variables of such a file; diagnose does not use the optimizer."""
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.save(tmp_path / "untrained.keras")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["diagnose", str(tmp_path / "untrained.keras"), "--dataset", _npz(tmp_path / "d.npz")]) == 0
    assert not [w for w in caught if "Skipping variable loading" in str(w.message)]


def test_json_output_and_the_layer_filter(tmp_path, capsys):
    args = ["diagnose", _relu_model(tmp_path), "--data-path", _npz(tmp_path / "d.npz"), "--layer", "act", "--json",
            "--split", "test"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in data["rows"]] == ["act"]
    assert data["rows"][0]["kernel_layer"] == "k" and data["examples"] == 10 and data["note"] is None
    assert set(data["grad_norms"]) == {"h", "k", "out"}


def test_an_uncompiled_model_gets_a_loss_inferred_from_its_output_and_says_so(tmp_path, capsys):
    assert main(["diagnose", _relu_model(tmp_path, compile=False), "--dataset", _npz(tmp_path / "d.npz")]) == 0
    out = capsys.readouterr().out
    assert "loss: sparse_categorical_crossentropy (inferred from the output layer" in out and "gradient ratio" in out
    assert main(["diagnose", _relu_model(tmp_path, compile=False), "--dataset", _npz(tmp_path / "d.npz"),
                 "--loss", "categorical_crossentropy", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["loss"], data["loss_inferred"], data["note"]) == ("categorical_crossentropy", False, None)


def _h5_mlp(path, depth, loss, dead=3):
    """A Keras-2-style .h5 ReLU MLP for the digits, compiled with ``loss``; ``dead`` units per layer planted dead."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), *(keras.layers.Dense(16, activation="relu") for _ in range(depth)),
                              keras.layers.Dense(10, activation="softmax")])
    for layer in model.layers[:-1]:
        layer.bias.assign(np.r_[[-1000.0] * dead, np.zeros(16 - dead)].astype("float32"))
    model.compile(optimizer="adam", loss=loss)
    model.save(path)
    return str(path)


def test_a_keras2_h5_model_compiled_with_categorical_crossentropy_takes_integer_labels(tmp_path, capsys):
    path = _h5_mlp(tmp_path / "mlp.h5", 3, "categorical_crossentropy")
    assert main(["diagnose", path, "--dataset", "digits", "--probe-size", "100"]) == 0
    out = capsys.readouterr().out
    assert "loss: categorical_crossentropy\n" in out and "gradient ratio" in out


def test_a_one_unit_sigmoid_h5_model_takes_flat_binary_labels_and_gets_a_rectifier_first(tmp_path, capsys):
    from sklearn.datasets import make_circles

    x, y = make_circles(300, noise=0.05, factor=0.5, random_state=0)
    data = tmp_path / "circles.npz"
    np.savez(data, x_train=x.astype("float32"), y_train=y, x_test=x[:50].astype("float32"), y_test=y[:50])
    keras.utils.set_random_seed(0)
    layers = [keras.Input((2,)), *(keras.layers.Dense(16, activation="sigmoid") for _ in range(9)),
              keras.layers.Dense(1, activation="sigmoid")]
    compiled = keras.Sequential(layers)
    compiled.compile(optimizer="sgd", loss="binary_crossentropy")
    compiled.save(tmp_path / "sigmoid.h5")
    uncompiled = keras.Sequential([keras.Input((2,)), *(keras.layers.Dense(16, activation="sigmoid") for _ in range(9)),
                                   keras.layers.Dense(1, activation="sigmoid")])
    uncompiled.set_weights(compiled.get_weights())
    uncompiled.save(tmp_path / "uncompiled.h5")
    for name, loss in [("sigmoid.h5", "binary_crossentropy\n"), ("uncompiled.h5", "binary_crossentropy (inferred")]:
        assert main(["diagnose", str(tmp_path / name), "--dataset", str(data)]) == 0
        out = capsys.readouterr().out
        assert "loss: " + loss in out and "vanishing gradients" in out, out
        assert "advice 1: a rectifier with He initialisation" in out and "advice 2: batch normalisation" in out


def test_a_34_layer_report_fits_on_one_screen(tmp_path, capsys):
    # 6 of 16 planted dead in every layer: above the third at which dead units are a finding, on any backend's
    # random draw (with 3, the runs of layers past a third depend on which other units the draw kills)
    path = _h5_mlp(tmp_path / "deep.h5", 34, "categorical_crossentropy", dead=6)
    assert main(["diagnose", path, "--dataset", "digits", "--probe-size", "200"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) <= 40, "\n".join(out)
    grouped = [line for line in out if re.search(r", (\d+) layers: \d+\u2013\d+% of 16 units dead", line)]
    assert grouped and max(int(re.search(r", (\d+) layers", line)[1]) for line in grouped) >= 10, "\n".join(out)


def _not_a_model(tmp_path, name="model.keras"):
    path = tmp_path / name
    path.write_text("not a zip")
    return str(path)


def _text(path, text):
    path.write_text(text)
    return str(path)


def _with_history(tmp_path, history):
    """Arguments that diagnose the ReLU model on a small probe with ``--history history``."""
    return [_relu_model(tmp_path), "--dataset", _npz(tmp_path / "d.npz"), "--history", history]


def _no_activations(tmp_path):
    return _model(tmp_path / "linear.keras", keras.layers.Dense(4, name="lin"))


@pytest.mark.parametrize("args, message", [
    (lambda t: [_not_a_model(t), "--dataset", _npz(t / "d.npz")],
     r"model.keras is not a Keras model: a .keras file is a zip archive"),
    (lambda t: [str(t / "missing.keras"), "--dataset", "digits"], r"missing.keras: no such file"),
    (lambda t: [_no_activations(t), "--dataset", _npz(t / "d.npz")],
     r"model 'sequential.*' has no activation that relulab can measure .*"
     r"layers with other activations: out \(softmax\)"),
    (lambda t: [_relu_model(t), "--dataset", _npz(t / "d.npz", features=5)],
     r"diagnosing .*m.keras on .*d.npz \(train, 40 examples, scaling unit\): x of diagnose must have shape \(n, 6\)"),
    (lambda t: [_relu_model(t), "--dataset", _npz(t / "d.npz", nan=True)], r"NaN"),
    (lambda t: [_relu_model(t), "--dataset", _npz(t / "d.npz"), "--layer", "nope"],
     r"layers of diagnose must name measurable layers of the model: h, act. Received: layers=\['nope'\]"),
    (lambda t: [_relu_model(t)], r"give the probe data with --dataset NAME"),
    (lambda t: [_relu_model(t), "--dataset", _npz(t / "d.npz"), "--loss", "nope"],
     r"loss of diagnose must be a Keras loss"),
    (lambda t: [_relu_model(t), "--dataset", _npz(t / "d.npz", classes=5)],
     r"y of diagnose must hold class indices from 0 to 2 for this model's 3 outputs. Received: labels from 0 to 4"),
    (lambda t: [_relu_model(t), "--dataset", _npz(t / "d.npz", n=0)], r"d.npz"),
    (lambda t: [_not_a_model(t, "model.h5"), "--dataset", _npz(t / "d.npz")],
     r"model.h5 is not a Keras model that loads in safe mode"),
    (lambda t: _with_history(t, str(t / "none.csv")), r"--history .*none.csv: no such file"),
    (lambda t: _with_history(t, _text(t / "log.csv", "epoch,acc\n0,1\n")),
     r"--history .*log.csv: no 'loss' column \(CSVLogger writes epoch,loss,...\); found epoch, acc"),
    (lambda t: _with_history(t, _text(t / "h.json", '{"acc": [1]}')),
     r"--history .*h.json: not a training history; give Keras' CSVLogger file, or JSON: History.history or a list"),
    (lambda t: _with_history(t, _text(t / "h.json", "[1, ")), r"--history .*h.json: not a training history"),
    (lambda t: _with_history(t, _text(t / "h.log", '{"loss": "23"}')), r"--history .*h.log: not a training history"),
    (lambda t: _with_history(t, _text(t / "log.csv", "epoch,loss\n")), r"--history .*log.csv: holds no epoch"),
    (lambda t: _with_history(t, _text(t / "log.csv", "epoch,loss\n0,x\n")),
     r"--history .*log.csv: its 'loss' column holds a value that is not a number"),
    (lambda t: _with_history(t, str(t)), r"--history .*: not a file"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    arguments = args(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    assert main(["diagnose", *arguments]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("relulab diagnose: error: ") and err.count("\n") == 1
    assert re.search(message, err), err
    assert out == "" and sorted(tmp_path.rglob("*")) == before  # nothing printed, nothing written


def test_an_unsafe_lambda_model_is_refused_by_safe_mode(tmp_path, capsys):
    doubling = keras.layers.Lambda(lambda x: x * 2)
    path = _model(tmp_path / "lambda.keras", keras.layers.Dense(4, activation="relu"), doubling)
    assert main(["diagnose", path, "--dataset", _npz(tmp_path / "d.npz")]) == 2
    assert "safe mode" in capsys.readouterr().err


def test_probe_size_must_be_positive(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["diagnose", "m.keras", "--dataset", "digits", "--probe-size", "0"])
    assert exit_info.value.code == 2 and "must be an integer >= 1, got 0" in capsys.readouterr().err


def test_images_are_shaped_for_a_conv_model(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
                              keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    model.save(tmp_path / "conv.keras")
    assert main(["diagnose", str(tmp_path / "conv.keras"), "--dataset", "digits", "--probe-size", "50", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rows"][0]["name"] == "conv" and data["rows"][0]["units"] == 4 and data["examples"] == 50


def test_one_hot_labels_in_a_file_work_with_a_sparse_loss(tmp_path, capsys):
    x = RNG.uniform(0, 1, (40, 6))
    onehot = np.eye(3)[np.arange(40) % 3]
    np.savez(tmp_path / "onehot.npz", x_train=x, y_train=onehot, x_test=x[:10], y_test=onehot[:10])
    model = _relu_model(tmp_path)
    assert main(["diagnose", model, "--dataset", str(tmp_path / "onehot.npz"), "--json"]) == 0
    from_onehot = json.loads(capsys.readouterr().out)
    np.savez(tmp_path / "indices.npz", x_train=x, y_train=np.arange(40) % 3, x_test=x[:10], y_test=np.arange(10) % 3)
    assert main(["diagnose", model, "--dataset", str(tmp_path / "indices.npz"), "--json"]) == 0
    assert from_onehot["grad_norms"] == json.loads(capsys.readouterr().out)["grad_norms"]


def test_scaling_none_feeds_the_values_as_stored(tmp_path, capsys):
    """A model trained on raw features (around 1000) is probed with them; unit scaling would kill its units."""
    raw = 1000.0 + RNG.uniform(0, 1, (40, 6))
    np.savez(tmp_path / "raw.npz", x_train=raw, y_train=np.arange(40) % 3, x_test=raw[:10], y_test=np.arange(10) % 3)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu", name="h"),
                              keras.layers.Dense(3, activation="softmax", name="out")])
    kernel = model.get_layer("h").get_weights()[0]
    model.get_layer("h").set_weights([kernel, -np.min(raw @ kernel, axis=0) + 1e-3])  # alive on every raw example
    model.save(tmp_path / "raw.keras")
    sparsity = {}
    for scaling in ("none", "unit"):
        assert main(["diagnose", str(tmp_path / "raw.keras"), "--dataset", str(tmp_path / "raw.npz"),
                     "--scaling", scaling, "--json"]) == 0
        sparsity[scaling] = next(r for r in json.loads(capsys.readouterr().out)["rows"] if r["name"] == "h")["sparsity"]
    assert sparsity["none"] == 0.0 and sparsity["unit"] > 0.2, sparsity


def test_a_csvlogger_history_shows_a_run_that_overshot(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(256, 6)).astype("float32"), rng.integers(0, 3, 256)
    big = keras.initializers.RandomNormal(stddev=3.0, seed=0)  # logits in the hundreds: the first epoch overshoots
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(32, activation="relu", kernel_initializer=big),
                              keras.layers.Dense(32, activation="relu", kernel_initializer=big),
                              keras.layers.Dense(3, activation="softmax", name="out")])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    log = tmp_path / "training.log"
    model.fit(x, y, epochs=2, verbose=0, callbacks=[keras.callbacks.CSVLogger(str(log))])
    model.save(tmp_path / "m.keras")
    np.savez(tmp_path / "d.npz", x_train=x, y_train=y, x_test=x[:10], y_test=y[:10])
    args = ["diagnose", str(tmp_path / "m.keras"), "--dataset", str(tmp_path / "d.npz"), "--scaling", "none"]
    assert main([*args, "--history", str(log)]) == 0
    out = capsys.readouterr().out
    number = r"[\d.e+]+"
    assert re.search(rf"diverging training: the loss reached {number} in epoch \d, {number}x the 1.1 of uniform "
                     rf"predictions", out), out
    assert "a lower learning rate" in out
    assert main(args) == 0 and "diverging" not in capsys.readouterr().out  # without the history it cannot be seen


@pytest.mark.parametrize("name, text", [
    ("log.csv", "epoch;loss;val_loss\n0;1.0;1.1\n1;nan;nan\n"),  # CSVLogger(separator=";")
    ("history.txt", '{"loss": [1.0, null], "val_loss": [1.0, 1.0]}'),  # JSON by its content; null is NaN
])
def test_a_history_in_any_of_keras_forms_with_a_non_finite_epoch_is_exploding(tmp_path, capsys, name, text):
    assert main(["diagnose", *_with_history(tmp_path, _text(tmp_path / name, text))]) == 0
    assert "exploding training: the loss became nan in epoch 2" in capsys.readouterr().out
