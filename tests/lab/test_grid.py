"""The grid: expansion into runs, canonical specs, pairing by seed, and bad grids."""

from __future__ import annotations

import numpy as np
import pytest

from relulab.lab.grid import Grid, RunSpec, auto_initializer, epoch_order


def test_runs_cover_every_combination_once_with_canonical_specs():
    grid = Grid(activations=("ReLU", "leaky_relu(0.1)"), architectures=((8,), (8, 8)), learning_rates=(1e-3, 1e-2),
                seeds=(0, 1, 2))
    runs = grid.runs()
    assert len(runs) == 2 * 2 * 2 * 3
    assert len({r.key for r in runs}) == len(runs)
    assert {r.activation for r in runs} == {"relu", "leaky_relu(negative_slope=0.1)"}


def test_a_parameterised_prelu_enters_a_comparison_and_starts_at_its_slope():
    from relulab.lab.stacked.stack import initial_weights

    grid = Grid(activations=("relu", "prelu(alpha_initializer=0.1)", "rrelu(seed=3)"), architectures=((8,),),
                seeds=(0,))
    assert grid.activations == ("relu", "prelu(alpha=0.1)", "rrelu(seed=3)")
    prelu_run = next(r for r in grid.runs() if r.activation.startswith("prelu"))
    np.testing.assert_array_equal(initial_weights(prelu_run, (4,), 3)["dense_1/alpha"], np.full(8, 0.1, "float32"))


def test_keys_and_labels_are_readable_and_group_seeds():
    spec = RunSpec("relu", (64, 64), 0.001, 2, "he_normal", 5, 32)
    assert spec.key == "relu|64x64|lr=0.001|he_normal|seed=2"
    assert spec.label == "relu|64x64|lr=0.001|he_normal"
    assert RunSpec.from_dict(spec.to_dict()) == spec


def test_auto_initializer_pairs_each_activation_with_its_usual_one():
    assert auto_initializer("relu") == "he_normal"
    assert auto_initializer("selu") == "lecun_normal"
    assert auto_initializer("tanh") == "glorot_uniform"
    assert auto_initializer("relulab.lab.article:MyReLU") == "he_normal"
    grid = Grid(activations=("relu", "tanh"), kernel_initializer="auto")
    assert {r.activation: r.kernel_initializer for r in grid.runs()} == {"relu": "he_normal", "tanh": "glorot_uniform"}


def test_fingerprint_changes_with_the_grid_and_survives_a_round_trip():
    grid = Grid(activations=("relu", "tanh"))
    assert Grid.from_dict(grid.to_dict()) == grid
    assert Grid.from_dict(grid.to_dict()).fingerprint() == grid.fingerprint()
    assert Grid(activations=("relu", "sigmoid")).fingerprint() != grid.fingerprint()


def test_data_order_depends_on_seed_and_epoch_only():
    np.testing.assert_array_equal(epoch_order(3, 1, 100), epoch_order(3, 1, 100))
    assert not np.array_equal(epoch_order(3, 1, 100), epoch_order(4, 1, 100))
    assert not np.array_equal(epoch_order(3, 1, 100), epoch_order(3, 2, 100))
    assert sorted(epoch_order(3, 1, 100)) == list(range(100))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"activations": ()}, ValueError, r"activations of the grid is empty"),
        ({"seeds": ()}, ValueError, r"seeds of the grid is empty"),
        ({"activations": ("relu", "nope")}, ValueError, r"Unknown activation 'nope'\. Valid names"),
        ({"activations": ("relu", "RELU")}, ValueError, r"activations of the grid repeat a value"),
        ({"architectures": ((0,),)}, ValueError, r"hidden of mlp must be an integer >= 1\. Received: hidden=0"),
        ({"epochs": 0}, ValueError, r"epochs of the grid must be an integer >= 1"),
        ({"learning_rates": (0.0,)}, ValueError, r"learning_rate of the grid must be a finite number > 0"),
        ({"seeds": (-1,)}, ValueError, r"seeds of the grid must be an integer in \[0, 2\*\*32\)\. Received: seeds=-1"),
        ({"activations": ("no.such.module:Layer",)}, ValueError, r"names no importable layer class"),
        ({"activations": ("prelu(shared_axes=[2])",)}, ValueError,
         r"shared_axes of PReLU must be axes of its rank-2 input, 1 to 1 .* Received: shared_axes=\[2\] for "
         r"input_shape=\(None, 64\)"),
        ({"activations": ("relu", "relu(max_value=1, threshold=1)")}, ValueError,
         r"max_value of activation 'relu' must be > threshold"),
    ],
)
def test_bad_grids_are_refused_with_a_clear_message(kwargs, error, match):
    with pytest.raises(error, match=match):
        Grid(**kwargs)
