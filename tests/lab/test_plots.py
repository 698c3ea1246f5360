"""The lab's figures, checked on synthetic results with known values (no training)."""

from __future__ import annotations

import math

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex
from scipy import stats as scipy_stats

from relulab.lab import figures as plots
from relulab.lab.figures import data as plots_data
from relulab.lab.figures import style as plots_style
from relulab.lab.engine import RunResult
from relulab.lab.grid import Grid

ACTIVATIONS = ("relu", "tanh", "leaky_relu(negative_slope=0.1)")
ARCHITECTURES = ((8,), (8, 8, 8))
SEEDS = (0, 1, 2)
EPOCHS = 3


def make_grid(**changes) -> Grid:
    settings = dict(activations=ACTIVATIONS, architectures=ARCHITECTURES, seeds=SEEDS, epochs=EPOCHS)
    return Grid(**{**settings, **changes})


def history(a: int, depth: int, seed: int, epochs: int, diagnostics: bool) -> dict[str, list[float]]:
    """Known values: accuracy 0.5 + 0.1 epoch + 0.02 a + 0.01 seed; dead fraction 0.01 layer + 0.1 a +
    0.001 seed + 0.02 epoch; gradient norm 10^(layer - depth - a) * 2^seed, output 3 * 2^seed."""
    h = {"val_accuracy": [0.5 + 0.1 * e + 0.02 * a + 0.01 * seed for e in range(epochs)],
         "val_loss": [1.0 - 0.1 * e - 0.05 * a for e in range(epochs)]}
    if diagnostics:
        for i in range(1, depth + 1):
            h[f"dead_fraction/dense_{i}"] = [0.01 * i + 0.1 * a + 0.001 * seed + 0.02 * e for e in range(epochs)]
            h[f"grad_norm/dense_{i}"] = [10.0 ** (i - depth - a) * 2.0 ** seed for _ in range(epochs)]
        h["grad_norm/output"] = [3.0 * 2.0 ** seed] * epochs
        h["grad_ratio"] = [10.0 ** (1 - depth - a)] * epochs
    return h


def synthetic(grid: Grid, *, diagnostics=lambda spec: True) -> list[RunResult]:
    """One result per run of ``grid``; ``diagnostics(spec)`` decides whether it has diagnostics keys."""
    results = []
    for spec in grid.runs():
        h = history(grid.activations.index(spec.activation), spec.depth, spec.seed, spec.epochs, diagnostics(spec))
        results.append(RunResult(spec, h, h["val_loss"][-1], h["val_accuracy"][-1], 1.0))
    return results


def legend_labels(figure) -> list[str]:
    return [text.get_text() for text in figure.legends[0].get_texts()]


def lines_by_label(ax) -> dict[str, object]:
    return {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}


def t_half_width(values) -> float:
    values = np.asarray(values, dtype=float)
    return scipy_stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))


def test_learning_curves_plot_the_seed_mean_per_epoch_in_one_panel_per_architecture():
    figure = plots.learning_curves(synthetic(make_grid()))
    axes = figure.axes
    assert figure.get_suptitle().startswith("Learning curves: test accuracy per epoch")
    assert [ax.get_title() for ax in axes] == ["8 (1 hidden layer)", "3 x 8 (3 hidden layers)"]
    assert legend_labels(figure) == list(ACTIVATIONS)
    for ax in axes:
        assert ax.get_xlabel() == "epoch" and "(fraction)" in ax.get_ylabel()
        lines = lines_by_label(ax)
        assert list(lines) == list(ACTIVATIONS)
        for a, name in enumerate(ACTIVATIONS):
            np.testing.assert_allclose(lines[name].get_xdata(), [1, 2, 3])
            np.testing.assert_allclose(lines[name].get_ydata(), [0.51 + 0.1 * e + 0.02 * a for e in range(EPOCHS)])


def test_learning_curve_band_is_the_95_percent_student_t_interval_over_seeds():
    figure = plots.learning_curves(synthetic(make_grid()))
    ax = figure.axes[0]
    assert len(ax.collections) == len(ACTIVATIONS)
    relu_band = ax.collections[0].get_paths()[0].vertices
    at_epoch_1 = relu_band[np.isclose(relu_band[:, 0], 1.0), 1]
    half = t_half_width([0.50, 0.51, 0.52])
    np.testing.assert_allclose([at_epoch_1.min(), at_epoch_1.max()], [0.51 - half, 0.51 + half])


def test_one_seed_draws_the_mean_without_a_band():
    figure = plots.learning_curves(synthetic(make_grid(seeds=(4,))))
    ax = figure.axes[0]
    assert len(ax.collections) == 0
    np.testing.assert_allclose(lines_by_label(ax)["relu"].get_ydata(), [0.54, 0.64, 0.74])


