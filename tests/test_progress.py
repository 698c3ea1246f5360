"""Progress off a terminal (a log file, CI, a captured stream): a line at every 10% of the steps, with the
percentage, the steps done, the time elapsed and an ETA, for ``compare`` and for ``train``."""

from __future__ import annotations

import io
import re
import subprocess
import sys

from relulab.progress import Milestones, StepProgress, TrainingProgress

LINE = re.compile(r"^compare: (\d+)% \((\d+) of 1000 steps\), \d+ s elapsed(, ETA \d+ s)?$")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_milestones_say_each_tenth_once_with_an_eta_from_the_pace_so_far():
    clock = Clock()
    lines = Milestones(200, description="work", clock=clock)
    assert lines.advance(19) is None  # 9.5%
    clock.now = 10.0
    assert lines.advance(1) == "work: 10% (20 of 200 steps), 10 s elapsed, ETA 90 s"
    assert lines.advance(1) is None
    clock.now = 50.0
    assert lines.advance(79) == "work: 50% (100 of 200 steps), 50 s elapsed, ETA 50 s"  # 20%..50%: one line
    assert lines.advance(100) == "work: 100% (200 of 200 steps), 50 s elapsed"


def test_step_progress_prints_ten_lines_when_the_stream_is_not_a_terminal():
    stream = io.StringIO()
    with StepProgress(description="compare", stream=stream) as bar:
        bar.update(1000, 0)
        for _ in range(40):
            bar.update(1000, 25)
    lines = stream.getvalue().splitlines()
    assert [int(LINE.match(line).group(1)) for line in lines] == list(range(10, 101, 10)), lines
    assert all("ETA" in line for line in lines[:-1])


def test_training_progress_prints_tenths_and_one_line_per_epoch_off_a_terminal():
    stream = io.StringIO()
    progress = TrainingProgress(description="relu on digits", stream=stream)
    progress.set_params({"epochs": 2, "steps": 10})
    progress.on_train_begin()
    for epoch in range(2):
        for batch in range(10):
            progress.on_train_batch_end(batch, {"loss": 1.0})
        progress.on_epoch_end(epoch, {"loss": 0.5, "accuracy": 0.75})
    progress.on_train_end()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10, lines  # 10%..40%, epoch 1 (50%), 60%..90%, epoch 2 (100%)
    assert lines[0].startswith("relu on digits: 10% (2 of 20 steps)") and "ETA" in lines[0]
    assert re.match(r"relu on digits: epoch 1/2, 50% \(10 of 20 steps\), \d+ s elapsed, ETA \d+ s "
                    r"loss=0\.5000 accuracy=0\.7500$", lines[4])
    assert lines[-1].startswith("relu on digits: epoch 2/2, 100% (20 of 20 steps)")


def _relulab(*args: str, cwd) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "relulab", *args], cwd=cwd, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_compare_with_stderr_to_a_pipe_reports_progress_before_the_table(tmp_path):
    result = _relulab("compare", "--dataset", "digits", "--train-size", "64", "--test-size", "32", "--epochs", "2",
                      "--seeds", "1", "--no-diagnostics", "--out", "lab", cwd=tmp_path)
    lines = [line for line in result.stderr.splitlines() if line.startswith("compare: ")]
    assert [line.split("%")[0] for line in lines] == ["compare: 50", "compare: 100"], result.stderr
    assert "ETA" in lines[0]


def test_train_with_stderr_to_a_pipe_reports_each_epoch(tmp_path):
    result = _relulab("train", "--dataset", "digits", "--train-size", "64", "--test-size", "32", "--epochs", "2",
                      "--out", "run", cwd=tmp_path)
    assert re.search(r"^relu on digits: epoch 1/2, 50% \(2 of 4 steps\), \d+ s elapsed, ETA \d+ s accuracy=[0-9.]+ loss=",
                     result.stderr, re.MULTILINE), result.stderr
