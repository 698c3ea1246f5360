"""One spec everywhere: every registered spec resolves to one ActivationSpec that activations.get,
layers.get, the command line and the lab's grid all read, with one set of parameter names; what
activations.get returns hashes, serialises and loads in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from relulab import activations, layers
from relulab.activations import functions
from relulab.activations.activation_spec import ActivationSpec, BoundActivation

# A non-default value for every parameter of every registered activation (a new parameter needs one).
SAMPLES = {
    "negative_slope": 0.1, "max_value": 2.0, "threshold": 0.5, "alpha": 0.5, "lower": 0.1, "upper": 0.2,
    "seed": 3, "shared_axes": "all", "alpha_regularizer": "l2", "alpha_constraint": "non_neg",
    "approximate": True, "beta": 2.0,
}
SAMPLE_OVERRIDES = {("softplus", "threshold"): 10.0}


def registered_specs() -> list[str]:
    """Every registered name, and each of its parameters set away from its default."""
    specs = []
    for name in activations.available():
        specs.append(name)
        for key in activations.lookup(name).params:
            value = SAMPLE_OVERRIDES.get((name, key), SAMPLES[key])
            specs.append(f"{name}({key}={value!r})")
    return specs


SPECS = registered_specs()
X = np.linspace(-3.0, 3.0, 24).reshape(4, 6).astype("float32")


def test_every_parameter_has_a_sample():
    keys = {key for name in activations.available() for key in activations.lookup(name).params}
    assert keys <= set(SAMPLES)


@pytest.mark.parametrize("spec", SPECS)
def test_every_spec_resolves_once_and_reads_the_same_everywhere(spec):
    from relulab.cli import build_parser
    from relulab.cli.train import config_from_args
    from relulab.lab.grid import Grid

    resolved = activations.resolve(spec)
    assert activations.resolve(resolved.canonical) == resolved
    assert hash(activations.resolve(resolved.canonical)) == hash(resolved)
    # activations.get and layers.get: the same function at inference (PReLU at its initial slope)
    function = activations.get(spec)
    layer = layers.get(spec)
    expected = keras.ops.convert_to_numpy(function(keras.ops.convert_to_tensor(X)))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(X)), expected, rtol=1e-6, atol=1e-7)
    # the layer was given every parameter, under its own name for it
    if resolved.entry.layer is not None:
        config = layer.get_config()
        for key, value in resolved.kwargs.items():
            stored = config[resolved.entry.params[key].argument(key)]
            if isinstance(stored, dict):  # a regularizer or constraint, named in the spec
                kind = keras.regularizers if "regularizer" in key else keras.constraints
                stored, value = type(kind.deserialize(stored)), type(kind.get(value))
            assert (tuple(stored) if isinstance(stored, list) else stored) == value, key
    # the command line and the lab store the canonical spelling
    args = build_parser().parse_args(["train", "--activation", spec])
    assert config_from_args(args).activation == resolved.canonical
    assert Grid(activations=(spec,), seeds=(0,)).activations == (resolved.canonical,)


@pytest.mark.parametrize(("spec", "canonical"), [
    ("LeakyReLU(0.1)", "leaky_relu(negative_slope=0.1)"),
    ("leaky_relu(negative_slope=0.01)", "leaky_relu"),
    ("prelu(alpha_initializer=0.1)", "prelu(alpha=0.1)"),  # the layer's name, a documented alias
    ("prelu(0.1, shared_axes=[1])", "prelu(alpha=0.1, shared_axes=(1,))"),
    ("rrelu(seed=3)", "rrelu(seed=3)"),
])
def test_equivalent_spellings_have_one_canonical_form(spec, canonical):
    assert activations.resolve(spec).canonical == canonical
    assert layers.canonical(spec) == canonical


def test_parameterised_prelu_and_seeded_rrelu_work_as_function_and_layer():
    assert layers.get("prelu(alpha=0.1)").get_config()["alpha_initializer"] == 0.1
    assert activations.get("prelu(alpha_initializer=0.1)").params == {"alpha": 0.1}
    assert activations.get("rrelu(seed=3)") is functions.rrelu  # the seed only matters to the layer
    assert layers.get("rrelu(seed=3)").seed == 3


@pytest.mark.parametrize(("spec", "error", "match"), [
    ("prelu(slope=0.1)", TypeError, r"activation 'prelu' got an unknown argument slope=0\.1\. Allowed arguments: "
                                    r"alpha, shared_axes, alpha_regularizer, alpha_constraint \(alpha_initializer for alpha\)\."),
    ("prelu(alpha=0.1, alpha_initializer=0.2)", TypeError, r"activation 'prelu' got alpha and its alias alpha_initializer"),
    ("prelu(alpha_regularizer='nope')", ValueError, r"alpha_regularizer of activation 'prelu' must be None or the name "
                                                    r"of a Keras regularizer"),
    ("prelu(shared_axes=0)", ValueError, r"shared_axes of activation 'prelu' must be None"),
    ("rrelu(seed=-1)", ValueError, r"seed of activation 'rrelu' must be an integer >= 0 or None\. Received: seed=-1"),
    # issue 13: a cap at or below the threshold is a step with zero gradient
    ("relu(threshold=5, max_value=1)", ValueError, r"max_value of activation 'relu' must be > threshold .* "
                                                   r"Received: max_value=1\.0, threshold=5\.0"),
])
def test_bad_specs_are_refused_by_every_get(spec, error, match):
    for get in (activations.get, layers.get, activations.resolve):
        with pytest.raises(error, match=match):
            get(spec)


def test_relu_layer_refuses_a_cap_below_its_threshold():
    with pytest.raises(ValueError, match=r"max_value of ReLU must be > threshold"):
        layers.ReLU(threshold=5, max_value=1)


def test_pure_functions_do_not_check_but_get_does():
    """The documented rule: the hot-path functions compute what they are given; get() refuses it."""
    x = keras.ops.convert_to_tensor([-2.0, 3.0])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(functions.leaky_relu(x, negative_slope=-1.0)), [2.0, 3.0])
    with pytest.raises(ValueError, match=r"negative_slope of activation 'leaky_relu' must be a finite number >= 0"):
        activations.get("leaky_relu(negative_slope=-1)")
    assert "do not" in activations.__doc__ and "hot path" in activations.__doc__


@pytest.mark.parametrize("spec", [
    "relu(" + "1," * 50_000 + ")",
    "x" * 100_000,
    "leaky_relu(negative_slope='" + "a" * 900 + "')",
])
def test_a_long_spec_is_not_echoed_whole(spec):
    with pytest.raises((ValueError, TypeError)) as caught:
        activations.get(spec)
    message = str(caught.value)
    assert len(message) < 400, message
    assert "characters" in message


def test_bound_activations_hash_and_compare_by_meaning():
    a, b = activations.get("leaky_relu(negative_slope=0.1)"), activations.get("LeakyReLU(0.1)")
    assert isinstance(a, BoundActivation) and a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != activations.get("leaky_relu(negative_slope=0.2)")
    assert isinstance(activations.resolve("elu"), ActivationSpec)


SAVED = ["leaky_relu(negative_slope=0.1)", "leaky_relu", "prelu(alpha=0.1)", "celu(alpha=2.0)",
         "relu(threshold=0.5)", "softplus(beta=2.0)", "gelu(approximate=True)"]


def test_dense_with_get_activations_saves_and_loads_in_a_fresh_process(tmp_path):
    """Keras serialises ``get``'s result; a fresh process that imports only relulab and keras loads it,
    and the activation is relulab's (leaky_relu's 0.01 slope, not Keras' same-named 0.2)."""
    x = np.linspace(-3.0, 3.0, 8).reshape(2, 4).astype("float32")
    np.save(tmp_path / "x.npy", x)
    here = {}
    for index, spec in enumerate(SAVED):
        keras.utils.set_random_seed(index)
        dense = keras.layers.Dense(4, activation=activations.get(spec))
        clone = keras.layers.Dense.from_config(dense.get_config())
        assert clone.activation == dense.activation
        model = keras.Sequential([keras.Input((4,)), dense])
        model.save(tmp_path / f"{index}.keras")
        here[index] = model.predict(x, verbose=0)
    script = (
        "import json, sys, numpy as np, keras, relulab\n"
        "x = np.load(sys.argv[1] + '/x.npy'); out = {}\n"
        "for i in range(int(sys.argv[2])):\n"
        "    m = keras.saving.load_model(f'{sys.argv[1]}/{i}.keras')\n"
        "    out[str(i)] = m.predict(x, verbose=0)\n"
        "    out[f'{i}-activation'] = np.array(repr(m.layers[0].activation))\n"
        "np.savez(sys.argv[1] + '/out.npz', **out)\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path), str(len(SAVED))],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    there = np.load(tmp_path / "out.npz")
    for index, spec in enumerate(SAVED):
        np.testing.assert_array_equal(there[str(index)], here[index], err_msg=spec)
        if "(" in spec:
            assert str(there[f"{index}-activation"]) == activations.resolve(spec).canonical
    assert "relulab" in json.dumps(keras.layers.Dense(2, activation=activations.get("leaky_relu")).get_config()["activation"])
