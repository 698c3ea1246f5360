"""The contract every relulab layer keeps, checked by one harness: a new layer is one line in SPECS.

Shape, values against the pure function, config round trip, `.keras` save and load in a fresh Python
process that imports only relulab (as a layer and as `Dense(activation=...)`), one training step, the
float16/bfloat16/float32/float64 dtypes and the mixed_float16 policy.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from relulab import activations, layers

SPECS = [
    "relu",
    "relu(negative_slope=0.1, max_value=2.0, threshold=0.5)",
    "leaky_relu",
    "leaky_relu(negative_slope=0.1)",
    "prelu",
    "prelu(shared_axes='all')",
    "rrelu(seed=3)",
    "relu6",
    "elu(alpha=0.5)",
    "selu",
    "celu(alpha=2.0)",
    "gelu(approximate=True)",
    "silu",
    "mish",
    "softplus(beta=2.0)",
]
X = np.linspace(-3.0, 3.0, 2 * 3 * 6).reshape(2, 3, 6).astype("float32")
KERAS_BASE_CONFIG = {"name", "trainable", "dtype"}


def _function_spec(spec: str) -> str:
    """The pure-function spec that the layer must equal at inference (layer-only arguments dropped)."""
    return {"rrelu(seed=3)": "rrelu", "prelu(shared_axes='all')": "prelu"}.get(spec, spec)


def _model(spec: str, *, as_dense_activation: bool) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3, 6))
    if as_dense_activation:
        hidden = keras.layers.Dense(6, activation=layers.get(spec))(inputs)
    else:
        hidden = layers.get(spec)(keras.layers.Dense(6)(inputs))
    return keras.Model(inputs, keras.layers.Dense(2)(hidden))


@pytest.mark.parametrize("spec", SPECS)
def test_shape_and_values_equal_the_pure_function(spec):
    layer = layers.get(spec)
    y = keras.ops.convert_to_numpy(layer(X))
    assert y.shape == X.shape
    assert layer.compute_output_shape(X.shape) == X.shape
    expected = keras.ops.convert_to_numpy(activations.get(_function_spec(spec))(keras.ops.convert_to_tensor(X)))
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("spec", SPECS)
def test_config_holds_exactly_the_constructor_arguments_and_round_trips(spec):
    layer = layers.get(spec)
    config = layer.get_config()
    arguments = set(inspect.signature(type(layer).__init__).parameters) - {"self", "kwargs"}
    assert set(config) == arguments | KERAS_BASE_CONFIG
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(clone(X)), keras.ops.convert_to_numpy(layer(X)))


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    """Every spec saved twice (a layer, and Dense's activation), predicted here and, once for all, in a
    fresh process that imports only relulab."""
    folder = tmp_path_factory.mktemp("saved")
    paths, here = {}, {}
    for index, spec in enumerate(SPECS):
        for form in (False, True):
            model = _model(spec, as_dense_activation=form)
            path = folder / f"{index}-{int(form)}.keras"
            model.save(path)
            paths[str(path)] = (spec, form)
            here[str(path)] = keras.ops.convert_to_numpy(model.predict(X, verbose=0))
    script = (
        "import json, sys, numpy as np, keras, relulab\n"
        "x = np.load(sys.argv[1]); out = {}\n"
        "for path in json.loads(sys.argv[2]):\n"
        "    out[path] = keras.saving.load_model(path).predict(x, verbose=0)\n"
        "np.savez(sys.argv[3], **{str(i): out[p] for i, p in enumerate(json.loads(sys.argv[2]))})\n"
    )
    np.save(folder / "x.npy", X)
    ordered = list(paths)
    result = subprocess.run(
        [sys.executable, "-c", script, str(folder / "x.npy"), json.dumps(ordered), str(folder / "out.npz")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = np.load(folder / "out.npz")
    there = {path: loaded[str(i)] for i, path in enumerate(ordered)}
    return {paths[p]: (here[p], there[p]) for p in ordered}


@pytest.mark.parametrize("form", [False, True], ids=["layer", "dense_activation"])
@pytest.mark.parametrize("spec", SPECS)
def test_keras_file_loads_in_a_fresh_process_with_identical_predictions(saved_models, spec, form):
    here, there = saved_models[(spec, form)]
    np.testing.assert_array_equal(there, here)


@pytest.mark.parametrize("spec", SPECS)
def test_one_training_step_updates_every_weight(spec):
    model = _model(spec, as_dense_activation=False)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    before = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    y = np.ones((2, 3, 2), dtype="float32")
    loss = float(model.train_on_batch(X, y))
    assert np.isfinite(loss)
    for old, new in zip(before, model.trainable_weights):
        assert not np.array_equal(old, keras.ops.convert_to_numpy(new)), f"weight {new.path} did not change"
    assert float(model.train_on_batch(X, y)) < loss


TOLERANCE = {"float16": 2e-3, "bfloat16": 2e-2, "float32": 1e-6, "float64": 1e-12}


@pytest.mark.parametrize("dtype", list(TOLERANCE))
@pytest.mark.parametrize("spec", SPECS)
def test_every_float_dtype(spec, dtype):
    if dtype == "float64" and keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            pytest.skip("JAX computes float64 as float32 unless JAX_ENABLE_X64=1")
    layer = layers.get(spec, dtype=dtype)
    y = layer(keras.ops.convert_to_tensor(X, dtype=dtype))
    assert keras.backend.standardize_dtype(y.dtype) == dtype
    expected = keras.ops.convert_to_numpy(activations.get(_function_spec(spec))(keras.ops.convert_to_tensor(X, dtype="float64")))
    actual = keras.ops.convert_to_numpy(keras.ops.cast(y, "float64"))
    np.testing.assert_allclose(actual, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


@pytest.mark.parametrize("spec", SPECS)
def test_mixed_float16_policy_computes_in_float16_and_keeps_float32_weights(spec):
    keras.config.set_dtype_policy("mixed_float16")
    layer = layers.get(spec)
    y = layer(keras.ops.convert_to_tensor(X, dtype="float16"))
    assert keras.backend.standardize_dtype(y.dtype) == "float16"
    assert all(w.dtype == "float32" for w in layer.weights)
    model = _model(spec, as_dense_activation=True)
    model.compile(optimizer="adam", loss="mse")
    assert np.isfinite(float(model.train_on_batch(X, np.ones((2, 3, 2), dtype="float32"))))
