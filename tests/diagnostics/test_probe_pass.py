"""One pass over the probe gives what the separate passes give: activity, gradient norms and outputs."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from relulab.diagnostics import find_sites, gradient_norms, measure_activity
from relulab.diagnostics.gradients import loss_gradients
from relulab.diagnostics.probe_pass import measure_probe, output_spread, spread_of
from relulab.diagnostics.sites import kernel_layers

RNG = np.random.default_rng(3)
X = RNG.uniform(-1, 1, (300, 6)).astype("float32")
Y = RNG.integers(0, 3, 300)
LOSS = keras.losses.get("sparse_categorical_crossentropy")


class MyReLU(keras.layers.Layer):
    """A user's rectifier, measured through its derivative."""

    def call(self, inputs):
        return ops.maximum(0.0, inputs)


def _model() -> keras.Model:
    """A rectifier with planted dead units, a user's layer, a saturated sigmoid layer and a softmax."""
    keras.utils.set_random_seed(1)
    model = keras.Sequential([
        keras.Input((6,)), keras.layers.Dense(12, activation="relu", name="relu"),
        keras.layers.Dense(8, name="pre"), MyReLU(name="mine"),
        keras.layers.Dense(8, activation="sigmoid", name="sig"), keras.layers.Dense(3, activation="softmax", name="out")])
    relu = model.get_layer("relu")
    relu.bias.assign(np.where(np.arange(12) < 4, -50.0, 0.0).astype("float32"))
    sig = model.get_layer("sig")
    sig.bias.assign(np.where(np.arange(8) < 3, 60.0, 0.0).astype("float32"))
    return model


@pytest.mark.parametrize("batch_size", [1024, 64])
def test_one_pass_measures_what_the_separate_passes_measure(batch_size):
    model = _model()
    sites = find_sites(model)
    measured = measure_probe(model, X, Y, LOSS, sites=sites, batch_size=batch_size)
    # the activity recorded under the gradient pass is what a plain forward pass counts as it runs
    assert measured.activity == measure_activity(model, X, sites, batch_size=batch_size)
    assert measured.activity["relu"].dead_units == (0, 1, 2, 3)
    assert measured.activity["sig"].saturated_units == (0, 1, 2)
    assert measured.activity["mine"].dead_fraction is not None
    # the gradients, recorded or not and batched or not, are those of the mean loss over the whole probe
    named = kernel_layers(model)
    whole, _, _ = loss_gradients(model, [layer.kernel for _, layer in named], ops.convert_to_tensor(X),
                                 ops.convert_to_tensor(Y), LOSS)
    expected = {name: float(np.linalg.norm(grad)) for (name, _), grad in zip(named, whole)}
    assert gradient_norms(model, X, Y, LOSS, batch_size=batch_size).keys() == measured.norms.keys() == expected.keys()
    for name, norm in expected.items():
        assert measured.norms[name] == pytest.approx(norm, rel=1e-5), name
    assert measured.outputs.shape == (300, 3)
    np.testing.assert_allclose(measured.outputs, ops.convert_to_numpy(model(X, training=False)), rtol=1e-5, atol=1e-7)
    assert measured.spread == pytest.approx(output_spread(model, X))


def test_without_targets_there_are_no_norms_and_without_sites_no_activity():
    model = _model()
    assert measure_probe(model, X, sites=find_sites(model)).norms is None
    only_gradients = measure_probe(model, X, Y, LOSS)
    assert only_gradients.activity == {} and set(only_gradients.norms) == {"relu", "pre", "sig", "out"}


def test_spread_is_relative_to_the_mean_and_zero_for_a_constant_output():
    assert spread_of(np.full((5, 2), 7.0)) == 0.0
    assert spread_of(np.array([[10.0], [30.0]])) == pytest.approx(10.0 / 20.0)  # std 10 over |mean| 20
    assert spread_of(np.array([[0.1], [0.3]])) == pytest.approx(0.1)  # small means count as 1
    assert np.isnan(spread_of(np.full((3, 1), np.nan)))


