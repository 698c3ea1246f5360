"""Means with Student-t intervals and paired differences, checked against hand computations."""

from __future__ import annotations

import math

import pytest

from relulab.lab.engine import RunResult
from relulab.lab.grid import RunSpec
from relulab.lab.stats import mean_ci, summarise, table


def test_mean_ci_matches_the_textbook_formula():
    estimate = mean_ci([0.80, 0.82, 0.84])
    # mean 0.82, s = 0.02, t(0.975, 2) = 4.302653, half width = 4.302653 * 0.02 / sqrt(3)
    assert estimate.mean == pytest.approx(0.82)
    assert estimate.half_width == pytest.approx(4.302653 * 0.02 / math.sqrt(3), rel=1e-6)
    assert estimate.n == 3


def test_mean_ci_with_one_value_has_no_interval_and_ignores_nan():
    single = mean_ci([0.5, math.nan])
    assert single.mean == 0.5 and single.n == 1 and math.isnan(single.low)
    assert single.format() == "0.5000"
    assert mean_ci([]).format() == "-"


def _run(activation, seed, accuracy, grad_ratio=1.0):
    spec = RunSpec(activation, (8,), 0.001, seed, "glorot_uniform", 1, 32)
    history = {"grad_ratio": [grad_ratio], "dead_fraction/dense_1": [0.25], "grad_norm/output": [9.0]}
    return RunResult(spec, history, test_loss=1 - accuracy, test_accuracy=accuracy, seconds=2.0)


def test_paired_differences_remove_what_seeds_share():
    # Seeds differ a lot, but tanh is always exactly 0.01 below relu: the paired interval is zero-width.
    results = [_run("relu", s, a) for s, a in enumerate([0.70, 0.80, 0.90])]
    results += [_run("tanh", s, a - 0.01) for s, a in enumerate([0.70, 0.80, 0.90])]
    rows = summarise(results, baseline="relu")
    assert [r.activation for r in rows] == ["relu", "tanh"]
    assert rows[0].accuracy_vs_baseline is None
    diff = rows[1].accuracy_vs_baseline
    assert diff.mean == pytest.approx(-0.01) and diff.half_width == pytest.approx(0.0, abs=1e-12)
    assert rows[1].estimates["test_accuracy"].half_width > 0.1  # unpaired, the seeds dominate
    assert rows[1].estimates["dead_fraction"].mean == 0.25  # the output layer is not a hidden layer
    text = table(rows, "relu")
    assert "(baseline)" in text and "-0.0100 ± 0.0000" in text


def test_gradient_ratios_are_summarised_geometrically():
    results = [_run("relu", s, 0.9, grad_ratio=r) for s, r in enumerate([0.01, 1.0, 100.0, float("inf")])]
    estimate = summarise(results, baseline="relu")[0].estimates["grad_ratio"]
    assert estimate.mean == pytest.approx(1.0) and estimate.n == 3  # inf is not a finite ratio
    assert estimate.low < 0.01 and estimate.high > 100


def test_a_configuration_without_baseline_pairs_shows_a_dash_not_baseline():
    rows = summarise([_run("tanh", 0, 0.8), _run("relu", 1, 0.9)], baseline="relu")
    assert rows[0].accuracy_vs_baseline is None and not rows[0].is_baseline
    text = table(rows, "relu").splitlines()
    assert "(baseline)" not in text[2] and "(baseline)" in text[3]
