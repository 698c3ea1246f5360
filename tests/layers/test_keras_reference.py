"""relulab's layers against references no one here wrote: Keras' own activation-layer tests and harness.

1. Keras' test files for ReLU, LeakyReLU, PReLU and ELU ship inside the installed ``keras`` package. Each
   is imported, relulab's class is put in place of Keras' in that test module's namespace, and every test
   method runs. Keras pins its own error wording; relulab raises the same exception type with its own
   message, so ``assertRaisesRegex`` checks the type and that the message names the same argument.
2. Keras' ``run_layer_test`` (shape, config round trip, serialization, masking, a training step, mixed
   precision, built after instantiation) on every relulab layer with Keras-style keyword arguments,
   and on a user's subclass whose ``build`` adds a weight.

Where relulab differs from Keras on purpose, the test is listed in :data:`EXPECTED_DIFFERENCES` with the
reason; it must fail (strict xfail), so a list entry that stops being a difference is noticed.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import types
import unittest

import keras
import numpy as np
import pytest

from relulab import layers
from relulab.activations import registry

# Keras test module -> (its test class, the Keras module it imports by name, {class name: relulab class}).
KERAS_TEST_MODULES = {
    "relu_test": ("ReLUTest", "relu", {"ReLU": layers.ReLU}),
    "leaky_relu_test": ("LeakyReLUTest", "leaky_relu", {"LeakyReLU": layers.LeakyReLU}),
    "prelu_test": ("PReLUTest", "prelu", {"PReLU": layers.PReLU}),
    "elu_test": ("ELUTest", "elu", {"ELU": layers.ELU}),
}

# Every deliberate difference from Keras that one of its tests sees, with the reason. Strict xfail.
EXPECTED_DIFFERENCES = {
    "relu_test::ReLUTest::test_invalid_usage":
        "relulab allows a negative threshold (a rectifier shifted left, a common variant); Keras refuses "
        "threshold < 0. Its max_value and negative_slope cases pass.",
}

# Differences that no Keras test sees, each pinned by test_other_differences_are_as_documented.
OTHER_DIFFERENCES = {
    "negative threshold": ("ReLU(threshold=-1.0) is allowed; Keras refuses threshold < 0",
                           lambda: layers.ReLU(threshold=-1.0).threshold == -1.0),
    "cap at or below the threshold": ("ReLU(max_value=m) with m <= threshold is refused (a step with zero "
                                      "gradient); Keras accepts it", lambda: _refused(layers.ReLU, max_value=0.0)),
    "LeakyReLU default": ("LeakyReLU's default slope is 0.01 (Maas et al.); Keras' layer uses 0.3",
                          lambda: layers.LeakyReLU().negative_slope == 0.01 != keras.layers.LeakyReLU().negative_slope),
    "ReLU positional order": ("ReLU's positional order is (negative_slope, max_value, threshold), as Keras' relu "
                              "function; Keras' ReLU layer takes max_value first: pass keywords",
                              lambda: layers.ReLU(0.5).negative_slope == 0.5 and keras.layers.ReLU(0.5).max_value == 0.5),
}


def _refused(cls, **kwargs) -> bool:
    try:
        cls(**kwargs)
    except ValueError:
        return True
    return False


@pytest.mark.parametrize("difference", list(OTHER_DIFFERENCES))
def test_other_differences_are_as_documented(difference):
    _, holds = OTHER_DIFFERENCES[difference]
    assert holds()


# Arguments whose names relulab's messages must carry where Keras' pinned messages name them.
ARGUMENT_NAMES = {"max_value", "negative_slope", "threshold", "alpha", "alpha_initializer", "shared_axes"}


def _keras_tests() -> list:
    cases = []
    for module_name, (class_name, _, _) in KERAS_TEST_MODULES.items():
        module = importlib.import_module(f"keras.src.layers.activations.{module_name}")
        for method in sorted(n for n in dir(getattr(module, class_name)) if n.startswith("test")):
            test_id = f"{module_name}::{class_name}::{method}"
            marks = ([pytest.mark.xfail(strict=True, reason=EXPECTED_DIFFERENCES[test_id])]
                     if test_id in EXPECTED_DIFFERENCES else [])
            cases.append(pytest.param(test_id, marks=marks, id=test_id))
    return cases


def _same_type_naming_the_argument(case: unittest.TestCase):
    """``assertRaisesRegex`` for Keras' tests: the exception type Keras expects, and a message that names
    each argument Keras' pinned message names (relulab's wording differs and is pinned in its own tests)."""

    @contextlib.contextmanager
    def check(expected_exception, expected_regex, *args, **kwargs):
        with case.assertRaises(expected_exception) as caught:
            yield caught
        for name in ARGUMENT_NAMES & set(re.findall(r"\w+", expected_regex)):
            assert name in str(caught.exception), (name, str(caught.exception))

    return check


def test_every_keras_activation_layer_test_module_is_run():
    """The list above covers each Keras test file for a layer that relulab replaces."""
    replaced = {cls.__name__ for _, _, classes in KERAS_TEST_MODULES.values() for cls in classes.values()}
    assert replaced == {"ReLU", "LeakyReLU", "PReLU", "ELU"}
    assert set(EXPECTED_DIFFERENCES) <= {p.id for p in _keras_tests()}


@pytest.mark.parametrize("test_id", _keras_tests())
def test_keras_own_layer_tests_pass_with_relulab_classes(test_id, monkeypatch):
    module_name, class_name, method = test_id.split("::")
    module = importlib.import_module(f"keras.src.layers.activations.{module_name}")
    _, keras_module, classes = KERAS_TEST_MODULES[module_name]
    monkeypatch.setattr(module, keras_module, types.SimpleNamespace(**classes))
    case = getattr(module, class_name)(method)
    case.assertRaisesRegex = _same_type_naming_the_argument(case)
    case.setUp()
    try:
        getattr(case, method)()
    finally:
        case.doCleanups()
        keras.config.set_dtype_policy("float32")


@keras.saving.register_keras_serializable(package="relulab_tests")
class ScaledReLU(layers.ReLU):
    """A user's subclass whose ``build`` adds a weight: a learned output scale."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, inputs):
        return super().call(inputs) * self.scale


