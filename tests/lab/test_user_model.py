"""``relulab compare --model``: the user's own model in the lab (a builder function or a saved model), and
every bad ``--model`` as one line naming the flag, exit 2, nothing written."""

from __future__ import annotations

import re
import sqlite3
import textwrap

import keras
import pytest

from relulab.cli import main
from relulab.lab import user_model

TINY = ["--dataset", "digits", "--train-size", "120", "--test-size", "60", "--epochs", "1", "--seeds", "2",
        "--engine", "sequential"]

BUILDERS = textwrap.dedent('''
    import keras
    from relulab import layers

    def build(activation):
        return keras.Sequential([
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(4, 3), layers.get(activation),
            keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ])

    def sized(activation, *, input_shape, num_classes):
        return keras.Sequential([keras.Input(input_shape), keras.layers.Flatten(), keras.layers.Dense(8),
                                 layers.get(activation), keras.layers.Dense(num_classes, activation="softmax")])

    def sized_cnn(activation, *, input_shape, num_classes):  # a convolution needs the channels axis
        return keras.Sequential([keras.Input(input_shape), keras.layers.Conv2D(4, 3), layers.get(activation),
                                 keras.layers.Flatten(), keras.layers.Dense(num_classes, activation="softmax")])

    def normalised(activation):
        return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3), keras.layers.BatchNormalization(),
                                 layers.get(activation), keras.layers.Flatten(),
                                 keras.layers.Dense(10, activation="softmax")])

    def ignores(activation):
        return build("relu")

    def colour(activation):
        return keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(8),
                                 layers.get(activation), keras.layers.Dense(10, activation="softmax")])

    def three(activation):
        return keras.Sequential([keras.Input((64,)), keras.layers.Dense(8), layers.get(activation),
                                 keras.layers.Dense(3, activation="softmax")])

    def raises(activation):
        raise RuntimeError("boom")

    def nothing(activation):
        return None
''')


