"""``relulab repair``: the repaired model, the table and the diagnosis; never the original; bad input: one line."""

from __future__ import annotations

import csv
import json
import os
import re

import keras
import numpy as np
import pytest

from relulab.cli import main
from relulab.cli.repair import FILES

RNG = np.random.default_rng(0)


def _npz(path, features=6, n=80, nan=False, classes=3, labels_up_to=None):
    x = RNG.uniform(0, 1, (n, features))
    y = (x[:, 0] * classes).astype(int).clip(0, classes - 1)  # learnable
    if nan:
        x[5, 1] = np.nan
    if labels_up_to is not None:
        y[-1] = labels_up_to
    np.savez(path, x_train=x, y_train=y, x_test=x[:20], y_test=y[:20])
    return str(path)


def _model(path, features=6):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((features,)), keras.layers.Dense(8, activation="relu", name="h"),
                              keras.layers.Dense(3, activation="softmax", name="out")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)  # as after training: its state saves and loads
    model.save(path)
    return path


def _args(model, data, out, *extra):
    return ["repair", str(model), "--dataset", data, "--epochs", "1", "--seeds", "2", "--batch-size", "16",
            "--out", str(out), *extra]


def test_writes_the_repaired_model_the_table_and_the_diagnosis_and_never_the_original(tmp_path, capsys):
    model = _model(tmp_path / "m.keras")
    before, mtime = model.read_bytes(), os.stat(model).st_mtime_ns
    out = tmp_path / "fixed"
    assert main(_args(model, _npz(tmp_path / "d.npz"), out, "--epochs", "2")) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert model.read_bytes() == before and os.stat(model).st_mtime_ns == mtime
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].split()[:3] == ["candidate", "test", "accuracy"]
    assert "relulab repair: 100% (" in captured.err and ", ETA " in captured.err
    rows = list(csv.DictReader(open(out / "repair.csv")))
    assert rows[0]["candidate"] == "original" and rows[0]["seeds"] == "2"
    table = json.loads((out / "repair.json").read_text())
    assert table["best"] in [row["candidate"] for row in rows] and len(table["rows"][0]["test_accuracies"]) == 2
    config = json.loads((out / "config.json").read_text())
    assert config["command"][:2] == ["relulab", "repair"] and config["best"] == table["best"]
    assert json.loads((out / "diagnosis.json").read_text())["model"]["loss"] == "sparse_categorical_crossentropy"
    assert "layer" in (out / "diagnosis.txt").read_text()
    repaired = keras.saving.load_model(out / "model.keras")
    x = np.load(tmp_path / "d.npz")["x_test"].astype("float32")  # the inputs as the user feeds them
    assert repaired.predict(x, verbose=0).shape == (20, 3)


def test_an_out_folder_holding_other_files_is_refused_and_left_alone(tmp_path, capsys):
    model = _model(tmp_path / "m.keras")
    out = tmp_path / "taken"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(_args(model, _npz(tmp_path / "d.npz"), out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out" in err[0] and "holds other files (notes.txt)" in err[0]
    assert [p.name for p in out.iterdir()] == ["notes.txt"] and (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("make, message", [
    (lambda t: ("notamodel", _npz(t / "d.npz")), r"is not a Keras model"),
    (lambda t: ("model", _npz(t / "d.npz", features=5)), r"x of repair must have shape \(n, 6\)"),
    (lambda t: ("model", _npz(t / "d.npz", labels_up_to=7)), r"class indices from 0 to 2"),
    (lambda t: ("model", _npz(t / "d.npz", nan=True)), r"NaN"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, make, message):
    kind, data = make(tmp_path)
    if kind == "model":
        model = _model(tmp_path / "m.keras")
    else:
        model = tmp_path / "m.keras"
        model.write_text("not a model")
    out = tmp_path / "fixed"
    assert main(_args(model, data, out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("relulab repair: error: ")
    assert re.search(message, err[0]), err[0]
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".fixed")] == []


def test_the_repaired_model_takes_the_values_as_stored_with_scaling_none(tmp_path):
    raw = tmp_path / "raw.npz"
    x = RNG.uniform(0, 100, (80, 6))
    y = (x[:, 0] / 100 * 3).astype(int).clip(0, 2)
    np.savez(raw, x_train=x, y_train=y, x_test=x[:40], y_test=y[:40])
    out = tmp_path / "fixed"
    assert main(["repair", str(_model(tmp_path / "m.keras")), "--data-path", str(raw), "--epochs", "2", "--seeds", "1",
                 "--scaling", "none", "--out", str(out)]) == 0
    table = json.loads((out / "repair.json").read_text())
    chosen = next(row for row in table["rows"] if row["name"] == table["best"])
    repaired = keras.saving.load_model(out / "model.keras")
    accuracy = (repaired.predict(x[:40].astype("float32"), verbose=0).argmax(axis=1) == y[:40]).mean()
    assert accuracy == pytest.approx(chosen["test_accuracies"][0], abs=1e-6)
    assert json.loads((out / "config.json").read_text())["scaling"] == "none"
