"""``relulab train --overwrite`` replaces only a run its marker proves relulab wrote, checked again when the
new run is ready; a user's folder, a damaged config.json, a symbolic link or a file dropped in meanwhile are
never deleted: one line, exit 2."""

from __future__ import annotations

import json
import os

import pytest

from relulab import training
from relulab.cli import main
from relulab.run_folder import MARKER

TINY = ["--dataset", "digits", "--train-size", "100", "--test-size", "50", "--epochs", "1"]


def run_cli(argv):
    try:
        return main(argv)
    except SystemExit as exited:
        return exited.code


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished run folder (seed 0), copied for each test that changes it."""
    out = tmp_path_factory.mktemp("runs") / "run"
    assert run_cli(["train", *TINY, "--out", str(out)]) == 0
    return snapshot(out)


def restore(files, folder):
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def refused(capsys, argv, message, *, folder):
    before = snapshot(folder)
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("relulab train: error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert snapshot(folder) == before
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no .partial, no .replaced


def test_a_run_is_marked_and_overwrite_leaves_nothing_behind(tmp_path, trained, capsys):
    out = restore(trained, tmp_path / "run")
    marker = json.loads((out / MARKER).read_text())
    assert set(marker) == {"id", "config_hash"}
    assert run_cli(["train", *TINY, "--seed", "1", "--out", str(out), "--overwrite"]) == 0
    assert json.loads((out / "config.json").read_text())["seed"] == 1
    assert json.loads((out / MARKER).read_text())["id"] != marker["id"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_a_users_folder_with_a_config_and_a_model_is_not_a_run(tmp_path, capsys, overwrite):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "config.json").write_text('{"lr": 0.1}')
    (out / "model.keras").write_bytes(b"my model")
    refused(capsys, ["train", *TINY, "--out", str(out), *overwrite],
            f"--out {out} holds a config.json but no .relulab-run marker, so relulab cannot prove it wrote", folder=out)


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
@pytest.mark.parametrize("content, what", [
    ("[1, 2]", "it holds a JSON list, not an object"),
    ('"a string"', "it holds a JSON str, not an object"),
    ("{oops", "it is not readable JSON (Expecting property name"),
])
def test_a_config_json_that_is_not_an_object_is_one_line(tmp_path, capsys, content, what, overwrite):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text(content)
    refused(capsys, ["train", *TINY, "--out", str(out), *overwrite],
            f"{out / 'config.json'} is not a relulab run's file: {what}", folder=out)


def test_an_edited_marker_or_config_is_refused(tmp_path, trained, capsys):
    out = restore(trained, tmp_path / "run")
    saved = json.loads((out / "config.json").read_text())
    saved["config"]["epochs"] = 7
    (out / "config.json").write_text(json.dumps(saved))
    refused(capsys, ["train", *TINY, "--seed", "1", "--out", str(out), "--overwrite"],
            ".relulab-run does not match config.json (edited since relulab wrote it)", folder=out)


@pytest.mark.parametrize("change", ["a user's file", "another run"])
def test_a_folder_that_changes_during_training_is_not_replaced(tmp_path, trained, capsys, monkeypatch, change):
    """The race of issue 13: the check before training is repeated when the new run is ready."""
    out = restore(trained, tmp_path / "run")
    real_train = training.train

    def train_while_the_user_works(*args, **kwargs):
        result = real_train(*args, **kwargs)
        if change == "a user's file":
            (out / "notes.txt").write_text("mine")
        else:
            (out / MARKER).write_text(json.dumps({**json.loads((out / MARKER).read_text()), "id": "other"}))
        return result

    monkeypatch.setattr(training, "train", train_while_the_user_works)
    assert run_cli(["train", *TINY, "--seed", "1", "--out", str(out), "--overwrite"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]  # after the progress line of the training
    assert last.startswith(f"relulab train: error: --out {out} changed while the run trained")
    assert json.loads((out / "config.json").read_text())["seed"] == 0  # the old run, untouched
    if change == "a user's file":
        assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_a_symbolic_link_is_refused_before_training(tmp_path, trained, capsys, monkeypatch, overwrite):
    target = restore(trained, tmp_path / "real")
    link = tmp_path / "links" / "run"
    link.parent.mkdir()
    os.symlink(target, link)
    monkeypatch.setattr(training, "train", lambda *a, **k: pytest.fail("trained before checking --out"))
    refused(capsys, ["train", *TINY, "--seed", "1", "--out", str(link), *overwrite],
            f"--out {link} is a symbolic link (to {target}); relulab writes a run folder only at a real path",
            folder=target)
    assert link.is_symlink() and sorted(p.name for p in link.parent.iterdir()) == ["run"]


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
@pytest.mark.parametrize("content", ["[1, 2]", '"a string"'])
def test_compare_into_a_folder_with_such_a_config_json_is_one_line(tmp_path, capsys, content, overwrite):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text(content)
    before = snapshot(out)
    assert run_cli(["compare", *TINY, "--seeds", "1", "--out", str(out), *overwrite]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (f"relulab compare: error: --out {out} is not empty and holds no relulab "
                                            f"experiment; choose another folder.")
    assert snapshot(out) == before
