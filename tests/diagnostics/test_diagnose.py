"""``diagnose``: the numbers against NumPy, the advice each measurement triggers, the report's two
renderings, and every bad input as one clear error."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from relulab.diagnostics import diagnose
from relulab.diagnostics import measure_activity

X = np.random.default_rng(0).uniform(-1, 1, (64, 5)).astype("float32")
Y = np.arange(64) % 2


def mlp(activation="relu", *, bias=None, width=4, compile=True) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(width, activation=activation, name="h"),
                              keras.layers.Dense(2, activation="softmax", name="out")], name="mlp")
    if bias is not None:
        model.get_layer("h").bias.assign(np.asarray(bias, "float32"))
    if compile:
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def numpy_gradient_norms(model):
    (w1, b1), (w2, b2) = model.get_layer("h").get_weights(), model.get_layer("out").get_weights()
    pre = X @ w1 + b1
    hidden = np.maximum(pre, 0)
    logits = hidden @ w2 + b2
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    delta = (p - np.eye(2)[Y]) / len(X)
    return np.linalg.norm(X.T @ ((delta @ w2.T) * (pre > 0))), np.linalg.norm(hidden.T @ delta)


def test_sparsity_and_gradients_match_numpy():
    model = mlp(bias=[0.0, -1000.0, 0.2, 0.0])
    report = diagnose(model, X, Y)
    row = report.row("h")
    pre = X @ model.get_layer("h").get_weights()[0] + model.get_layer("h").get_weights()[1]
    assert row.sparsity == pytest.approx(np.mean(pre <= 0))
    assert (row.dead_units, row.units, row.kernel_layer) == ((1,), 4, "h")
    first, last = numpy_gradient_norms(model)
    assert report.grad_norms == pytest.approx({"h": first, "out": last}, rel=1e-4)
    assert row.grad_norm == report.grad_norms["h"] and report.grad_ratio == pytest.approx(first / last, rel=1e-4)


def test_saturated_units_are_those_pinned_to_an_asymptote():
    report = diagnose(mlp("sigmoid", bias=[1000.0, 0.0, -1000.0, 0.0]), X)
    row = report.row("h")
    assert (row.kind, row.dead_fraction, row.saturation) == ("saturating", None, 0.5)
    assert [a.code for a in report.advice] == ["rectifier", "batch_norm"]


def test_a_layer_saturated_on_most_examples_is_a_finding_though_no_unit_is_saturated_on_all():
    model = mlp("tanh", width=8)
    kernel = model.get_layer("h").kernel
    kernel.assign(20.0 * np.sign(keras.ops.convert_to_numpy(kernel)))  # |pre-activation| mostly far beyond 2.3
    report = diagnose(model, X, Y)
    pre = X @ model.get_layer("h").get_weights()[0] + model.get_layer("h").get_weights()[1]
    share = np.mean(np.abs(np.tanh(pre)) >= 0.98)
    activity = measure_activity(model, X)["h"]
    assert report.row("h").saturation == 0.0 and activity.saturated_share == pytest.approx(share) and share >= 0.5
    assert [f.kind for f in report.findings] == ["saturated"]
    assert "of the layer's values saturated" in report.findings[0].text
    assert [a.code for a in report.advice] == ["rectifier", "batch_norm"]


def test_a_custom_rectifiers_flat_side_is_sparsity_not_saturation():
    class MaxReLU(keras.layers.Layer):
        def call(self, x):
            return keras.ops.maximum(x, 0.0)

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4), MaxReLU(name="act"), keras.layers.Dense(2)])
    activity = measure_activity(model, X)["act"]
    assert activity.sparsity > 0.2 and activity.saturated_share == 0.0


def test_a_born_dead_layer_is_a_collapsed_signal_first_then_dying_units():
    report = diagnose(mlp(bias=[-1000.0] * 4), X, Y)
    assert report.row("h").dead_fraction == 1.0 and report.output_spread == 0.0
    assert report.grad_norms == {"h": 0.0, "out": 0.0} and np.isnan(report.grad_ratio)  # nothing reaches either kernel
    assert [f.kind for f in report.findings] == ["collapsed", "dead"]
    assert [a.code for a in report.advice] == ["he_init", "rai", "batch_norm", "lower_learning_rate", "leaky_rectifier"]
    rai = report.advice[1]
    assert rai.layers == ("h",) and "collapsed signal" in rai.reasons[0] and "100% of 4 units dead" in rai.reasons[1]


def test_a_healthy_he_initialised_network_gets_no_advice():
    model = mlp(width=16)
    model.get_layer("h").kernel_initializer = keras.initializers.HeNormal()
    report = diagnose(model, X, Y)
    assert report.row("h").dead_fraction == 0.0 and report.advice == ()
    assert "advice: none" in report.to_text()


def test_report_renders_as_a_table_and_as_json():
    report = diagnose(mlp(bias=[-1000.0] * 4), X, Y, layers=["h"])
    text = str(report)
    header, rule, row = text.splitlines()[:3]
    assert header.split() == ["layer", "activation", "kind", "units", "dead", "sparsity", "saturation", "grad", "norm"]
    assert row.split() == ["h", "relu", "rectifier", "4", "100.0%", "100.0%", "-", "0"]
    assert "not measured: out (softmax)" in text and "advice 2: RAI initialisation" in text
    assert "loss: sparse_categorical_crossentropy\n" in text and "  2. h: 100% of 4 units dead" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert data["rows"][0]["dead_units"] == [0, 1, 2, 3] and data["grad_ratio"] is None  # nan
    assert data["advice"][0]["code"] == "he_init" and data["model"] == "mlp" and data["examples"] == 64


def _two_inputs():
    a, b = keras.Input((2,)), keras.Input((3,))
    return keras.Model([a, b], keras.layers.Dense(2, activation="relu")(keras.layers.Concatenate()([a, b])))


X_NAN = X.copy()
X_NAN[3, 2] = np.nan


@pytest.mark.parametrize("call, error, match", [
    (lambda: diagnose("model.keras", X), TypeError, "model of diagnose must be a keras.Model. Received: model=str"),
    (lambda: diagnose(mlp(), X[:, :3]), ValueError,
     r"x of diagnose must have shape \(n, 5\) to match the model's input. Received: x=an array with shape \(64, 3\)"),
    (lambda: diagnose(mlp(), X_NAN), ValueError,
     r"x of diagnose must be finite, but 1 example\(s\) hold NaN or infinity \(the first at index 3\)"),
    (lambda: diagnose(mlp(), X[:0]), ValueError, "x of diagnose must hold at least one example"),
    (lambda: diagnose(mlp(), np.full((2, 5), "a")), TypeError, "x of diagnose must be an array of numbers"),
    (lambda: diagnose(mlp(), X, Y[:10]), ValueError, r"y of diagnose must have one entry per example of x \(64\)"),
    (lambda: diagnose(mlp(), X, layers=["nope"]), ValueError,
     r"layers of diagnose must name measurable layers of the model: h. Received: layers=\['nope'\]"),
    (lambda: diagnose(mlp("linear"), X), ValueError,
     r"model 'mlp' has no activation that relulab can measure .*; layers with other activations: out \(softmax\)"),
    (lambda: diagnose(mlp(), X, Y + 1), ValueError,
     r"y of diagnose must hold class indices from 0 to 1 for this model's 2 outputs. Received: labels from 1 to 2"),
    (lambda: diagnose(mlp(), X, Y, loss="no_such_loss"), ValueError, "loss of diagnose must be a Keras loss name"),
    (lambda: diagnose(mlp(), X, batch_size=0), ValueError, "batch_size of diagnose must be an integer >= 1"),
    (lambda: diagnose(_two_inputs(), X), ValueError, "model of diagnose must have one input. Received: a model with 2"),
])
def test_bad_input_is_one_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_an_uncompiled_model_is_measured_with_an_explicit_loss():
    report = diagnose(mlp(compile=False), X, Y, loss="sparse_categorical_crossentropy")
    assert report.grad_norms == pytest.approx(diagnose(mlp(), X, Y).grad_norms)


def test_small_batches_give_the_same_numbers_as_one_pass():
    model = mlp(bias=[0.0, -1000.0, 0.3, -0.2])
    whole, pieces = diagnose(model, X, Y), diagnose(model, X, Y, batch_size=7)
    assert pieces.row("h").dead_units == whole.row("h").dead_units == (1,)
    assert pieces.row("h").sparsity == pytest.approx(whole.row("h").sparsity)
    assert pieces.grad_norms == pytest.approx(whole.grad_norms, rel=1e-5)


def test_labels_beyond_the_models_classes_are_a_clear_error():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"y of diagnose must hold class indices from 0 to 2 for this model's 3 "
                                         r"outputs\. Received: labels from 0 to 9"):
        diagnose(model, np.ones((10, 4), "float32"), np.arange(10))


def _deep(initializer, depth=20):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), *(keras.layers.Dense(32, activation="relu",
                                                                        kernel_initializer=initializer)
                                                    for _ in range(depth)),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def test_a_deep_stack_with_a_too_small_initialisation_is_a_collapsed_signal():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = (digits.data[:256] / 16).astype("float32"), digits.target[:256]
    collapsed = diagnose(_deep(keras.initializers.RandomNormal(stddev=0.01)), x, y)
    assert collapsed.findings[0].kind == "collapsed" and collapsed.output_spread < 1e-3
    assert [a.code for a in collapsed.advice][:3] == ["he_init", "rai", "batch_norm"]
    assert "collapsed signal" in str(collapsed)
    healthy = diagnose(_deep("he_normal", depth=4), x, y)
    assert "collapsed" not in [f.kind for f in healthy.findings]


def test_a_confident_sigmoid_output_is_not_a_saturated_layer():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu", name="h"),
                              keras.layers.Dense(1, activation="sigmoid", name="out")])
    kernel = model.get_layer("out").kernel
    kernel.assign(10.0 * np.sign(keras.ops.convert_to_numpy(kernel)))  # confident on most examples, not all
    share = measure_activity(model, X)["out"].saturated_share
    report = diagnose(model, X, Y.reshape(-1, 1), loss="binary_crossentropy")
    assert share >= 0.5 and report.row("out").saturation == 0.0
    assert "saturated" not in [f.kind for f in report.findings], [f.text for f in report.findings]


def _stack(activation, init, *, out_activation="softmax", units=2, depth=6):
    keras.utils.set_random_seed(0)
    hidden = [keras.layers.Dense(8, activation=activation, kernel_initializer=init) for _ in range(depth)]
    return keras.Sequential([keras.Input((5,)), *hidden, keras.layers.Dense(units, activation=out_activation)])


def test_a_collapsed_tanh_stack_is_vanishing_gradients_not_silence():
    report = diagnose(_stack("tanh", keras.initializers.RandomNormal(stddev=0.01)), X, Y,
                      loss="sparse_categorical_crossentropy")
    assert report.output_spread < 1e-3 and report.findings, report.to_text()
    assert report.findings[0].kind == "vanishing" and report.advice[0].code == "rectifier", report.to_text()


def test_the_output_sigmoid_neither_saturates_nor_makes_a_relu_net_a_sigmoid_stack():
    model = _stack("relu", "he_normal", out_activation="sigmoid", units=1, depth=1)
    x = X.copy()
    x[:, 0] = np.where(X[:, 0] >= 0, 0.5, -0.5) + 0.5 * X[:, 0]  # |x0| >= 0.5: every output near 0 or 1
    hidden, out = model.layers
    hidden.set_weights([np.eye(5, 8, dtype="float32"), np.full(8, 2.0, "float32")])  # h = x + 2 > 0 on 5 units
    out.set_weights([np.eye(8, 1, dtype="float32") * 20.0, np.asarray([-40.0], "float32")])  # z = 20 x0
    report = diagnose(model, x, Y.reshape(-1, 1), loss="binary_crossentropy")
    assert report.rows[-1].saturation == 1.0, report.to_text()
    assert "saturated" not in [f.kind for f in report.findings] and "rectifier" not in [a.code for a in report.advice]
    out.set_weights([np.full((8, 1), 1e-6, "float32"), np.zeros(1, "float32")])  # a constant output of a ReLU net
    report = diagnose(model, x, Y.reshape(-1, 1), loss="binary_crossentropy")
    codes = [a.code for a in report.advice]
    assert report.findings[0].kind == "collapsed" and "rectifier" not in codes and "he_init" not in codes, codes


def test_a_probe_of_one_repeated_example_says_nothing_about_collapse():
    report = diagnose(mlp(), np.repeat(X[:1], 20, axis=0), np.repeat(Y[:1], 20))
    assert report.output_spread is None and "collapsed" not in [f.kind for f in report.findings]


def test_kernel_scale_is_one_for_he_and_follows_the_weights():
    from relulab.diagnostics.diagnosis import kernel_scale

    keras.utils.set_random_seed(0)
    layer = keras.layers.Dense(256, kernel_initializer="he_normal")
    layer.build((None, 512))
    assert kernel_scale(layer) == pytest.approx(1.0, abs=0.03)  # truncated normal: std 0.88 x 1/0.88
    layer.kernel.assign(layer.kernel * 30.0)
    assert kernel_scale(layer) == pytest.approx(30.0, rel=0.03)
    conv = keras.layers.Conv2D(8, 3, kernel_initializer=keras.initializers.RandomNormal(stddev=1.0))
    conv.build((None, 6, 6, 4))  # fan_in 3 * 3 * 4 = 36: He's std sqrt(2 / 36)
    assert kernel_scale(conv) == pytest.approx(1.0 / np.sqrt(2 / 36), rel=0.15)
    assert kernel_scale(keras.layers.ReLU()) is None


def test_a_collapse_with_kernels_grown_far_past_he_scale_is_put_down_to_the_steps():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = (digits.data[:256] / 16).astype("float32"), digits.target[:256]
    grown = _deep("he_normal", depth=4)
    for layer in grown.layers[:-1]:  # what a huge step leaves: large kernels, every unit pushed below the kink
        layer.kernel.assign(layer.kernel * 40.0)
        layer.bias.assign(np.full(layer.bias.shape, -1e4, "float32"))
    report = diagnose(grown, x, y)
    kinds = [f.kind for f in report.findings]
    assert kinds[:2] == ["diverging", "collapsed"] and report.findings[1].cause == "diverging", report.to_text()
    assert report.advice[0].code == "lower_learning_rate"
    tiny = diagnose(_deep(keras.initializers.RandomNormal(stddev=0.01)), x, y)
    assert tiny.findings[0].kind == "collapsed" and tiny.findings[0].cause == ""


def test_a_kernel_drawn_large_did_not_grow_so_its_collapse_stays_the_initialisations():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = (digits.data[:256] / 16).astype("float32"), digits.target[:256]
    keras.utils.set_random_seed(0)
    drawn_large = keras.Sequential([  # N(0, 1) on 64 inputs: ~5.7x He's scale, times 40 below: never trained
        keras.Input((64,)), *(keras.layers.Dense(32, activation="relu", kernel_initializer=keras.initializers.RandomNormal(
            stddev=40.0)) for _ in range(3)), keras.layers.Dense(10, activation="softmax")])
    for layer in drawn_large.layers[:-1]:
        layer.bias.assign(np.full(layer.bias.shape, -1e6, "float32"))
    report = diagnose(drawn_large, x, y)
    collapsed = next(f for f in report.findings if f.kind == "collapsed")
    assert collapsed.cause == "" and "diverging" not in [f.kind for f in report.findings], report.to_text()


def test_gradient_norms_are_of_the_mean_loss_whatever_the_losss_reduction():
    from relulab.diagnostics import gradient_norms

    model = mlp()
    summed = keras.losses.SparseCategoricalCrossentropy(reduction="sum")
    mean = keras.losses.get("sparse_categorical_crossentropy")
    expected = gradient_norms(model, X, Y, mean)
    for batch_size in (64, 7):
        assert gradient_norms(model, X, Y, summed, batch_size=batch_size)["h"] == pytest.approx(expected["h"], rel=1e-5)
