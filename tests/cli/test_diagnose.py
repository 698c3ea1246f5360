"""``relulab diagnose``: a table or JSON for a plain-Keras model, and every bad input as one line, exit 2."""

from __future__ import annotations

import json
import re

import keras
import numpy as np
import pytest

from relulab.cli import main

RNG = np.random.default_rng(0)


def _npz(path, features=6, n=40, nan=False):
    x = RNG.uniform(0, 1, (n, features))
    if nan:
        x[5, 1] = np.nan
    np.savez(path, x_train=x, y_train=np.arange(n) % 3, x_test=x[:10], y_test=np.arange(10) % 3)
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
    assert out[0].endswith("on " + str(tmp_path / "d.npz") + " (train, 30 examples)")
    assert out[1].split()[:4] == ["layer", "activation", "kind", "units"]
    assert [line.split()[0] for line in out[3:5]] == ["h", "act"]
    assert "gradient ratio first/last kernel layer (h / out)" in out[5]


def test_json_output_and_the_layer_filter(tmp_path, capsys):
    args = ["diagnose", _relu_model(tmp_path), "--data-path", _npz(tmp_path / "d.npz"), "--layer", "act", "--json",
            "--split", "test"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in data["rows"]] == ["act"]
    assert data["rows"][0]["kernel_layer"] == "k" and data["examples"] == 10 and data["note"] is None
    assert set(data["grad_norms"]) == {"h", "k", "out"}


def test_an_uncompiled_model_is_measured_without_gradients_and_says_so(tmp_path, capsys):
    assert main(["diagnose", _relu_model(tmp_path, compile=False), "--dataset", _npz(tmp_path / "d.npz")]) == 0
    out = capsys.readouterr().out
    assert "gradients not measured: the model has no compiled loss (pass --loss)" in out
    assert main(["diagnose", _relu_model(tmp_path, compile=False), "--dataset", _npz(tmp_path / "d.npz"),
                 "--loss", "sparse_categorical_crossentropy"]) == 0
    assert "gradient ratio" in capsys.readouterr().out


def _not_a_model(tmp_path):
    path = tmp_path / "model.keras"
    path.write_text("not a zip")
    return str(path)


def _no_activations(tmp_path):
    return _model(tmp_path / "linear.keras", keras.layers.Dense(4, name="lin"))


@pytest.mark.parametrize("args, message", [
    (lambda t: [_not_a_model(t), "--dataset", _npz(t / "d.npz")],
     r"model.keras is not a Keras model that loads in safe mode"),
    (lambda t: [str(t / "missing.keras"), "--dataset", "digits"], r"missing.keras: no such file"),
    (lambda t: [_no_activations(t), "--dataset", _npz(t / "d.npz")],
     r"model 'sequential.*' has no activation that relulab can measure .*"
     r"layers with other activations: out \(softmax\)"),
    (lambda t: [_relu_model(t), "--dataset", _npz(t / "d.npz", features=5)],
     r"diagnosing .*m.keras on .*d.npz \(train, 40 examples\): x of diagnose must have shape \(n, 6\)"),
    (lambda t: [_relu_model(t), "--dataset", _npz(t / "d.npz", nan=True)], r"NaN"),
    (lambda t: [_relu_model(t), "--dataset", _npz(t / "d.npz"), "--layer", "nope"],
     r"layers of diagnose must name measurable layers of the model: h, act. Received: layers=\['nope'\]"),
    (lambda t: [_relu_model(t)], r"give the probe data with --dataset NAME"),
    (lambda t: [_relu_model(t), "--dataset", _npz(t / "d.npz"), "--loss", "nope"],
     r"loss of diagnose must be a Keras loss"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    assert main(["diagnose", *args(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("relulab diagnose: error: ") and err.count("\n") == 1
    assert re.search(message, err), err


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
