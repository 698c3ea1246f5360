"""``relulab.remedies.repair``: the diagnosis names the candidates, paired seeds, chosen on held-out training data."""

from __future__ import annotations

import dataclasses
import warnings

import keras
import numpy as np
import pytest
from sklearn.datasets import make_circles

from relulab import data
from relulab.remedies import RepairResult, repair
from relulab.remedies import candidates as catalogue


def _digits():
    return data.load("digits", train_size=400, test_size=200)


def _dying_mlp(learning_rate=0.05, depth=5):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), *[keras.layers.Dense(32, activation="relu") for _ in range(depth)],
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
    return model


def circles(n=600):
    x, y = make_circles(n, noise=0.05, factor=0.5, random_state=0)
    x = x.astype("float32")
    cut = n * 3 // 4
    return data.Dataset("circles", "sklearn.datasets.make_circles", x[:cut], y[:cut].astype("int64"), x[cut:],
                        y[cut:].astype("int64"), 2, (2,))


def deep_sigmoid(depth=9):
    """The issue's second example: a deep sigmoid stack, one sigmoid output, binary cross-entropy."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), *[keras.layers.Dense(16, activation="sigmoid") for _ in range(depth)],
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    return model


def test_the_advice_names_the_candidates_original_first():
    assert catalogue.from_advice(["rectifier", "batch_norm"]) == ["original", "relu_he", "batch_norm"]
    assert catalogue.from_advice(["lower_learning_rate", "leaky_rectifier", "rai", "he_init"]) == [
        "original", "lower_lr", "leaky_relu", "prelu", "rai", "he_init"]
    assert catalogue.from_advice([]) == ["original"]


def test_candidates_that_do_not_apply_are_skipped_with_a_reason():
    sigmoid = deep_sigmoid(depth=2)
    assert catalogue.applicable(sigmoid, "leaky_relu") == "the model has no hidden rectifier to swap"
    assert catalogue.applicable(sigmoid, "relu_he") is None
    inputs = keras.Input((4,))
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu")])
    nested = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inner(inputs)))
    assert catalogue.applicable(nested, "batch_norm") == (
        "only a Sequential or functional model without nested models is rebuilt with batch normalisation")


def test_batch_norm_goes_between_each_hidden_kernel_and_its_activation():
    rebuilt = catalogue.batch_norm_model(deep_sigmoid(depth=2), seed=0)
    kinds = [type(layer).__name__ for layer in rebuilt.layers]
    assert kinds == ["Dense", "BatchNormalization", "Activation"] * 2 + ["Dense"]
    assert rebuilt.layers[-1].activation.__name__ == "sigmoid"  # the output is never changed


def test_a_functional_model_keeps_its_graph_with_batch_norm_before_each_hidden_activation():
    inputs = keras.Input((6,), name="x")
    first = keras.layers.Dense(8, activation="relu", name="first")(inputs)
    second = keras.layers.Activation("tanh", name="squash")(keras.layers.Dense(8, name="second")(first))
    joined = keras.layers.Add(name="skip")([first, second])
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(joined))
    assert catalogue.applicable(model, "batch_norm") is None
    rebuilt = catalogue.batch_norm_model(model, seed=0)
    kinds = [(type(layer).__name__, layer.name) for layer in rebuilt.layers]
    names = [name for _, name in kinds]
    # first: Dense(None) -> BN -> Activation(relu); squash: BN in front; the skip and the softmax output unchanged
    assert [kind for kind, _ in kinds].count("BatchNormalization") == 2
    assert rebuilt.get_layer("first").activation.__name__ == "linear"
    assert rebuilt.get_layer("first_activation").activation.__name__ == "relu"
    assert names.index("first") < names.index("first_activation") < names.index("skip")
    squash = rebuilt.get_layer("squash")
    assert type(squash.input._keras_history.operation).__name__ == "BatchNormalization"
    assert rebuilt.get_layer("out").activation.__name__ == "softmax"
    skip_inputs = {t._keras_history.operation.name for t in rebuilt.get_layer("skip").input}
    assert skip_inputs == {"first_activation", "squash"}  # the graph kept its branch
    assert not {id(w) for w in rebuilt.weights} & {id(w) for w in model.weights}  # nothing shared: fresh weights
    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    assert rebuilt.predict(x, verbose=0).shape == (5, 3)


def test_batch_norm_handles_shared_layers_outputs_names_and_existing_normalisation():
    inputs = keras.Input((6,))
    shared = keras.layers.Dense(6, activation="relu", name="shared")
    h = keras.layers.Dense(6, name="shared_activation")(shared(shared(inputs)))  # a name the rebuild would pick
    aux = keras.layers.Dense(1, activation="sigmoid", name="aux")(h)
    main = keras.layers.Dense(3, activation="softmax", name="main")(h)
    rebuilt = catalogue.batch_norm_model(keras.Model(inputs, {"main": main, "aux": aux}), seed=0)
    names = [layer.name for layer in rebuilt.layers]
    assert len(names) == len(set(names))
    assert sum(type(layer).__name__ == "BatchNormalization" for layer in rebuilt.layers) == 2  # one per call
    assert rebuilt.get_layer("aux").activation.__name__ == "sigmoid"  # every output head kept as it was
    assert rebuilt.get_layer("main").activation.__name__ == "softmax"
    # a separate activation with batch normalisation in front of it already gets no second one
    normalised = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, use_bias=False),
                                   keras.layers.BatchNormalization(), keras.layers.Activation("relu"),
                                   keras.layers.Dense(4), keras.layers.Activation("relu"),
                                   keras.layers.Dense(2, activation="softmax")])
    kinds = [type(layer).__name__ for layer in catalogue.batch_norm_model(normalised, seed=0).layers]
    assert kinds == ["Dense", "BatchNormalization", "Activation", "Dense", "BatchNormalization", "Activation", "Dense"]
    done = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4), keras.layers.BatchNormalization(),
                             keras.layers.Dropout(0.1), keras.layers.Activation("relu"),  # dropout looked through
                             keras.layers.Dense(2, activation="softmax")])
    assert catalogue.applicable(done, "batch_norm") == (
        "the model has batch normalisation before every hidden activation already")
    inputs = keras.Input((4,))
    normalised = keras.layers.Dropout(0.1)(keras.layers.BatchNormalization()(keras.layers.Dense(4)(inputs)))
    functional = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Activation("relu")(normalised)))
    assert catalogue.applicable(functional, "batch_norm") == (
        "the model has batch normalisation before every hidden activation already")
    # nothing to normalise, a model not built yet, channels first: each said, none raises anything else
    no_hidden = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4), keras.layers.Dense(2, activation="softmax")])
    assert catalogue.applicable(no_hidden, "batch_norm") == "the model has no hidden activation"
    unbuilt = keras.Sequential([keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2, activation="softmax")])
    assert catalogue.applicable(unbuilt, "batch_norm") == (
        "the model is not built: give it a keras.Input or call it on data first")
    first = keras.Sequential([keras.Input((3, 10)), keras.layers.Conv1D(4, 3, data_format="channels_first",
                                                                        activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    assert catalogue.applicable(first, "batch_norm").startswith("a channels_first model is not rebuilt")


def test_every_seed_starts_every_candidate_from_fresh_weights_of_the_same_draw():
    model = _dying_mlp()
    first, again = catalogue.fresh(model, 3), catalogue.fresh(model, 3)
    other = catalogue.fresh(model, 4)
    assert all(np.array_equal(a, b) for a, b in zip(first.get_weights(), again.get_weights()))
    assert not np.array_equal(first.get_weights()[0], other.get_weights()[0])
    assert not np.array_equal(first.get_weights()[0], model.get_weights()[0])
    lower = catalogue.CANDIDATES["lower_lr"].build(model, 3)
    assert all(np.array_equal(a, b) for a, b in zip(first.get_weights(), lower.get_weights()))


def test_a_dying_relu_mlp_is_repaired_by_a_lower_learning_rate(tmp_path):
    dataset = _digits()
    model = _dying_mlp(learning_rate=0.1)
    before = [w.copy() for w in model.get_weights()]
    result = repair(model, dataset, epochs=3, seeds=(0, 1), candidates=["lower_lr"], batch_size=16)
    assert isinstance(result, RepairResult)
    assert [row.name for row in result.rows] == ["original", "lower_lr"]
    assert result.best == "lower_lr"
    original, lower = result.row("original"), result.row("lower_lr")
    assert lower.test_accuracy.mean > original.test_accuracy.mean + 0.2
    assert lower.test_accuracy.n == 2 and lower.test_accuracy.low < lower.test_accuracy.mean < lower.test_accuracy.high
    assert lower.paired_difference.mean == pytest.approx(lower.test_accuracy.mean - original.test_accuracy.mean)
    assert any(f.kind == "dead" for f in result.trained_diagnosis.findings)
    # the repaired model takes the inputs as given and is the seed-0 run of the chosen candidate
    predicted = result.model.predict(dataset.x_test, verbose=0).argmax(axis=1)
    assert (predicted == dataset.y_test).mean() == pytest.approx(lower.test_accuracies[0], abs=1e-6)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # the given model is untouched
    saved = result.to_dict()
    assert saved["best"] == "lower_lr" and saved["rows"][1]["paired_difference"]["n"] == 2
    assert "lower_lr *" in result.to_text()
    # saved whole: a stacked run's optimizer never stepped, and Keras warns when it loads one saved unbuilt
    result.model.save(tmp_path / "repaired.keras")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        keras.saving.load_model(tmp_path / "repaired.keras")
    assert not [w for w in caught if "Skipping variable loading" in str(w.message)]


def test_a_deep_sigmoid_stack_gets_a_rectifier_from_its_diagnosis():
    model = deep_sigmoid()
    result = repair(model, circles(), epochs=4, seeds=(0,), candidates=None, batch_size=16)
    names = [row.name for row in result.rows]
    assert "relu_he" in names and "leaky_relu" not in names
    assert any(f.kind in ("vanishing", "saturated", "collapsed") for f in result.diagnosis.findings)
    assert result.best != "original"
    assert result.row(result.best).test_accuracy.mean > result.row("original").test_accuracy.mean + 0.1


def test_the_test_set_never_chooses():
    dataset = _digits()
    scrambled = dataclasses.replace(dataset, y_test=np.random.default_rng(0).permutation(dataset.y_test))
    runs = [repair(_dying_mlp(), d, epochs=1, seeds=(0,), candidates=["lower_lr"]) for d in (dataset, scrambled)]
    assert runs[0].best == runs[1].best
    assert runs[0].row("lower_lr").val_accuracy == pytest.approx(runs[1].row("lower_lr").val_accuracy)
    assert runs[0].row("lower_lr").test_accuracy.mean != runs[1].row("lower_lr").test_accuracy.mean


def test_bad_arguments_name_what_is_allowed():
    dataset = _digits()
    with pytest.raises(ValueError, match="candidates of repair must be names from original, relu_he"):
        repair(_dying_mlp(), dataset, candidates=["swish"])
    with pytest.raises(ValueError, match="seeds of repair must hold at least one seed, each once"):
        repair(_dying_mlp(), dataset, seeds=())
    with pytest.raises(ValueError, match=r"each once. Received: seeds=\(0, 0\)"):
        repair(_dying_mlp(), dataset, seeds=(0, 0))
    wrong = dataclasses.replace(dataset, y_train=dataset.y_train + 5, num_classes=15)
    with pytest.raises(ValueError, match=r"y of repair must hold class indices from 0 to 9"):
        repair(_dying_mlp(), wrong, epochs=1)
    narrow = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                               keras.layers.Dense(10, activation="softmax")])
    with pytest.raises(ValueError, match=r"x of repair must have shape \(n, 3\)"):
        repair(narrow, dataset, epochs=1)


def test_a_model_keras_cannot_clone_is_refused_by_name():
    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__(name="mine")
            self.hidden, self.out = keras.layers.Dense(8, activation="relu"), keras.layers.Dense(10, activation="softmax")

        def call(self, x):
            return self.out(self.hidden(x))

    model = Subclassed()
    model(np.zeros((1, 64), "float32"))
    with pytest.raises(ValueError, match="model of repair must be a Sequential or functional model that Keras can"):
        catalogue.fresh(model, 0)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="planted problem calibrated on TensorFlow: on JAX and PyTorch the same steps kill every unit "
                           "before the loss overflows (a collapsed net with a finite loss, repaired by other candidates)")
def test_a_diverging_sgd_run_is_repaired_by_a_hundredth_of_its_step():
    """Plain SGD at step 20 overflows to NaN; a tenth (2.0) still fails, a hundredth learns."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), *[keras.layers.Dense(64, activation="relu") for _ in range(3)],
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(20.0), loss="sparse_categorical_crossentropy")
    result = repair(model, _digits(), epochs=2, seeds=(0,))
    assert "lower_lr_100" in [row.name for row in result.rows], result.to_text()
    gain = result.row("lower_lr_100").test_accuracy.mean - result.row("original").test_accuracy.mean
    assert result.best == "lower_lr_100" and gain > 0.2, result.to_text()