@pytest.mark.parametrize("batch_size", [1024, 64])
def test_the_compiled_pass_measures_what_the_eager_pass_measures(batch_size):
    from relulab.diagnostics.probe_pass import ProbePass

    model = _model()
    sites = find_sites(model)
    compiled = ProbePass(model, sites, LOSS, batch_size=batch_size, compiled=True)
    assert compiled.compiled == (keras.backend.backend() in ("tensorflow", "jax"))  # PyTorch stays eager
    for y in (Y, None):  # with and without the gradient
        eager, measured = measure_probe(model, X, y, LOSS, sites=sites, batch_size=batch_size), compiled(X, y)
        assert measured.activity.keys() == eager.activity.keys() == {"relu", "mine", "sig"}
        for name, layer in eager.activity.items():
            other = measured.activity[name]
            # unit flags exactly; shares as float32 (in the graph) against float64 (NumPy)
            assert (other.units, other.dead_units, other.saturated_units, other.finite) == \
                (layer.units, layer.dead_units, layer.saturated_units, layer.finite), name
            assert other.sparsity == pytest.approx(layer.sparsity, rel=1e-6)
            assert (other.saturated_share is None) == (layer.saturated_share is None)
            if layer.saturated_share is not None:
                assert other.saturated_share == pytest.approx(layer.saturated_share, rel=1e-6)
        assert measured.activity["relu"].dead_units == (0, 1, 2, 3)
        assert measured.activity["sig"].saturated_units == (0, 1, 2)
        if y is None:
            assert measured.norms is None
        else:
            assert measured.norms == pytest.approx(eager.norms, rel=1e-5)
        np.testing.assert_allclose(measured.outputs, eager.outputs, rtol=1e-5, atol=1e-7)
    # the weights are read at each call, not frozen into the trace
    model.get_layer("relu").bias.assign(np.zeros(12, "float32"))
    assert compiled(X, Y).activity["relu"].dead_units == measure_probe(model, X, sites=sites).activity["relu"].dead_units


def test_a_pass_is_compiled_only_when_the_fit_plans_enough_of_them():
    from relulab.diagnostics.probe_pass import COMPILE_PASSES, worth_compiling

    cnn = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                            keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    if keras.backend.backend() not in COMPILE_PASSES:
        assert not worth_compiling(cnn, 10 ** 6) and not worth_compiling(_model(), 10 ** 6)
        return
    dense, positions = COMPILE_PASSES[keras.backend.backend()]
    assert worth_compiling(cnn, positions) and not worth_compiling(cnn, positions - 1)
    assert worth_compiling(_model(), dense) and not worth_compiling(_model(), dense - 1)


def test_a_nan_unit_is_counted_alike_by_the_compiled_and_the_eager_pass():
    from relulab.diagnostics.probe_pass import ProbePass

    model = _model()
    kernel = ops.convert_to_numpy(model.get_layer("relu").kernel).copy()
    kernel[0, 5] = np.nan  # unit 5's pre-activation is NaN on every example
    model.get_layer("relu").kernel.assign(kernel)
    sites = find_sites(model)
    eager = measure_probe(model, X, sites=sites).activity["relu"]
    compiled = ProbePass(model, sites, compiled=True)(X).activity["relu"]
    assert not eager.finite and not compiled.finite
    assert compiled.dead_units == eager.dead_units == (0, 1, 2, 3, 5)  # NaN is on neither side: never active


@pytest.mark.parametrize("loss", [LOSS, keras.losses.SparseCategoricalCrossentropy()], ids=["function", "Loss"])
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("batch_size", [1024, 64])
def test_the_gradient_is_the_mean_losss_in_closed_form(batch_size, compiled, loss):
    """Softmax regression: d(mean cross-entropy)/dW = X^T (softmax(XW + b) - onehot(y)) / n, in float64 here."""
    from relulab.diagnostics.probe_pass import ProbePass

    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="softmax", name="out")])
    kernel, bias = (ops.convert_to_numpy(v).astype("float64") for v in model.get_layer("out").weights)
    logits = X.astype("float64") @ kernel + bias
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    expected = X.T.astype("float64") @ (p - np.eye(3)[Y]) / len(X)
    measured = ProbePass(model, loss_fn=loss, batch_size=batch_size, compiled=compiled)
    assert measured(X, Y).norms == {"out": pytest.approx(np.linalg.norm(expected), rel=1e-5)}
    assert measured(X, Y).norms == {"out": pytest.approx(np.linalg.norm(expected), rel=1e-5)}  # a second call
