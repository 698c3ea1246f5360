"""One training loop: a lab row re-run with ``relulab train`` and its configuration gives the identical history."""

from __future__ import annotations

import csv

import pytest

from relulab.cli import main
from relulab.lab import store as results_store

DATA = ["--dataset", "digits", "--train-size", "200", "--test-size", "80", "--epochs", "2", "--batch-size", "32"]


@pytest.mark.parametrize("activation", ["relu", "leaky_relu(negative_slope=0.1)"])
def test_a_lab_row_rerun_with_relulab_train_has_the_identical_history(tmp_path, activation):
    lab = tmp_path / "lab"
    assert main(["compare", *DATA, "--activations", activation, "--seeds", "2", "--lrs", "0.003",
                 "--initializer", "he_normal", "--engine", "sequential", "--out", str(lab)]) == 0
    with results_store.opened(lab / results_store.FILENAME) as store:
        row = next(result for result in store.results() if result.spec.seed == 1)
    run = tmp_path / "run"
    assert main(["train", *DATA, "--activation", activation, "--seed", "1", "--lr", "0.003",
                 "--initializer", "he_normal", "--monitor", "--out", str(run)]) == 0
    with open(run / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    trained = {key: [float(r[key]) for r in rows] for key in rows[0] if key != "epoch"}
    assert set(trained) == set(row.history)
    for key, values in row.history.items():
        assert trained[key] == pytest.approx(values, rel=0, abs=1e-12), key
