"""``relulab report`` (html, csv, json) on a damaged or foreign ``results.db``, and on a grid that names a
custom layer that is gone: one line naming the file and what is wrong, exit 2, nothing imported or written."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import sys

import pytest

from relulab.cli import main
from relulab.lab import store as results_store
from relulab.lab.engine import RunResult
from relulab.lab.grid import Grid

FORMATS = ("html", "csv", "json")


def make_experiment(folder, grid=None):
    """A small finished experiment written straight into a store (no training)."""
    grid = grid or Grid(activations=("relu", "tanh"), seeds=(0, 1), epochs=2)
    folder.mkdir(parents=True, exist_ok=True)
    with results_store.create(folder / "results.db", grid, command=["relulab", "compare"], versions={}) as store:
        for spec in grid.runs():
            history = {"loss": [1.0, 0.5], "val_accuracy": [0.8, 0.9], "val_loss": [1.1, 0.6],
                       "accuracy": [0.7, 0.8], "dead_fraction/dense": [0.1, math.nan]}
            store.add(RunResult(spec, history, test_loss=0.4, test_accuracy=0.9, seconds=1.0), engine="test")
    return folder / "results.db"


def _sql(statement, *params):
    def damage(path):
        with sqlite3.connect(path) as connection:
            connection.execute(statement, params)
        connection.close()
    return damage


def _garbage_in_the_middle(path):
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 3000] = b"\xde\xad\xbe\xef" * 750
    path.write_bytes(bytes(data))


DAMAGE = {
    "garbage in the middle": (_garbage_in_the_middle, r"results.db is (damaged|not a readable relulab results)"),
    "no experiment table": (_sql("DROP TABLE experiment"), r"results.db is damaged \(no such table: experiment\)"),
    "no epochs table": (_sql("DROP TABLE epochs"), r"results.db is damaged \(no such table: epochs\)"),
    "grid is malformed JSON": (_sql("UPDATE experiment SET grid = '{\"dataset\": '"),
                               r"results.db: the stored grid is not valid JSON"),
    "grid is a JSON list": (_sql("UPDATE experiment SET grid = '[1, 2]'"),
                            r"results.db: the stored grid must be a JSON object, not list"),
    "grid misses a field": (_sql("UPDATE experiment SET grid = '{\"architectures\": 5}'"),
                            r"results.db: the stored grid is not a valid relulab grid"),
    "spec is malformed JSON": (_sql("UPDATE runs SET spec = '{oops'"),
                               r"results.db: the stored spec of run .* is not valid JSON"),
    "spec is a JSON list": (_sql("UPDATE runs SET spec = '[]'"),
                            r"results.db: the stored spec of run .* must be a JSON object, not list"),
    "a metric is text": (_sql("UPDATE epochs SET value = 'x' WHERE metric = 'loss'"),
                         r"results.db: a stored value of epochs of .* is not a number \('x'\)"),
    "command is a JSON string": (_sql("UPDATE experiment SET command = '\"relulab\"'"),
                                 r"results.db: the stored command must be a JSON list, not str"),
}


@pytest.mark.parametrize("form", FORMATS)
@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_database_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, kind, form):
    damage, message = DAMAGE[kind]
    path = make_experiment(tmp_path / "lab")
    damage(path)
    before = sorted(p.name for p in path.parent.iterdir())
    assert main(["report", str(path.parent), "--format", form]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("relulab report: error: ")
    assert __import__("re").search(message, captured.err), captured.err
    assert sorted(p.name for p in path.parent.iterdir()) == before


def test_a_damaged_database_is_refused_by_compare_too(tmp_path, capsys):
    path = make_experiment(tmp_path / "lab")
    _garbage_in_the_middle(path)
    before = path.read_bytes()
    assert main(["compare", "--dataset", "digits", "--train-size", "60", "--test-size", "30", "--epochs", "1",
                 "--activations", "relu,tanh", "--seeds", "2", "--out", str(path.parent), "--overwrite"]) == 2
    assert "results.db is " in capsys.readouterr().err and path.read_bytes() == before


@pytest.mark.parametrize("form", FORMATS)
def test_report_imports_nothing_that_the_stored_grid_names(tmp_path, monkeypatch, capsys, form):
    """A grid compared with a custom layer reports from its numbers after the layer's module is gone, and
    a module the database names is never imported (its import would write PWNED)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "relulab_test_gone.py").write_text(
        "import pathlib, keras\npathlib.Path(__file__).with_name('PWNED').write_text('ran')\n"
        "class Gone(keras.layers.Layer):\n    def call(self, x):\n        return keras.ops.relu(x)\n")
    grid = Grid(activations=("relu", "relulab_test_gone:Gone"), seeds=(0, 1), epochs=2, kernel_initializer="auto")
    (tmp_path / "PWNED").unlink()
    del sys.modules["relulab_test_gone"]
    path = make_experiment(tmp_path / "lab", grid)
    assert main(["report", str(path.parent), "--format", form]) == 0
    out = capsys.readouterr().out
    assert "relulab_test_gone" not in sys.modules and not (tmp_path / "PWNED").exists()
    if form == "json":
        assert json.loads(out)["experiment"]["grid"]["activations"] == ["relu", "relulab_test_gone:Gone"]
    elif form == "csv":
        assert "relulab_test_gone:Gone" in out
    else:
        assert "relulab_test_gone:Gone" in (path.parent / "report.html").read_text()