def test_nan_values_are_left_out_of_the_mean():
    results = synthetic(make_grid(architectures=((8,),)))
    results[0].history["val_accuracy"][1] = math.nan  # relu, seed 0, epoch 2
    ax = plots.learning_curves(results).axes[0]
    np.testing.assert_allclose(lines_by_label(ax)["relu"].get_ydata(), [0.51, np.mean([0.61, 0.62]), 0.71])


def test_dead_fraction_averages_the_hidden_layers_and_skips_runs_without_diagnostics():
    results = synthetic(make_grid(), diagnostics=lambda spec: spec.activation != "tanh")
    figure = plots.dead_fraction(results)
    assert legend_labels(figure) == ["relu", "leaky_relu(negative_slope=0.1)"]
    deep = figure.axes[1]
    assert "dead" in deep.get_ylabel() and "fraction" in deep.get_ylabel()
    expected = [0.01 * 2 + 0.1 * 2 + 0.001 + 0.02 * e for e in range(EPOCHS)]  # layers 1..3 average to 0.02
    np.testing.assert_allclose(lines_by_label(deep)["leaky_relu(negative_slope=0.1)"].get_ydata(), expected)


def test_figures_that_need_diagnostics_are_skipped_when_no_run_has_them(tmp_path):
    results = synthetic(make_grid(), diagnostics=lambda spec: False)
    assert plots.dead_fraction(results) is None
    assert plots.gradient_flow(results) is None
    paths = plots.make_figures(results, make_grid(), tmp_path / "figures")
    assert sorted(paths) == ["accuracy_vs_depth", "activation_functions", "learning_curves", "loss_curves"]
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == sorted(f"{name}.png" for name in paths)


def test_gradient_flow_shows_the_deepest_network_on_a_log_axis_with_geometric_means():
    figure = plots.gradient_flow(synthetic(make_grid()))
    first, last = figure.axes
    assert "3 x 8" in figure.get_suptitle()
    assert (first.get_title(), last.get_title()) == ("after epoch 1", "after epoch 3 (the last)")
    assert first.get_yscale() == "log" and "log" in first.get_ylabel() and "layer" in first.get_xlabel()
    assert [t.get_text() for t in first.get_xticklabels()] == ["1", "2", "3", "out"]
    tanh = lines_by_label(first)["tanh"]
    # seeds multiply by 1, 2, 4: the geometric mean is 2x the seed-0 value
    np.testing.assert_allclose(tanh.get_ydata(), [2e-3, 2e-2, 2e-1, 6.0])


def test_gradient_flow_after_one_epoch_has_one_panel():
    figure = plots.gradient_flow(synthetic(make_grid(epochs=1)))
    assert [ax.get_title() for ax in figure.axes] == ["after epoch 1"]


def test_accuracy_against_depth_has_a_95_percent_error_bar_per_activation_and_architecture():
    figure = plots.accuracy_vs_depth(synthetic(make_grid()))
    ax = figure.axes[0]
    assert [c.get_label() for c in ax.containers] == list(ACTIVATIONS)
    assert ax.get_ylabel() == "final test accuracy (fraction)" and "shallow to deep" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["8\n(depth 1)", "3 x 8\n(depth 3)"]
    relu = ax.containers[0]
    np.testing.assert_allclose(relu.lines[0].get_ydata().astype(float), [0.71, 0.71])
    low, high = relu.lines[2][0].get_segments()[0][:, 1]
    np.testing.assert_allclose(high - low, 2 * t_half_width([0.70, 0.71, 0.72]))
    assert relu.lines[0].get_xdata()[0] < ax.containers[1].lines[0].get_xdata()[0]  # nudged apart


def test_accuracy_with_one_architecture_is_a_dot_chart_of_the_activations():
    figure = plots.accuracy_vs_depth(synthetic(make_grid(architectures=((8,),))))
    ax = figure.axes[0]
    assert ax.get_xlabel() == "activation"
    assert [t.get_text() for t in ax.get_xticklabels()] == list(ACTIVATIONS)
    np.testing.assert_allclose([float(c.lines[0].get_ydata()[0]) for c in ax.containers], [0.71, 0.73, 0.75])


