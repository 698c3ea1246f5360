"""The stacked engine: a run inside a stack is the run alone; every run reported once; diagnostics; fallback."""

from __future__ import annotations

import math
from types import SimpleNamespace

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

from relulab import training
from relulab.activations import registry
from relulab.lab.stacked import activations as stack_activations
from relulab.lab.stacked import diagnostics as diag
from relulab.lab.engine import SequentialEngine
from relulab.lab.grid import RunSpec
from relulab.lab.stacked.data import StackData
from relulab.lab.stacked.activations import LayerActivations, groups_of, unstackable_reason
from relulab.lab.stacked.engine import StackedEngine, balanced_chunks
from relulab.layers.base import ActivationLayer


def digits(train: int = 1347, test: int = 450):
    """scikit-learn's digits in [0, 1]; 1347 = 42 * 32 + 3, so every epoch ends with a batch of 3."""
    bunch = load_digits()
    index = np.random.default_rng(0).permutation(len(bunch.target))
    x, y = (bunch.data[index] / 16.0).astype(np.float32), bunch.target[index].astype(np.int64)
    return SimpleNamespace(x_train=x[:train], y_train=y[:train], x_test=x[train:train + test],
                           y_test=y[train:train + test], input_shape=(64,), num_classes=10)


def run(activation: str = "relu", seed: int = 0, *, hidden=(24, 12), learning_rate: float = 1e-3,
        initializer: str = "glorot_uniform", epochs: int = 3) -> RunSpec:
    return RunSpec(activation, tuple(hidden), learning_rate, seed, initializer, epochs, 32)


def alone(spec: RunSpec, data) -> tuple[dict[str, list[float]], keras.Model]:
    """The reference: the one training loop (``relulab train``'s, the sequential engine's) on this run."""
    result = training.train(spec.train_config(monitor=False), data)
    return result.history, result.model


STACK = [run("relu", 1), run("tanh", 1), run("prelu", 0), run("leaky_relu(negative_slope=0.1)", 2),
         run("relu", 2, initializer="he_normal"), run("elu", 0), run("rrelu", 1), run("sigmoid", 2), run("relu", 0),
         run("relulab.lab.article:MyReLU", 1)]  # a custom layer class without weights
FAST = [run("relu", 0, learning_rate=3e-3), run("tanh", 0, learning_rate=3e-3)]


@pytest.fixture(scope="module")
def data():
    return digits()


@pytest.fixture(scope="module")
def trained(data):
    """Both stacks trained once: ``{key: (result, stack, position in the stack)}``."""
    engine = StackedEngine()
    stacks, rest = engine.plan(STACK + FAST)
    assert sorted(map(len, stacks)) == [len(FAST), len(STACK)] and not rest
    found = {}
    for specs in stacks:
        results, stack = engine.train_stack(specs, StackData.from_dataset(data), diagnostics=False)
        found.update({r.spec.key: (r, stack, i) for i, r in enumerate(results)})
    return found


@pytest.mark.parametrize("spec", [s for s in STACK if s.activation != "rrelu"] + FAST[:1], ids=lambda s: s.key)
def test_a_run_in_a_stack_is_the_run_alone(spec, data, trained):
    result, stack, position = trained[spec.key]
    expected, model = alone(spec, data)
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(result.history[key], expected[key], rtol=1e-4, atol=1e-5, err_msg=key)
    for key in ("accuracy", "val_accuracy"):  # at most one example decided differently
        np.testing.assert_allclose(result.history[key], expected[key], atol=1.01 / len(data.x_test), err_msg=key)
    weights = stack.weights(position)
    reference = {w.path.replace("/p_re_lu", "/").split("/")[0] + "/" + w.path.rsplit("/", 1)[-1]: np.asarray(w)
                 for w in model.weights}
    assert set(weights) == set(reference)
    # Most weights agree to float precision. A pre-activation within rounding of the kink can fall on the
    # other side in one computation, and Adam's normalised step turns that into differences of the
    # order of the learning rate in a few weights, and smaller ones after: bound them by 2 * lr (a wrong
    # order or initialisation moves the median weight by more than 1e-3).
    for key, value in weights.items():
        difference = np.abs(value - reference[key].reshape(value.shape))
        assert np.median(difference) < 1e-4 and difference.max() < 2 * spec.learning_rate, key
    assert result.test_accuracy == result.history["val_accuracy"][-1]


