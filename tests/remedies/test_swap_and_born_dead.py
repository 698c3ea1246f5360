"""``swap_activation`` keeps every weight and changes only the rectifiers; ``born_dead_probability``
rises with depth at small width, and RAI lowers it (Lu et al. 2019)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from relulab import layers
from relulab.diagnostics import find_sites
from relulab.remedies import born_dead_probability, swap_activation

SPEC = "leaky_relu(negative_slope=0.1)"


def trained_like():
    keras.utils.set_random_seed(0)
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, activation=layers.get("prelu"), name="p")],
                             name="inner")
    inputs = keras.Input((3,))
    h = keras.layers.ReLU(name="act")(keras.layers.Dense(4, kernel_initializer="ones", name="k")(inputs))
    h = keras.layers.Dense(4, activation="tanh", name="t")(inner(keras.layers.Dense(4, activation="relu", name="d")(h)))
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="out")(h))


def _kernels(model):
    return {w.path: keras.ops.convert_to_numpy(w.value) for w in model.weights if not w.path.endswith("alpha")}


def test_every_rectifier_is_replaced_and_the_rest_is_kept():
    model = trained_like()
    swapped = swap_activation(model, SPEC)
    kinds = {s.name: s.activation.spec for s in find_sites(swapped)}
    assert kinds == {"act": SPEC, "d": SPEC, "p": SPEC, "t": "tanh"}
    old, new = _kernels(model), _kernels(swapped)
    assert old.keys() == new.keys() and all(np.array_equal(old[p], new[p]) for p in old)
    assert swapped.get_layer("out").activation is keras.activations.softmax


def test_predictions_agree_where_every_pre_activation_is_positive_and_differ_elsewhere():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu", kernel_initializer="ones"),
                              keras.layers.Dense(2)])
    swapped = swap_activation(model, SPEC)
    positive = np.random.default_rng(0).uniform(0.1, 1, (16, 3)).astype("float32")
    np.testing.assert_array_equal(model.predict(positive, verbose=0), swapped.predict(positive, verbose=0))
    assert not np.allclose(model.predict(-positive, verbose=0), swapped.predict(-positive, verbose=0))


def test_the_swapped_model_saves_and_loads(tmp_path):
    path = tmp_path / "swapped.keras"
    swapped = swap_activation(trained_like(), "prelu")
    swapped.save(path)
    loaded = keras.saving.load_model(path)
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), swapped.predict(x, verbose=0), rtol=1e-6)


def test_a_bad_spec_lists_the_valid_names():
    with pytest.raises(ValueError, match="Unknown activation 'relo'. Valid names: celu, elu"):
        swap_activation(trained_like(), "relo")


def test_born_dead_rises_with_depth_at_width_two_and_rai_lowers_it():
    shallow, deep = born_dead_probability(2, 1, seed=0), born_dead_probability(2, 10, seed=0)
    rai = born_dead_probability(2, 10, initializer="rai", seed=0)
    assert shallow < 0.05 < 0.5 < deep
    assert rai < deep / 2
    assert born_dead_probability(2, 10, seed=0) == deep  # seeded: the same draws
    assert born_dead_probability(64, 10, trials=200) == 0.0  # wide networks are not born dead


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(width=0, depth=3), ValueError, "width of born_dead_probability must be an integer >= 1"),
    (dict(width=2, depth=3, initializer="zeros"), ValueError, "initializer of born_dead_probability must be one of"),
    (dict(width=2, depth=2.5), TypeError, "depth of born_dead_probability must be an integer >= 1"),
])
def test_born_dead_arguments_are_checked(kwargs, error, match):
    with pytest.raises(error, match=match):
        born_dead_probability(**kwargs)