def test_activation_functions_show_values_and_autodiff_derivatives_at_the_kink():
    figure = plots.activation_functions(["relu", "prelu", "rrelu", "tanh"])
    values, derivatives = figure.axes
    assert legend_labels(figure) == ["relu", "prelu (initial slope 0.25)", "rrelu (inference slope 0.229)", "tanh"]
    assert "autodiff" in derivatives.get_title() and derivatives.get_xlabel() == values.get_xlabel()
    curves = lines_by_label(derivatives)
    x, relu = curves["relu"].get_xdata(), curves["relu"].get_ydata()
    assert x.min() == -4.0 and x.max() == 4.0
    np.testing.assert_array_equal(relu[x < 0], 0.0)
    np.testing.assert_array_equal(relu[x > 0], 1.0)
    assert relu[x == 0.0].tolist() == [0.0]  # the left slope at the kink
    np.testing.assert_allclose(curves["prelu (initial slope 0.25)"].get_ydata()[x < 0], 0.25)
    np.testing.assert_allclose(curves["rrelu (inference slope 0.229)"].get_ydata()[x < 0], (1 / 8 + 1 / 3) / 2)
    np.testing.assert_allclose(lines_by_label(values)["tanh"].get_ydata(), np.tanh(x), atol=1e-6)


def test_many_activations_get_distinct_colours_and_the_same_colour_in_every_figure():
    names = [f"leaky_relu(negative_slope={k / 100})" for k in range(1, 26)]
    assert len({to_hex(c) for c in plots_style.activation_colours(names).values()}) == 25
    figures = plots.figures(synthetic(make_grid()), make_grid())
    for name in ("learning_curves", "dead_fraction", "gradient_flow"):
        colours = {label: to_hex(line.get_color()) for label, line in lines_by_label(figures[name].axes[0]).items()}
        expected = {a: to_hex(c) for a, c in plots_style.activation_colours(ACTIVATIONS).items()}
        assert colours == expected, name


def test_several_learning_rates_show_each_activation_at_its_best_rate():
    grid = make_grid(learning_rates=(0.001, 0.01), architectures=((8,),))
    results = synthetic(grid)
    for r in results:  # relu is better at 0.01, the others at 0.001
        better = (r.spec.learning_rate == 0.01) == (r.spec.activation == "relu")
        r.history["val_accuracy"] = [v + (0.1 if better else 0.0) for v in r.history["val_accuracy"]]
        r.test_accuracy = r.history["val_accuracy"][-1]
    figure = plots.learning_curves(results)
    assert legend_labels(figure) == ["relu (lr 0.01)", "tanh (lr 0.001)", "leaky_relu(negative_slope=0.1) (lr 0.001)"]
    np.testing.assert_allclose(lines_by_label(figure.axes[0])["relu (lr 0.01)"].get_ydata()[0], 0.61)


def test_panels_keep_the_shallowest_and_deepest_architecture():
    architectures = [(8,) * depth for depth in range(1, 8)]
    picked = plots_data.panel_architectures(architectures)
    assert len(picked) == plots_data.MAX_PANELS and picked[0] == (8,) and picked[-1] == (8,) * 7
    assert plots_data.panel_architectures(architectures[:2]) == architectures[:2]


def test_make_figures_writes_readable_pngs_and_leaves_no_pyplot_figures(tmp_path):
    before = plt.get_fignums()
    paths = plots.make_figures(synthetic(make_grid()), make_grid(), tmp_path)
    assert list(paths) == ["activation_functions", "learning_curves", "loss_curves", "dead_fraction",
                           "gradient_flow", "accuracy_vs_depth"]
    height, width, _ = matplotlib.image.imread(paths["gradient_flow"]).shape
    assert width == round(2 * plots_style.PANEL_SIZE[0] * plots_style.DPI) and height > 300
    assert plt.get_fignums() == before


def test_learning_curves_reject_an_unknown_metric():
    with pytest.raises(ValueError, match=r"metric of learning_curves must be one of .*Received: metric='acc'"):
        plots.learning_curves([], metric="acc")


def test_no_finished_runs_give_only_the_activation_figure():
    assert list(plots.figures([], make_grid())) == ["activation_functions"]


def test_figures_with_nothing_to_show_are_skipped():
    results = synthetic(make_grid())
    for r in results:  # every network dead (zero gradients), every accuracy missing
        r.history.update({k: [0.0] * EPOCHS for k in r.history if k.startswith("grad_norm/")})
        r.history["val_accuracy"] = [math.nan] * EPOCHS
        r.test_accuracy = math.nan
    assert list(plots.figures(results, make_grid())) == ["activation_functions", "loss_curves", "dead_fraction"]


def test_accuracy_error_bars_stay_within_0_and_1():
    results = synthetic(make_grid(architectures=((8,),), seeds=(0, 1)))
    for r in results:
        r.test_accuracy = 0.05 if r.spec.seed == 0 else 0.95
    bars = plots.accuracy_vs_depth(results).axes[0].containers[0].lines[2][0].get_segments()[0][:, 1]
    np.testing.assert_allclose(sorted(bars), [0.0, 1.0])
