"""``AutoRepair``: planted problems are detected in the first epochs and repaired in place; healthy runs untouched."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from relulab import data
from relulab.callbacks import AutoRepair, AutoRepairWarning
from relulab.training import fit


@pytest.fixture(scope="module")
def digits():
    return data.load("digits", train_size=600, test_size=300)


def _mlp(optimizer, *, bias=0.0, depth=4, activation="relu", width=32):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((64,)),
        *[keras.layers.Dense(width, activation=activation, bias_initializer=keras.initializers.Constant(bias))
          for _ in range(depth)],
        keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _both(make, dataset, epochs=3):
    """Test accuracy without and with AutoRepair (same seed), the callback and the repaired run's history."""
    plain = fit(make(), dataset, seed=0, epochs=epochs, batch_size=32)
    autorepair = AutoRepair(dataset.x_train, dataset.y_train, probe_size=256, verbose=False)
    repaired = fit(make(), dataset, seed=0, epochs=epochs, batch_size=32, callbacks=[autorepair])
    return plain, repaired, autorepair


def test_a_healthy_training_is_left_alone(digits):
    plain, watched, autorepair = _both(lambda: _mlp(keras.optimizers.Adam(1e-3)), digits)
    assert autorepair.actions == []
    assert watched.history["autorepair_actions"] == [0.0, 0.0, 0.0]
    assert watched.history["loss"] == pytest.approx(plain.history["loss"])


# The planted problems' numbers were calibrated on TensorFlow. On PyTorch the repaired born-dead run reaches
# ~0.33 in these 4 epochs (not +0.3 over 0.11); on JAX and PyTorch the huge SGD step first shows as a
# collapsed signal at the end of epoch 1 (the loss has not yet grown 10x within a batch), so AutoRepair
# applies the collapsed remedy instead: a known difference, left open in issue 11's note.
ON_TENSORFLOW = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                   reason="planted problem calibrated on TensorFlow (see the comment above)")


@pytest.mark.skipif(keras.backend.backend() == "torch", reason="planted problem calibrated on TensorFlow")
def test_units_born_dead_by_a_negative_bias_are_reinitialised(digits):
    plain, repaired, autorepair = _both(lambda: _mlp(keras.optimizers.Adam(1e-3), bias=-1.0), digits)
    assert [a["problem"] for a in autorepair.actions] in (["collapsed"], ["dying"])
    assert autorepair.actions[0]["epoch"] == 1 and "He normal" in autorepair.actions[0]["remedy"]
    assert "learning rate" not in autorepair.actions[0]["remedy"]  # dead at the start: the step is not to blame
    assert repaired.test_accuracy > plain.test_accuracy + 0.3
    assert repaired.history["autorepair_actions"][-1] == 1.0


def test_units_killed_by_a_huge_learning_rate_get_fresh_weights_and_a_smaller_step(digits):
    plain, repaired, autorepair = _both(lambda: _mlp(keras.optimizers.Adam(0.1)), digits)
    first = autorepair.actions[0]
    assert first["problem"] == "dying" and "% dead" in first["evidence"]
    assert "learning rate 0.1 -> 0.01" in first["remedy"]
    assert repaired.test_accuracy > plain.test_accuracy + 0.2


@ON_TENSORFLOW
def test_an_exploding_loss_restores_the_initial_weights_lowers_the_step_and_clips(digits):
    plain, repaired, autorepair = _both(lambda: _mlp(keras.optimizers.SGD(10.0)), digits)
    first = autorepair.actions[0]
    assert first["problem"] in ("nan", "exploding") and first["epoch"] == 1 and first["batch"] is not None
    assert "restored the initial weights" in first["remedy"] and "clipnorm=1" in first["remedy"]
    assert repaired.model.optimizer.clipnorm == 1.0
    assert repaired.test_accuracy > plain.test_accuracy + 0.2
    assert np.isfinite(repaired.history["loss"][-1])


def test_vanishing_gradients_are_reinitialised_with_a_warning(digits):
    keras.utils.set_random_seed(0)
    model = _mlp(keras.optimizers.SGD(0.01), depth=10, activation="sigmoid", width=16)
    autorepair = AutoRepair(digits.x_train, digits.y_train, probe_size=128, patience=1, verbose=False)
    with pytest.warns(AutoRepairWarning, match="cannot be swapped in place"):
        fit(model, digits, seed=0, epochs=1, batch_size=64, callbacks=[autorepair])
    assert [a["problem"] for a in autorepair.actions] == ["vanishing"]


def test_bad_arguments_name_what_is_allowed(digits):
    with pytest.raises(ValueError, match="patience of AutoRepair must be"):
        AutoRepair(digits.x_train, patience=0)
    with pytest.raises(ValueError, match=r"x of AutoRepair must have shape \(n, 3\)"):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(digits.x_train[:4, :3], digits.y_train[:4] % 2, callbacks=[AutoRepair(digits.x_train)], verbose=0)
