"""``relulab train`` end to end: the run folder, resume, and every bad input as one line and exit 2."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys

import numpy as np
import pytest

from relulab.cli import main

SMALL = ["--dataset", "digits", "--train-size", "300", "--test-size", "100", "--epochs", "2"]


def test_train_writes_a_folder_that_explains_itself(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *SMALL, "--activation", "leaky_relu(negative_slope=0.1)", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [".relulab-run", "config.json", "history.csv", "metrics.json",
                                                       "model.keras"]
    (tmp_path / "plain").mkdir()
    assert stat.S_IMODE(out.stat().st_mode) == stat.S_IMODE((tmp_path / "plain").stat().st_mode)  # not 0700
    saved = json.loads((out / "config.json").read_text())
    assert saved["config"]["activation"] == "leaky_relu(negative_slope=0.1)"
    assert saved["seed"] == 0 and saved["versions"]["keras"]
    assert saved["command"][1:3] == ["train", "--dataset"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert f"test accuracy {metrics['test_accuracy']:.4f}" in capsys.readouterr().out
    history = (out / "history.csv").read_text().splitlines()
    assert history[0] == "epoch,accuracy,loss,val_accuracy,val_loss" and len(history) == 3


def test_the_same_run_again_is_recognised_and_a_different_one_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *SMALL, "--out", str(out)]) == 0
    assert main(["train", *SMALL, "--out", str(out)]) == 0
    assert "already holds this run" in capsys.readouterr().out
    assert main(["train", *SMALL, "--seed", "1", "--out", str(out)]) == 2
    assert "holds a different run; choose another folder or pass --overwrite" in capsys.readouterr().err
    assert main(["train", *SMALL, "--seed", "1", "--out", str(out), "--overwrite"]) == 0
    assert json.loads((out / "config.json").read_text())["config"]["seed"] == 1


def _write(path, text_or_bytes):
    if isinstance(text_or_bytes, bytes):
        path.write_bytes(text_or_bytes)
    else:
        path.write_text(text_or_bytes)
    return str(path)


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def _good(n=20, features=4):
    rng = np.random.default_rng(0)
    return {"x_train": rng.random((n, features)), "y_train": np.arange(n) % 3,
            "x_test": rng.random((n, features)), "y_test": np.arange(n) % 3}


BAD_INPUTS = {
    "unknown dataset": (lambda d: ["--dataset", "imagenet"],
                        r"--dataset must be one of 'digits', .* Received: name_or_path='imagenet'"),
    "unknown activation": (lambda d: ["--activation", "relux"], r"--activation: Unknown activation 'relux'"),
    "bad activation parameter": (lambda d: ["--activation", "leaky_relu(slope=1)"], r"unknown argument slope=1"),
    "shared_axes the input cannot have": (lambda d: ["--activation", "prelu(shared_axes=[5])"],
                                          r"--activation: shared_axes of PReLU must be axes of its rank-2 input, "
                                          r"1 to 1 .* Received: shared_axes=\[5\] for input_shape=\(None, 64\)"),
    "100,000-character spec": (lambda d: ["--activation", "relu(" + "1," * 50_000 + ")"],
                               r"--activation: activation spec must be at most 1,000 characters\. "
                               r"Received: spec='relu\(1,1,.{0,80} \(100,008 characters\)$"),
    "cap below threshold": (lambda d: ["--activation", "relu(threshold=5, max_value=1)"],
                            r"--activation: max_value of activation 'relu' must be > threshold"),
    "missing file": (lambda d: ["--dataset", str(d / "missing.npz")], r"missing\.npz does not exist; expected a \.npz"),
    "corrupt npz": (lambda d: ["--dataset", _write(d / "bad.npz", b"PK\x03\x04garbage")],
                    r"bad\.npz is not a readable \.npz archive \(corrupt or truncated\)"),
    "empty csv": (lambda d: ["--dataset", _write(d / "empty.csv", "")], r"empty\.csv is empty; expected"),
    "fractional labels": (lambda d: ["--dataset", _npz(d / "f.npz", **{**_good(), "y_train": np.full(20, 0.5)})],
                          r"y_train in \S*f\.npz: labels must be integer class indices >= 0; found 0\.5 in example 0"),
    "negative labels": (lambda d: ["--dataset", _npz(d / "n.npz", **{**_good(), "y_train": -np.ones(20, int)})],
                        r"y_train in \S*n\.npz: labels must be integer class indices >= 0; found -1 in example 0"),
    "nan features": (lambda d: ["--dataset", _npz(d / "nan.npz", **{**_good(), "x_train": np.full((20, 4), np.nan)})],
                     r"x_train in \S*nan\.npz has NaN or infinite values \(first nan in example 0\)"),
    "mismatched lengths": (lambda d: ["--dataset", _npz(d / "m.npz", **{**_good(), "y_train": np.zeros(5, int)})],
                           r"x_train in \S*m\.npz has 20 examples but y_train in \S*m\.npz has 5 labels"),
    "text in csv": (lambda d: ["--dataset", _write(d / "t.csv", "label,a\n1,x\n0,2\n")],
                    r"t\.csv line 2, column 'a': 'x' is not a number; feature columns must be numeric"),
    "zero epochs": (lambda d: ["--epochs", "0"], r"argument --epochs: must be an integer >= 1, got 0"),
    "negative batch size": (lambda d: ["--batch-size", "-3"], r"argument --batch-size: must be an integer >= 1"),
    "bad dropout": (lambda d: ["--dropout", "1.5"], r"--dropout must be a finite number in \[0, 0\.99\]\. Received: dropout=1\.5"),
    "bad initializer": (lambda d: ["--initializer", "nope"], r"--initializer must be a Keras initializer name .* Received: kernel_initializer='nope'"),
}


def run_cli(argv: list[str]) -> int:
    """``main(argv)``'s exit status, whether it returns it or argparse exits with it."""
    try:
        return main(argv)
    except SystemExit as exited:
        return exited.code


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_and_no_run_folder(case, tmp_path, capsys):
    make_args, match = BAD_INPUTS[case]
    out = tmp_path / "out"
    status = run_cli(["train", "--train-size", "50", "--test-size", "20", "--epochs", "1", *make_args(tmp_path),
                      "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert re.search(match, err), err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no staging leftovers


def test_the_command_line_shows_no_tensorflow_chatter(tmp_path):
    result = subprocess.run([sys.executable, "-m", "relulab", "train", *SMALL, "--epochs", "1", "--out",
                             str(tmp_path / "run")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for noise in ("oneDNN", "cpu_feature_guard", "cuInit", "absl::InitializeLog", "cuda"):
        assert noise not in result.stderr, result.stderr


def test_version_and_list_commands(capsys):
    from relulab import __version__

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out.strip() == f"relulab {__version__}"
    assert main(["list", "activations"]) == 0
    listing = capsys.readouterr().out
    assert "leaky_relu    rectifier   negative_slope=0.01" in listing
    assert main(["list", "datasets"]) == 0
    assert {"digits", "mnist", "fashion_mnist"} <= {line.split()[0] for line in capsys.readouterr().out.splitlines()}


def test_overwrite_replaces_only_relulab_runs(tmp_path, capsys, monkeypatch):
    foreign = tmp_path / "papers"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("mine")
    assert run_cli(["train", *SMALL, "--out", str(foreign), "--overwrite"]) == 2
    assert "is not empty and holds no relulab run; choose another folder" in capsys.readouterr().err
    assert (foreign / "thesis.tex").read_text() == "mine"
    monkeypatch.chdir(foreign)
    assert run_cli(["train", *SMALL, "--out", ".", "--overwrite"]) == 2
    assert "is the current folder or one above it" in capsys.readouterr().err
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert run_cli(["train", *SMALL, "--out", str(a_file), "--overwrite"]) == 2
    assert "is a file, not a folder; choose another path" in capsys.readouterr().err
    assert a_file.read_text() == "x" and (foreign / "thesis.tex").exists()


def test_overwrite_refuses_a_run_folder_that_also_holds_the_users_files(tmp_path, capsys):
    out = tmp_path / "run"
    assert run_cli(["train", *SMALL, "--out", str(out)]) == 0
    (out / "notes.txt").write_text("mine")
    (out / "sub").mkdir()
    capsys.readouterr()
    assert run_cli(["train", *SMALL, "--seed", "1", "--out", str(out), "--overwrite"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"relulab train: error: --out {out} holds files relulab did not write (notes.txt, sub); --overwrite "
        f"replaces a run folder only: move them or choose another folder.")
    assert (out / "notes.txt").read_text() == "mine" and json.loads((out / "config.json").read_text())["seed"] == 0


def test_an_out_folder_that_cannot_be_made_fails_before_training(tmp_path, capsys, monkeypatch):
    from relulab import training

    monkeypatch.setattr(training, "train", lambda *a, **k: pytest.fail("trained before checking --out"))
    (tmp_path / "afile").write_text("x")
    assert run_cli(["train", *SMALL, "--out", str(tmp_path / "afile" / "run")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"relulab train: error: --out {tmp_path / 'afile' / 'run'} cannot be made: {tmp_path / 'afile'} is a file, "
        f"not a folder.")


def test_a_diverged_run_writes_strict_json(tmp_path):
    out = tmp_path / "run"
    assert run_cli(["train", *SMALL, "--lr", "1e30", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert metrics["test_loss"] is None