def test_rrelu_runs_are_seeded_and_learn(data, trained):
    result, _, _ = trained[run("rrelu", 1).key]
    assert result.history["loss"][-1] < result.history["loss"][0]
    again, _ = StackedEngine().train_stack([run("rrelu", 1), run("relu", 3)], StackData.from_dataset(data),
                                           diagnostics=False)
    assert again[0].history == result.history  # same draws, whatever the companions


def test_rrelu_slopes_depend_only_on_the_run():
    groups = groups_of(["rrelu", "rrelu"])
    z = -tf.ones((2, 64, 8))
    pair = LayerActivations(groups, layer=0, seeds=[3, 4], alphas={})(z, training=True, step=tf.constant(5))
    lone = LayerActivations(groups_of(["rrelu"]), layer=0, seeds=[4], alphas={})(z[:1], training=True,
                                                                                    step=tf.constant(5))
    slopes = -pair.numpy()
    np.testing.assert_array_equal(slopes[1], -lone.numpy()[0])
    assert 1 / 8 <= slopes.min() and slopes.max() <= 1 / 3 and not np.array_equal(slopes[0], slopes[1])
    mean = LayerActivations(groups, layer=0, seeds=[3, 4], alphas={})(z, training=False)
    np.testing.assert_allclose(-mean.numpy(), (1 / 8 + 1 / 3) / 2, rtol=1e-6)


def test_every_run_is_reported_once_and_progress_counts_every_step():
    data = digits(train=300, test=100)
    runs = [run(a, s, hidden=(16,), epochs=2) for a in ("relu", "tanh") for s in (0, 1)]
    runs += [run("relu", 0, hidden=(8,), epochs=1)]  # alone with its architecture: the fallback trains it
    seen, steps = [], []
    StackedEngine().train(runs, data, on_result=seen.append, on_progress=steps.append, diagnostics=False)
    assert sorted(r.spec.key for r in seen) == sorted(s.key for s in runs)
    assert sum(steps) == sum(math.ceil(300 / 32) * s.epochs for s in runs)
    for result in seen:
        assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert all(len(values) == result.spec.epochs for values in result.history.values())


def test_diagnostics_keys_follow_the_activation_kind(data):
    specs = [run(a, 0, epochs=1) for a in ("relu", "relu", "tanh", "elu", "linear")]
    specs[1] = run("relu", 1, epochs=1)
    results, _ = StackedEngine().train_stack(specs, StackData.from_dataset(data))
    layers = ("dense_1", "dense_2")
    common = {"loss", "accuracy", "val_loss", "val_accuracy", "grad_ratio", "grad_norm/output",
              *(f"grad_norm/{name}" for name in layers)}
    by_kind = {
        "relu": {f"{k}/{n}" for k in ("dead_fraction", "sparsity") for n in layers},
        "tanh": {f"{k}/{n}" for k in ("saturation", "sparsity") for n in layers},
        "elu": {f"sparsity/{n}" for n in layers},
        "linear": set(),
    }
    for result in results:
        history = result.history
        assert set(history) == common | by_kind[result.spec.activation], result.spec.key
        ratio = history["grad_norm/dense_1"][0] / history["grad_norm/output"][0]
        assert history["grad_ratio"][0] == pytest.approx(ratio)
        fractions = [v[0] for k, v in history.items() if k.split("/")[0] in ("dead_fraction", "sparsity", "saturation")]
        assert all(0.0 <= f <= 1.0 for f in fractions)