def test_report_reads_without_writing_the_database(tmp_path, monkeypatch, capsys):
    """A read-only folder: the store is opened read-only (immutable), csv and json export, html says why not."""
    path = make_experiment(tmp_path / "lab")
    before = path.read_bytes()
    monkeypatch.setattr(results_store.os, "access", lambda *args, **kwargs: False)  # as a read-only folder looks
    assert main(["report", str(path.parent), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("activation,")
    assert main(["report", str(path.parent), "--format", "html"]) == 2
    assert "lab is read-only: report.html, the summary files and the plots cannot be written there; --format csv" \
           in capsys.readouterr().err
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.db"] and path.read_bytes() == before


RESUMED = ["compare", "--dataset", "digits", "--train-size", "60", "--test-size", "30", "--epochs", "2",
           "--activations", "relu,tanh", "--seeds", "2", "--no-diagnostics"]


def resumable(folder):
    """An experiment that the RESUMED command line resumes (same grid), with every run finished."""
    grid = Grid(dataset="digits", train_size=60, test_size=30, epochs=2, activations=("relu", "tanh"),
                seeds=(0, 1), diagnostics=False)
    return make_experiment(folder, grid)


def test_the_resumed_command_finds_the_experiment_intact(tmp_path, capsys):
    path = resumable(tmp_path / "lab")
    assert main([*RESUMED, "--out", str(path.parent)]) == 0
    assert "resumed: 4 runs were already finished, 0 trained now" in capsys.readouterr().out


@pytest.mark.parametrize("kind", DAMAGE)
def test_compare_resuming_into_a_damaged_experiment_is_one_line(tmp_path, capsys, kind):
    damage, message = DAMAGE[kind]
    path = resumable(tmp_path / "lab")
    damage(path)
    before = path.read_bytes()
    assert main([*RESUMED, "--out", str(path.parent)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("relulab compare: error: ") and __import__("re").search(message, err), err
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) in (["results.db"], [".relulab-lock", "results.db"])


def test_compare_into_a_read_only_folder_says_sqlite_cannot_write_there(tmp_path, monkeypatch, capsys):
    path = resumable(tmp_path / "lab")
    monkeypatch.setattr(results_store.os, "access", lambda *args, **kwargs: False)  # as a read-only folder looks
    assert main([*RESUMED, "--out", str(path.parent)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"relulab compare: error: --out {path.parent}: {path.parent} is read-only: SQLite cannot write results.db's "
        f"side files (results.db-wal, results.db-shm) there; relulab compare must write there (relulab report only "
        f"reads: it works in a read-only folder).")
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.db"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_truly_read_only_folder(tmp_path, capsys):
    path = resumable(tmp_path / "lab")
    path.parent.chmod(0o555)
    try:
        assert main(["report", str(path.parent), "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["summary"]
        assert main([*RESUMED, "--out", str(path.parent)]) == 2
        assert "is read-only: SQLite cannot write results.db's side files" in capsys.readouterr().err
    finally:
        path.parent.chmod(0o755)


@pytest.mark.parametrize("name", ["summary.csv", "report.html", "plots", ".relulab-lock"])
def test_a_symbolic_link_in_the_experiment_folder_is_never_written_through(tmp_path, capsys, name):
    """A folder from elsewhere whose report file (or lock file) links to a file of the user's."""
    path = resumable(tmp_path / "lab")
    victim = tmp_path / "victim"
    victim.write_text("the user's")
    (path.parent / name).symlink_to(victim)
    argv = [*RESUMED, "--out", str(path.parent)] if name == ".relulab-lock" else ["report", str(path.parent)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "symbolic link" in err and (name in err), err
    assert victim.read_text() == "the user's"
