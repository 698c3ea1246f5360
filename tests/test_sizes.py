"""Sizes that cannot fit in memory are refused before anything is allocated, with the value and the memory
it would need: a model too wide (mlp, train, compare) and labels that would make a billion classes."""

from __future__ import annotations

import pytest

from relulab import _memory, models
from relulab.cli import main
from relulab.errors import SizeError

GIB = 2**30


def run_cli(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exited:
        return exited.code


def test_describe_bytes_reads_like_a_person_would_say_it():
    assert [_memory.describe_bytes(n) for n in (12, 1536, 7.3 * 2**40, 1e300)] == [
        "12 bytes", "1.5 KiB", "7.3 TiB", "8.3e+275 YiB"]


def test_training_bytes_counts_weights_gradients_adam_and_a_batch():
    assert models.parameter_count(64, [10], 3) == 65 * 10 + 11 * 3
    assert models.training_bytes(64, [10], 3) == 16 * (65 * 10 + 11 * 3)
    assert models.training_bytes(64, [10], 3, rows=2) == 16 * (65 * 10 + 11 * 3) + 2 * (64 + 10 + 3) * 8


def test_mlp_refuses_a_model_that_cannot_fit_before_building_it():
    with pytest.raises(SizeError, match=r"^hidden of mlp \(\[20000000, 20000000\]\) with 64 inputs and 10 classes "
                                        r"needs at least 5\.68 PiB to train \(4e\+14 parameters, 16 bytes each for the "
                                        r"weight, its gradient and Adam's two moments\); this machine has .* of memory"):
        models.mlp(64, 10, hidden=[20_000_000, 20_000_000])


def test_the_bound_is_this_machines_memory(monkeypatch):
    monkeypatch.setenv("RELULAB_MEMORY_BYTES", str(GIB))
    assert _memory.available_bytes() == GIB
    models.mlp(64, 10, hidden=1000)  # 1.1 MiB
    with pytest.raises(SizeError, match=r"needs at least 1\.12 GiB .* this machine has 1 GiB of memory"):
        models.mlp(64, 10, hidden=1_000_000)


def test_train_refuses_a_huge_width_in_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RELULAB_MEMORY_BYTES", str(16 * GIB))
    assert run_cli(["train", "--hidden", "20000000", "--out", "run"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("relulab train: error: --hidden ([20000000]) with 64 inputs and 10 classes needs at least "
                            "60.5 GiB to train (1.5e+09 parameters, 16 bytes each for the weight, its gradient and "
                            "Adam's two moments and the activations of 256 examples at once); this machine has "
                            "16 GiB of memory."), error
    assert error.count("\n") == 1 and list(tmp_path.iterdir()) == []


def test_compare_refuses_a_huge_width_before_writing_its_store(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RELULAB_MEMORY_BYTES", str(16 * GIB))
    assert run_cli(["compare", "--width", "20000000", "--depths", "1", "--seeds", "1", "--out", "lab"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("relulab compare: error: --hidden/--depths ([20000000]) with 64 inputs and 10 classes "
                            "needs at least 60.5 GiB"), error
    assert error.count("\n") == 1 and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("label, shown", [("1000000000", "1000000000"), ("1e300", "1e\\+300")])
def test_train_on_a_csv_with_a_huge_label_says_what_the_label_would_cost(tmp_path, monkeypatch, capsys, label, shown):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "table.csv").write_text(f"label,a\n0,1\n1,2\n{label},3\n1,4\n")
    assert run_cli(["train", "--dataset", "table.csv", "--out", "run"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1, error
    assert error.startswith("relulab train: error: labels (column 'label') of table.csv: labels must be class indices "
                            "0..K-1 with K at most 1,000 here"), error
    assert f"found {shown.replace(chr(92), '')} in example 2" in error and "output layer alone would need" in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]
