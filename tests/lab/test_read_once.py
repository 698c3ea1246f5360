"""The lab reads ``results.db`` once per command and trusts what it stored: one read of the runs, one
summary, and the activation specs checked only where the user typed them."""

from __future__ import annotations

import collections

import pytest

from relulab import layers
from relulab.cli import main
from relulab.lab import grid as grid_module
from relulab.lab import stats
from relulab.lab.store import Store

TINY = ["--dataset", "digits", "--train-size", "120", "--test-size", "60", "--epochs", "1", "--seeds", "2",
        "--activations", "relu,tanh,leaky_relu(negative_slope=0.1)"]


def count_calls(monkeypatch) -> collections.Counter:
    """Counts of the store's reads, of stored grids rebuilt, of summaries and of spec checks from now on."""
    counted = collections.Counter()

    def counting(owner, name):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            counted[name] += 1
            return original(*args, **kwargs)
        monkeypatch.setattr(owner, name, wrapper)

    counting(Store, "_results")
    counting(Store, "_grid")
    counting(stats, "summarise")
    counting(layers, "canonical")
    return counted


@pytest.fixture
def calls(monkeypatch):
    return count_calls(monkeypatch)


def test_compare_reads_the_store_once_and_checks_each_spec_once(tmp_path, calls, capsys):
    assert main(["compare", *TINY, "--out", str(tmp_path / "lab")]) == 0
    assert "relu" in capsys.readouterr().out
    assert calls["_results"] == 1 and calls["_grid"] == 1 and calls["summarise"] == 1
    assert calls["canonical"] == 3  # the three activations of the command line; the stored grid is trusted


@pytest.mark.parametrize("form", ["html", "csv", "json"])
def test_report_reads_the_store_once_and_checks_no_spec(tmp_path, form, capsys, monkeypatch):
    out = tmp_path / "lab"
    assert main(["compare", *TINY, "--out", str(out)]) == 0
    counted = count_calls(monkeypatch)
    capsys.readouterr()
    assert main(["report", str(out), "--format", form]) == 0
    assert counted["_results"] == 1 and counted["_grid"] == 1 and counted["summarise"] == 1
    assert counted["canonical"] == 0


def test_a_stored_grid_is_taken_as_written(tmp_path):
    stored = {**grid_module.Grid(seeds=(0,)).to_dict(), "activations": ["relu", "mypackage.nowhere:Layer"]}
    grid = grid_module.Grid.from_dict(stored, stored=True)  # neither imported nor resolved
    assert grid.activations == ("relu", "mypackage.nowhere:Layer")
    with pytest.raises(ValueError, match=r"mypackage\.nowhere"):
        grid_module.Grid.from_dict(stored)  # what a user types is checked
