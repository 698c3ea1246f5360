"""``relulab compare`` and ``relulab report`` from the command line: a small grid end to end, the
exports, and every bad input as one line on stderr, exit 2, with nothing overwritten."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3

import pytest

from relulab.cli import main

TINY = ["--dataset", "digits", "--train-size", "120", "--test-size", "60", "--epochs", "1", "--seeds", "2"]


def run_cli(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exited:
        return exited.code


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab") / "tiny"
    assert run_cli(["compare", *TINY, "--activations", "relu,tanh", "--out", str(out)]) == 0
    return out


def test_compare_trains_the_grid_and_writes_every_artifact(experiment):
    names = {p.name for p in experiment.iterdir()}
    assert {"results.db", "summary.csv", "summary.json", "report.html", "plots"} <= names
    with sqlite3.connect(experiment / "results.db") as connection:
        assert connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 4


def test_running_the_same_command_again_trains_nothing(experiment, capsys):
    assert run_cli(["compare", *TINY, "--activations", "relu,tanh", "--out", str(experiment)]) == 0
    assert "resumed: 4 runs were already finished, 0 trained now" in capsys.readouterr().out


def test_report_exports_csv_and_json_from_the_database_alone(experiment, capsys):
    assert run_cli(["report", str(experiment), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["activation"] for row in rows] == ["relu", "tanh"]
    assert all(0 <= float(row["test_accuracy_mean"]) <= 1 for row in rows)
    assert run_cli(["report", str(experiment), "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["runs"]) == 4 and payload["experiment"]["grid"]["activations"] == ["relu", "tanh"]
    (experiment / "report.html").unlink()
    assert run_cli(["report", str(experiment)]) == 0
    assert (experiment / "report.html").is_file()


BAD_GRIDS = {
    "empty activation list": (["--activations", ""], r"argument --activations: has an empty entry"),
    "empty entry": (["--activations", "relu,,tanh"], r"argument --activations: has an empty entry"),
    "unknown activation": (["--activations", "relu,relux"], r"invalid grid: Unknown activation 'relux'"),
    "zero depth": (["--depths", "0,1"], r"--depths must all be >= 1\. Received: 0,1"),
    "zero seeds": (["--seeds", "0"], r"--seeds must be >= 1\. Received: 0"),
    "unknown preset": (["--preset", "nope"], r"argument --preset: invalid choice: 'nope'"),
    "bad learning rate": (["--lrs", "0"], r"invalid grid: --lrs must be a finite number > 0\. Received: learning_rate=0\.0"),
    "repeated depth": (["--depths", "1,1"], r"--hidden/--depths repeat a value\. Received: architectures=\[\(64,\), \(64,\)\]"),
    "repeated learning rate": (["--lrs", "0.001,1e-3"], r"--lrs repeat a value\. Received: learning_rates=\[0\.001, 0\.001\]"),
    "repeated architecture": (["--hidden", "10;10"], r"--hidden/--depths repeat a value"),
    "baseline not compared": (["--activations", "relu,tanh", "--baseline", "sigmoid"],
                              r"--baseline must be one of the activations \(relu, tanh\)\. "
                              r"Received: baseline='sigmoid'"),
    "unknown spec argument": (["--activations", "prelu(slope=0.1)"],
                              r"activation 'prelu' got an unknown argument slope=0\.1\. Allowed arguments: "
                              r"alpha, shared_axes, alpha_regularizer, alpha_constraint \(alpha_initializer for alpha\)"),
    "shared_axes the input cannot have": (["--activations", "relu,prelu(shared_axes=[5])"],
                                          r"invalid grid: shared_axes of PReLU must be axes of its rank-2 input"),
    "custom layer needing arguments": (["--activations", "relu,keras.layers:Dense"],
                                       r"custom activation 'keras.layers:Dense' cannot be built without arguments"),
    "address without ray": (["--address", "127.0.0.1:6379"], r"--address is for --engine ray"),
    "hidden and depths": (["--hidden", "8;8,8", "--depths", "2"], r"--hidden gives the architectures itself"),
    "unknown dataset": (["--dataset", "imagenet"], r"--dataset must be one of 'digits'.*Received: name_or_path='imagenet'"),
}


@pytest.mark.parametrize("case", list(BAD_GRIDS))
def test_bad_grids_are_one_line_and_exit_2(case, tmp_path, capsys):
    args, match = BAD_GRIDS[case]
    out = tmp_path / "out"
    assert run_cli(["compare", *TINY, *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and re.search(match, err), err
    assert not out.exists()


def _refused(experiment, capsys, argv, match):
    before = (experiment / "results.db").read_bytes()
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and re.search(match, err), err
    assert (experiment / "results.db").read_bytes() == before  # nothing overwritten


def test_a_different_experiment_in_the_folder_is_refused(experiment, capsys):
    _refused(experiment, capsys, ["compare", *TINY, "--activations", "relu,sigmoid", "--out", str(experiment)],
             r"holds a different experiment; choose another folder or pass --overwrite")


def test_a_database_from_another_version_is_refused(tmp_path, experiment, capsys):
    copy = tmp_path / "old"
    copy.mkdir()
    (copy / "results.db").write_bytes((experiment / "results.db").read_bytes())
    with sqlite3.connect(copy / "results.db") as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    _refused(copy, capsys, ["compare", *TINY, "--activations", "relu,tanh", "--out", str(copy)],
             r"written with results schema version 99")
    _refused(copy, capsys, ["report", str(copy)], r"written with results schema version 99")


def test_a_corrupt_database_is_refused(tmp_path, capsys):
    folder = tmp_path / "corrupt"
    folder.mkdir()
    (folder / "results.db").write_bytes(b"\x00garbage" * 512)
    _refused(folder, capsys, ["compare", *TINY, "--out", str(folder)], r"is not a readable relulab results database")
    _refused(folder, capsys, ["report", str(folder)], r"is not a readable relulab results database")


def test_report_on_a_folder_without_results(tmp_path, capsys):
    assert run_cli(["report", str(tmp_path)]) == 2
    assert "results.db does not exist; run relulab compare first" in capsys.readouterr().err


def test_overwrite_resumes_the_same_experiment_and_keeps_foreign_files(tmp_path, capsys):
    out = tmp_path / "lab"
    out.mkdir()
    (out / "thesis.tex").write_text("not relulab's")
    assert run_cli(["compare", *TINY, "--activations", "relu,tanh", "--out", str(out), "--overwrite"]) == 2
    assert "is not empty and holds no relulab experiment" in capsys.readouterr().err  # never ours to delete
    (out / "thesis.tex").unlink()
    assert run_cli(["compare", *TINY, "--activations", "relu,tanh", "--out", str(out), "--overwrite"]) == 0
    (out / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert run_cli(["compare", *TINY, "--activations", "relu,tanh", "--out", str(out), "--overwrite"]) == 0
    assert "resumed: 4 runs were already finished, 0 trained now" in capsys.readouterr().out
    assert run_cli(["compare", *TINY, "--activations", "relu,sigmoid", "--out", str(out), "--overwrite"]) == 0
    with sqlite3.connect(out / "results.db") as connection:
        assert {a for (a,) in connection.execute("SELECT activation FROM runs")} == {"relu", "sigmoid"}
    assert (out / "notes.txt").read_text() == "mine"  # --overwrite removes relulab's files only
    (out / "plots" / "mine.png").write_bytes(b"a user's picture")
    assert run_cli(["compare", *TINY, "--activations", "relu,tanh", "--out", str(out), "--overwrite"]) == 0
    assert (out / "plots" / "mine.png").read_bytes() == b"a user's picture"  # in plots/ too
    assert (out / "plots" / "learning_curves.png").is_file()


def test_an_out_folder_that_cannot_be_made_is_one_line_before_any_training(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    assert run_cli(["compare", *TINY, "--out", str(tmp_path / "afile" / "lab")]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == f"relulab compare: error: --out {tmp_path / 'afile' / 'lab'} cannot be made: " \
                                           f"{tmp_path / 'afile'} is a file, not a folder."


def test_a_diverged_run_is_stored_with_no_loss_and_reported(tmp_path, capsys):
    out = tmp_path / "lab"
    assert run_cli(["compare", *TINY, "--activations", "relu", "--lrs", "1e30", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    losses = [run["test_loss"] for run in summary["runs"]]
    assert None in losses  # NaN loss -> null, not a crash and not a non-standard NaN token
    assert run_cli(["compare", *TINY, "--activations", "relu", "--lrs", "1e30", "--out", str(out)]) == 0
    assert "resumed: 2 runs were already finished, 0 trained now" in capsys.readouterr().out


def test_a_new_baseline_reuses_the_runs(experiment, capsys):
    assert run_cli(["compare", *TINY, "--activations", "relu,tanh", "--baseline", "tanh", "--out", str(experiment)]) == 0
    out = capsys.readouterr().out
    assert "0 trained now" in out and "Δacc vs tanh" in out