def _adam_mlp(activation="relu"):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation=activation),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    return model


def test_runs_that_share_an_architecture_and_a_step_are_stacked_on_tensorflow_only():
    from relulab.remedies.repair import _compiled, stack_groups

    model = _adam_mlp()
    settings = dict(loss="sparse_categorical_crossentropy", learning_rate=0.01)
    jobs = [("original", 1), ("lower_lr", 0), ("lower_lr", 1), ("prelu", 0), ("prelu", 1), ("batch_norm", 0),
            ("batch_norm", 1), ("clipnorm", 0), ("clipnorm", 1), ("he_init", 0)]
    built = [_compiled(name, model, seed, **settings) for name, seed in jobs]
    groups = stack_groups(built)
    if keras.backend.backend() != "tensorflow":
        assert groups == []
        return
    # original and he_init share the architecture and step; PReLU slopes, batch norm and clipping train alone
    assert sorted(sorted(jobs[i] for i in group) for group in groups) == [
        [("he_init", 0), ("original", 1)], [("lower_lr", 0), ("lower_lr", 1)]]
    sgd = _adam_mlp()
    sgd.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="sparse_categorical_crossentropy")
    mixed = [_compiled("original", sgd, seed, **settings) for seed in (0, 1)] + [built[jobs.index(("he_init", 0))]]
    assert stack_groups(mixed) == [[0, 1]]  # SGD's runs together, not with Adam's


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the stacked engine is TensorFlow code")
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_stacked_candidate_run_is_the_run_alone(optimizer):
    from relulab.remedies.repair import _compiled, _Split, _train_all, _train_alone

    dataset = _digits()
    split = _Split(dataset.x_train[:320], dataset.y_train[:320], dataset.x_train[320:], dataset.y_train[320:])
    test = (dataset.x_test, dataset.y_test)
    model = _adam_mlp()
    if optimizer == "sgd":
        model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="sparse_categorical_crossentropy")
    settings = dict(loss="sparse_categorical_crossentropy", learning_rate=0.01, epochs=2, batch_size=16)
    jobs = [("lower_lr", 0), ("lower_lr", 1), ("he_init", 2)]
    stacked = _train_all(jobs, model, split, test, settings, None)
    for (name, seed), run in zip(jobs, stacked):
        alone = _train_alone(_compiled(name, model, seed, loss=settings["loss"], learning_rate=0.01), seed, split, test,
                             epochs=2, batch_size=16, callbacks=[])
        np.testing.assert_allclose(run["train_losses"], alone["train_losses"], rtol=1e-3, err_msg=name)
        assert abs(run["test_accuracy"] - alone["test_accuracy"]) <= 2.01 / len(dataset.x_test), name
        # the trained weights came back into the candidate's Keras model, which predicts as recorded
        predicted = run["model"].predict(dataset.x_test, verbose=0).argmax(axis=1)
        assert (predicted == dataset.y_test).mean() == pytest.approx(run["test_accuracy"], abs=1e-6)
        for mine, theirs in zip(run["model"].get_weights(), alone["model"].get_weights()):
            assert np.abs(mine - theirs).max() < 1e-2
