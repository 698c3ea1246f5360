"""The training loss as evidence: the chance loss, the diverging and non-finite loss rules, and
``diagnose(history=...)`` on real ``fit`` histories, healthy ones included."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from relulab.diagnostics import diagnose
from relulab.diagnostics.advice import DIVERGED_LOSS_FACTOR, DIVERGING_REMEDIES, find_all, loss_findings
from relulab.diagnostics.diagnosis import training_losses
from relulab.diagnostics.targets import chance_loss


def _output(units, activation, *, l2=0.0):
    keras.utils.set_random_seed(0)
    regularizer = keras.regularizers.L2(l2) if l2 else None
    hidden = keras.layers.Dense(8, activation="relu", kernel_regularizer=regularizer)
    return keras.Sequential([keras.Input((4,)), hidden, keras.layers.Dense(units, activation=activation)])


@pytest.mark.parametrize("units, activation, loss, expected", [
    (10, "softmax", "sparse_categorical_crossentropy", math.log(10)),
    (4, "softmax", keras.losses.CategoricalCrossentropy(from_logits=False), math.log(4)),
    (3, None, keras.losses.SparseCategoricalCrossentropy(from_logits=True), math.log(3)),
    (1, "sigmoid", "binary_crossentropy", math.log(2)),
    (5, "sigmoid", "binary_crossentropy", math.log(2)),  # multi-label: per output, averaged
    (1, None, "mean_squared_error", None),  # regression: no yardstick
    (1, "softmax", "categorical_crossentropy", None),
])
def test_the_chance_loss_is_that_of_uniform_predictions(units, activation, loss, expected):
    chance = chance_loss(_output(units, activation), loss)
    assert chance == (None if expected is None else pytest.approx(expected, rel=1e-12))


def test_the_chance_loss_includes_the_weights_regularization_penalty_keras_reports_with_the_loss():
    model = _output(10, "softmax", l2=0.01)
    penalty = 0.01 * float(np.sum(keras.ops.convert_to_numpy(model.layers[0].kernel) ** 2))
    assert penalty > 0.01
    assert chance_loss(model, "sparse_categorical_crossentropy") == pytest.approx(math.log(10) + penalty, rel=1e-5)


def test_an_epoch_at_twice_the_chance_loss_is_diverging_and_below_it_is_not():
    chance = math.log(10)
    (finding,) = loss_findings([1.0, DIVERGED_LOSS_FACTOR * chance, 2.3], chance)
    assert finding.kind == "diverging" and finding.remedies == DIVERGING_REMEDIES
    assert "epoch 2" in finding.text and "3x the 2.3 of uniform predictions" in finding.text
    assert loss_findings([DIVERGED_LOSS_FACTOR * chance * 0.999, 1.0], chance) == []
    assert loss_findings([100.0], None) == []  # no yardstick, no verdict


def test_a_non_finite_loss_is_exploding_with_or_without_a_chance_loss():
    for history in ([2.3, math.nan], [math.inf]):
        (finding,) = loss_findings(history)
        assert finding.kind == "exploding" and finding.remedies == DIVERGING_REMEDIES
    assert "epoch 2" in loss_findings([2.3, math.nan], 2.3)[0].text


def test_the_history_is_read_from_a_keras_history_its_dict_or_numbers():
    history = keras.callbacks.History()
    history.history = {"loss": [3.0, 2.0], "val_loss": [9.0, 9.0]}
    assert training_losses(history) == [3.0, 2.0]
    assert training_losses({"loss": np.array([1.5])}) == [1.5]
    assert training_losses((1, 2)) == [1.0, 2.0]
    assert training_losses(None) == []
    assert math.isnan(training_losses([2.0, None])[1])  # JSON writes NaN as null
    with pytest.raises(TypeError, match="history of diagnose must hold the training loss.*'val_loss'"):
        training_losses({"val_loss": [1.0]})
    for bad in ("123", {"loss": "23"}, [True, False], [1.0, "2"], 3.0, object()):
        with pytest.raises(TypeError, match="history of diagnose must be a keras History"):
            training_losses(bad)


def _classifier(init_std: float | None) -> keras.Model:
    keras.utils.set_random_seed(0)
    init = "glorot_uniform" if init_std is None else keras.initializers.RandomNormal(stddev=init_std, seed=0)
    model = keras.Sequential([keras.Input((16,)), *[keras.layers.Dense(64, activation="relu", kernel_initializer=init)
                                                    for _ in range(3)], keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    return model


def test_diagnose_reads_a_fit_history_an_overshooting_start_shows_only_there():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 16)).astype("float32")
    y = (x[:, :10].argmax(axis=1)).astype("int64")
    for init_std, diverging in ((None, False), (2.0, True)):
        model = _classifier(init_std)
        history = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
        kinds = {finding.kind for finding in diagnose(model, x, y, history=history).findings}
        assert ("diverging" in kinds) is diverging, (init_std, history.history["loss"], kinds)
        assert "diverging" not in {finding.kind for finding in diagnose(model, x, y).findings}


def test_a_non_finite_loss_and_a_non_finite_gradient_are_one_exploding_finding():
    found = find_all([], 1.0, {"h": math.nan, "out": 1.0}, losses=[1.0, math.nan], chance=2.3)
    assert [f.kind for f in found] == ["exploding"] and "non-finite gradient" in found[0].text


@pytest.mark.parametrize("case", ["imbalanced binary", "imbalanced 10 classes", "l2 weight decay", "class weights"])
def test_healthy_runs_that_a_frequency_yardstick_would_call_diverging_are_not(case):
    # found by a black-box review: against the label frequencies' entropy the first three read 2.4-25x; the
    # class-weighted run reads 2.17x against uniform predictions
    rng = np.random.default_rng(2)
    x = rng.normal(size=(400, 16)).astype("float32")
    keras.utils.set_random_seed(0)
    # the weight decay's penalty is ~3 nats at the start: the reported loss is 2.3x ln 10 in epoch 1
    regularizer = keras.regularizers.L2(3e-2) if case == "l2 weight decay" else None
    weights = None
    if case == "class weights":  # 10% positives weighted 9: the reported loss is ~1.8x the unweighted one
        y, weights = (rng.uniform(size=400) < 0.1).astype("float32"), {0: 1.0, 1: 9.0}
        head, loss = keras.layers.Dense(1, activation="sigmoid"), "binary_crossentropy"
    elif case == "imbalanced binary":
        y = (rng.uniform(size=400) < 0.05).astype("float32")
        head, loss = keras.layers.Dense(1, activation="sigmoid"), "binary_crossentropy"
    else:
        y = np.where(rng.uniform(size=400) < 0.9, 0, rng.integers(1, 10, 400)) if case.startswith("imb") \
            else rng.integers(0, 10, 400)
        head = keras.layers.Dense(10, activation="softmax", kernel_regularizer=regularizer)
        loss = "sparse_categorical_crossentropy"
    hidden = [keras.layers.Dense(64, activation="relu", kernel_regularizer=regularizer) for _ in range(2)]
    model = keras.Sequential([keras.Input((16,)), *hidden, head])
    model.compile(optimizer="adam", loss=loss)
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0, class_weight=weights)
    kinds = [f.kind for f in diagnose(model, x, y, history=history).findings]
    assert "diverging" not in kinds, (history.history["loss"], kinds)