def test_zero_inputs_plant_dead_relu_units():
    """With every input 0 a ReLU unit's pre-activation is its bias, 0, which never moves: all dead."""
    data = digits(train=200, test=50)
    data.x_train = np.zeros_like(data.x_train)
    results, _ = StackedEngine().train_stack([run("relu", 0, epochs=2), run("relu", 1, epochs=2)],
                                             StackData.from_dataset(data))
    for result in results:
        assert result.history["dead_fraction/dense_1"] == [1.0, 1.0]
        assert result.history["sparsity/dense_2"] == [1.0, 1.0]
        assert result.history["grad_norm/dense_1"] == [0.0, 0.0]


def reference_fractions(pre, out, threshold, max_value, lower, upper):
    """NumPy, one run and unit at a time."""
    runs, _, units = pre.shape
    dead, saturated = np.zeros(runs), np.zeros(runs)
    for k in range(runs):
        for u in range(units):
            dead[k] += all(p <= threshold[k] or p >= max_value[k] for p in pre[k, :, u]) / units
            tolerance = 0.01 * (upper[k] - lower[k])
            saturated[k] += all(o <= lower[k] + tolerance or o >= upper[k] - tolerance for o in out[k, :, u]) / units
    return dead, saturated, (out == 0).mean(axis=(1, 2))


def test_unit_fractions_match_numpy_on_planted_units():
    rng = np.random.default_rng(1)
    pre = rng.normal(size=(4, 50, 10)).astype(np.float32)
    pre[0, :, :3] = -np.abs(pre[0, :, :3])  # 3 dead ReLU units
    pre[0, :, 3] = 0.0  # dead at the kink too
    pre[1, :, 0] = np.where(rng.random(50) < 0.5, -1.0, 7.0)  # ReLU6: flat on both sides
    pre[2, :, :2] = 9.0 * np.sign(pre[2, :, :2])  # tanh: saturated at either asymptote
    out = np.stack([np.maximum(pre[0], 0), np.clip(pre[1], 0, 6), np.tanh(pre[2]), 1 / (1 + np.exp(-pre[3]))])
    bounds = np.array([[0, np.inf, np.nan, np.nan], [0, 6, np.nan, np.nan], [np.nan, np.nan, -1, 1],
                       [np.nan, np.nan, 0, 1]], np.float32).T
    got = [np.asarray(v) for v in diag.unit_fractions(tf.constant(pre), tf.constant(out), *bounds)]
    expected = reference_fractions(pre, out, *bounds)
    for value, reference in zip(got, expected):
        np.testing.assert_allclose(value, reference, atol=1e-6)
    assert got[0][0] == pytest.approx(0.4) and got[0][1] == pytest.approx(0.1) and got[1][2] == pytest.approx(0.2)


def test_probe_is_spread_over_the_training_set():
    assert diag.probe_indices(5, 1024).tolist() == [0, 1, 2, 3, 4]
    index = diag.probe_indices(60000)
    assert len(index) == 1024 and index[0] == 0 and index[-1] == 59999


def test_plan_groups_stackable_runs_and_keeps_activations_contiguous():
    runs = [run(a, s) for s in (0, 1, 2) for a in ("relu", "tanh", "prelu")] + [run("relu", 0, hidden=(5,))]
    runs += [run("tanh", s, learning_rate=1e-2) for s in (0, 1)]
    stacks, rest = StackedEngine(max_stack=4).plan(runs)
    assert [len(s) for s in stacks] == [3, 3, 3, 2] and rest == [run("relu", 0, hidden=(5,))]
    order = [s.activation for stack in stacks[:3] for s in stack]
    assert order == ["relu"] * 3 + ["tanh"] * 3 + ["prelu"] * 3
    assert balanced_chunks(list(range(33)), 32) == [list(range(17)), list(range(17, 33))]


