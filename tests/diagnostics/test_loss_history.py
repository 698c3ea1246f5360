"""The training loss as evidence: the chance loss, the diverging and non-finite loss rules, and
``diagnose(history=...)`` on real ``fit`` histories."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from relulab.diagnostics import diagnose
from relulab.diagnostics.advice import DIVERGED_LOSS_FACTOR, DIVERGING_REMEDIES, loss_findings
from relulab.diagnostics.diagnosis import training_losses
from relulab.diagnostics.targets import chance_loss


@pytest.mark.parametrize("y, loss, expected", [
    (np.arange(100) % 10, "sparse_categorical_crossentropy", math.log(10)),
    (np.array([0] * 75 + [1] * 25), "sparse_categorical_crossentropy",
     -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))),
    (np.eye(4)[np.arange(40) % 4], "categorical_crossentropy", math.log(4)),
    (np.array([[1.0]] * 30 + [[0.0]] * 10), "binary_crossentropy", -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))),
    (np.array([[1.0, 0.0], [0.0, 0.0]]), "binary_crossentropy", (math.log(2) + 0.0) / 2),
])
def test_the_chance_loss_is_the_entropy_of_the_label_frequencies(y, loss, expected):
    assert chance_loss(y, loss) == pytest.approx(expected, rel=1e-12)


def test_the_chance_loss_is_unknown_for_regression_and_single_class_labels():
    assert chance_loss(np.array([[1.5], [2.5]]), "mean_squared_error") is None
    assert chance_loss(np.zeros(10, dtype=int), "sparse_categorical_crossentropy") is None
    assert chance_loss(np.zeros((0,), dtype=int), "sparse_categorical_crossentropy") is None


def test_an_epoch_at_twice_the_chance_loss_is_diverging_and_below_it_is_not():
    chance = math.log(10)
    (finding,) = loss_findings([1.0, DIVERGED_LOSS_FACTOR * chance, 2.3], chance)
    assert finding.kind == "diverging" and finding.remedies == DIVERGING_REMEDIES
    assert "epoch 2" in finding.text and "2.0x" in finding.text
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
    with pytest.raises(TypeError, match="history of diagnose must hold the training loss.*'val_loss'"):
        training_losses({"val_loss": [1.0]})
    with pytest.raises(TypeError, match="history of diagnose must be a keras History"):
        training_losses("loss")


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