# Every relulab layer with Keras-style keyword arguments: (class, init_kwargs, run_layer_test extras).
STATELESS = {"supports_masking": True, "assert_built_after_instantiation": True,
             "expected_num_trainable_weights": 0, "expected_num_non_trainable_weights": 0}
LAYER_CASES = [
    (layers.ReLU, {"max_value": 10, "negative_slope": 1, "threshold": 0.5}, STATELESS),
    (layers.ReLU, {"threshold": -0.5}, STATELESS),
    (layers.LeakyReLU, {"negative_slope": 1}, STATELESS),
    (layers.PReLU, {"alpha_initializer": "zeros", "alpha_regularizer": "L1", "alpha_constraint": "MaxNorm",
                    "shared_axes": 1},
     {"supports_masking": True, "expected_num_trainable_weights": 1, "expected_num_losses": 1}),
    (layers.PReLU, {"alpha_initializer": 0.1}, {"supports_masking": True, "expected_num_trainable_weights": 1}),
    (layers.RReLU, {"lower": 0.1, "upper": 0.3, "seed": 1},
     {"supports_masking": True, "assert_built_after_instantiation": True, "expected_num_seed_generators": 1,
      "expected_num_trainable_weights": 0}),
    (layers.ReLU6, {}, STATELESS),
    (layers.ELU, {"alpha": 0.7}, STATELESS),
    (layers.SELU, {}, STATELESS),
    (layers.CELU, {"alpha": 2.0}, STATELESS),
    (layers.GELU, {"approximate": True}, STATELESS),
    (layers.SiLU, {}, STATELESS),
    (layers.Mish, {}, STATELESS),
    (layers.Softplus, {"beta": 2.0, "threshold": 10.0}, STATELESS),
    (ScaledReLU, {"negative_slope": 0.1}, {"supports_masking": True, "expected_num_trainable_weights": 1}),
]


class _Harness(keras.src.testing.TestCase):
    def runTest(self):  # noqa: N802 (unittest's name)
        pass


def test_run_layer_test_covers_every_relulab_layer():
    registered = {entry.layer for entry in registry.all_entries() if entry.layer is not None}
    assert registered <= {cls for cls, _, _ in LAYER_CASES}


@pytest.mark.parametrize(("cls", "init_kwargs", "extras"), LAYER_CASES,
                         ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(LAYER_CASES)])
def test_keras_run_layer_test(cls, init_kwargs, extras):
    harness = _Harness()
    harness.setUp()
    try:
        harness.run_layer_test(cls, init_kwargs=init_kwargs, input_shape=(2, 3, 4), **extras)
    finally:
        harness.doCleanups()
        keras.config.set_dtype_policy("float32")


def test_a_subclass_that_builds_a_weight_trains_saves_and_loads(tmp_path):
    layer = ScaledReLU(negative_slope=0.1)
    assert not layer.built  # as for a subclass of keras.layers.ReLU: build runs on the first input
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layer(inputs))
    assert layer.built and [w.name for w in layer.weights] == ["scale"]
    layer.scale.assign([1.0, 2.0, 3.0, 4.0])
    x = np.array([[-1.0, 1.0, -2.0, 2.0]], dtype="float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), [[-0.1, 2.0, -0.6, 8.0]], rtol=1e-6)
    model.save(tmp_path / "scaled.keras")
    loaded = keras.saving.load_model(tmp_path / "scaled.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), [[-0.1, 2.0, -0.6, 8.0]], rtol=1e-6)
    assert isinstance(loaded.layers[-1], ScaledReLU)