@pytest.fixture(autouse=True)
def builders(tmp_path, monkeypatch):
    """A module of builders importable as ``user_builders``; the source cache is cleared around each test."""
    (tmp_path / "user_builders.py").write_text(BUILDERS)
    (tmp_path / "broken_builders.py").write_text("raise ImportError('a dependency is missing')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    user_model.resolve.cache_clear()
    yield
    user_model.resolve.cache_clear()


def runs_in(out) -> list[tuple[str, str]]:
    with sqlite3.connect(out / "results.db") as connection:
        return connection.execute("SELECT activation, key FROM runs ORDER BY key").fetchall()


def test_a_builder_function_is_compared_across_activations_with_images_kept_as_images(tmp_path, capsys):
    out = tmp_path / "lab"
    assert main(["compare", *TINY, "--model", "user_builders:build", "--activations", "relu,prelu",
                 "--out", str(out)]) == 0
    assert "4 runs: 2 activations x the model user_builders:build" in capsys.readouterr().out
    rows = runs_in(out)
    assert [activation for activation, _ in rows] == ["prelu", "prelu", "relu", "relu"]
    assert all("|user_builders:build|" in key and key.endswith(("seed=0", "seed=1")) for _, key in rows)
    with sqlite3.connect(out / "results.db") as connection:  # diagnostics reach the convolutional activation
        metrics = {m for (m,) in connection.execute("SELECT DISTINCT metric FROM epochs")}
    assert any(m.startswith("dead_fraction/") for m in metrics)


@pytest.mark.parametrize("builder, note", [
    ("build", None),
    ("normalised", "note: 4 run(s) of the model trained one after another, not stacked: "),
])
def test_the_stacked_engine_stacks_a_model_it_can_and_says_once_why_not(tmp_path, capsys, builder, note):
    out = tmp_path / "lab"
    stacked = [arg for arg in TINY if arg not in ("--engine", "sequential")]
    assert main(["compare", *stacked, "--model", f"user_builders:{builder}", "--activations", "relu,tanh",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert len(runs_in(out)) == 4
    if note is None:
        assert "note:" not in printed
    else:
        assert printed.count("note:") == 1 and note in printed and "BatchNormalization" in printed


@pytest.mark.parametrize("builder", ["sized", "sized_cnn"])
def test_a_builder_is_given_the_data_shape_when_it_asks_for_it(tmp_path, builder):
    out = tmp_path / "lab"
    assert main(["compare", *TINY, "--model", f"user_builders:{builder}", "--activations", "relu,tanh",
                 "--out", str(out)]) == 0
    assert len(runs_in(out)) == 4


def test_a_saved_model_has_its_rectifiers_swapped_and_fresh_weights_per_seed(tmp_path):
    keras.utils.set_random_seed(123)  # the file's weights: not those of any run's seed
    saved = keras.Sequential([keras.Input((64,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(8), keras.layers.ReLU(),
                              keras.layers.Dense(10, activation="softmax")])
    path = tmp_path / "mine.keras"
    saved.save(path)
    source = user_model.resolve(str(path))
    kwargs = {"learning_rate": 1e-3, "input_shape": (64,), "num_classes": 10}
    leaky = source.build("leaky_relu(negative_slope=0.1)", seed=0, **kwargs)
    assert type(leaky.layers[2]).__name__ == "LeakyReLU" and leaky.layers[0].activation.__class__.__name__ == "LeakyReLU"
    assert leaky.layers[-1].activation.__name__ == "softmax"  # the output is never swapped
    again, other = source.build("relu", seed=0, **kwargs), source.build("relu", seed=1, **kwargs)
    weights = [w.numpy() for w in leaky.weights]
    assert all((a == w.numpy()).all() for a, w in zip(weights, again.weights))  # paired: same seed, same start
    assert not (weights[0] == other.weights[0].numpy()).all()
    assert not (weights[0] == saved.weights[0].numpy()).all()  # fresh, not the file's trained weights
    out = tmp_path / "lab"
    assert main(["compare", *TINY, "--model", str(path), "--activations", "relu,elu", "--out", str(out)]) == 0
    assert len(runs_in(out)) == 4


def _saved(tmp_path, model, name="plain.keras"):
    path = tmp_path / name
    model.save(path)
    return str(path)


BAD = {
    "no module": (lambda p: "no_such_module_xyz:build", r"--model no_such_module_xyz:build: module 'no_such_module_xyz' "
                                                        r"does not import \(ModuleNotFoundError"),
    "module fails": (lambda p: "broken_builders:build", r"module 'broken_builders' does not import \(ImportError: "
                                                        r"a dependency is missing\)"),
    "no function": (lambda p: "user_builders:nope", r"user_builders has no function 'nope'"),
    "not a form": (lambda p: "user_builders", r"--model must be 'package\.module:function' or a saved model file"),
    "function raises": (lambda p: "user_builders:raises", r"raises\('relu'\) raised RuntimeError: boom"),
    "returns no model": (lambda p: "user_builders:nothing", r"nothing\('relu'\) returned NoneType, not a Keras model"),
    "ignores the activation": (lambda p: "user_builders:ignores", r"gives the same model for every activation"),
    "input does not fit": (lambda p: "user_builders:colour", r"takes inputs of shape \(32, 32, 3\); the data's examples "
                                                             r"have shape \(8, 8\) \(64 values\)"),
    "output does not fit": (lambda p: "user_builders:three", r"ends in outputs of shape \(3,\); the data has 10 classes"),
    "missing file": (lambda p: str(p / "missing.keras"), r"missing\.keras: no such file"),
    "not a model file": (lambda p: (p / "junk.keras").write_text("junk") and str(p / "junk.keras"),
                         r"junk\.keras is not a Keras model that loads in safe mode"),
    "nothing to swap": (lambda p: _saved(p, keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])),
                        r"has no rectifier, saturating or smooth activation to swap"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_model_is_one_line_naming_the_flag_and_nothing_is_written(case, tmp_path, capsys):
    make, pattern = BAD[case]
    out = tmp_path / "lab"
    code = main(["compare", *TINY, "--model", make(tmp_path), "--activations", "relu,tanh", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert err.count("\n") == 1 and err.startswith("relulab compare: error: ") and "--model" in err
    assert re.search(pattern, err), err


@pytest.mark.parametrize("flag", [["--hidden", "8"], ["--depths", "2"], ["--width", "8"], ["--initializer", "he_normal"]])
def test_mlp_settings_with_a_model_are_refused(flag, tmp_path, capsys):
    code = main(["compare", *TINY, "--model", "user_builders:build", *flag, "--out", str(tmp_path / "lab")])
    assert code == 2
    assert f"--model brings its own architecture and initialisers; drop {flag[0]}." in capsys.readouterr().err