def test_a_stack_holds_no_more_runs_than_fit_in_memory(monkeypatch):
    from relulab.lab.stacked.engine import memory_fits

    runs = [run(a, s) for s in range(4) for a in ("relu", "tanh")]
    stacks, _ = StackedEngine().plan(runs, fits=lambda spec: 3)
    assert [len(s) for s in stacks] == [3, 3, 2]
    dataset = SimpleNamespace(input_shape=(64,), num_classes=10, x_test=np.zeros((450, 64)))
    one_run = 16 * (65 * 8 + 9 * 10) + 1024 * (64 + 8 + 10) * 8  # hidden (8,): Adam's state, a probe's activations
    monkeypatch.setenv("RELULAB_MEMORY_BYTES", str(5 * one_run + 1))
    assert memory_fits(run("relu", 0, hidden=(8,)), dataset, 1024) == 5


class _Recorder:
    name = "recorder"

    def __init__(self):
        self.runs = []

    def train(self, runs, dataset, *, on_result, on_progress=lambda steps: None, diagnostics=True):
        self.runs.extend(runs)


def test_what_cannot_be_stacked_goes_to_the_fallback(monkeypatch):
    class OwnCall(ActivationLayer):
        def call(self, inputs):
            return inputs

    monkeypatch.setitem(registry._LAYERS, "relu6", OwnCall)
    assert "own call" in unstackable_reason("relu6") and unstackable_reason("prelu") is None
    assert unstackable_reason("prelu(alpha=0.1, shared_axes='all')") is None
    assert "regularizer or constraint" in unstackable_reason("prelu(alpha_regularizer='l2')")
    recorder = _Recorder()
    runs = [run("relu6", 0), run("relu6", 1), run("relu", 0, hidden=(7,))]
    StackedEngine(fallback=recorder).train(runs, digits(100, 20), on_result=lambda r: None)
    assert recorder.runs == runs


def test_custom_layers_with_variables_go_to_the_fallback(monkeypatch):
    class Scaled(keras.layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return inputs * self.scale

    monkeypatch.setattr(stack_activations.layers, "custom_class", lambda spec: Scaled if spec == "my:Scaled" else None)
    assert unstackable_reason("my:Scaled") == "its layer Scaled has variables"
    runs = [RunSpec("my:Scaled", (8,), 1e-3, seed, "he_normal", 1, 32) for seed in (0, 1)]
    assert StackedEngine().plan(runs) == ([], runs)


def test_other_backends_and_policies_fall_back(monkeypatch):
    runs = [run("relu", 0), run("relu", 1)]
    monkeypatch.setattr(keras.config, "dtype_policy", lambda: keras.DTypePolicy("mixed_float16"))
    assert StackedEngine().plan(runs) == ([], runs)
    monkeypatch.undo()
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    assert StackedEngine().plan(runs) == ([], runs)


def test_engine_arguments_are_checked():
    with pytest.raises(ValueError, match="max_stack of StackedEngine must be an integer >= 1. Received: max_stack=0"):
        StackedEngine(max_stack=0)


def test_diagnostics_agree_with_the_sequential_engine(data):
    specs = [run(a, 0, epochs=1) for a in ("relu", "tanh", "prelu", "relulab.lab.article:MyReLU")]
    stacked, sequential = {}, {}
    StackedEngine().train(specs, data, on_result=lambda r: stacked.setdefault(r.spec.key, r.history))
    SequentialEngine().train(specs, data, on_result=lambda r: sequential.setdefault(r.spec.key, r.history))
    for key, history in stacked.items():
        assert set(history) == set(sequential[key]), key
        for name, values in history.items():
            np.testing.assert_allclose(values, sequential[key][name], rtol=1e-3, atol=1e-4, err_msg=f"{key} {name}")
    custom = stacked[specs[-1].key]  # the article's custom layer: a dead fraction, not "-"
    assert {"dead_fraction/dense_1", "saturation/dense_1"} <= set(custom)
