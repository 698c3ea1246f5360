"""Progress with an ETA for long work: a live bar on a terminal, plain lines elsewhere (log files, CI, a
notebook's captured output).

Off a terminal, a bar would only fill the log with carriage returns, so both kinds of progress print a
line at every 10% of the steps done instead: ``compare: 30% (360 of 1200 steps), 12 s elapsed, ETA 28 s``
(:class:`TrainingProgress` also prints one line per epoch with its loss and accuracy).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import keras
from tqdm.auto import tqdm


def _interactive(stream: TextIO) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


class Milestones:
    """Counts done steps out of ``total`` and says when another tenth of them is reached.

    ``advance(n)`` adds ``n`` steps and returns the line to print when the work crossed one or more
    tenths since the last line (one line even if several tenths were crossed at once), else None.
    """

    def __init__(self, total: int, *, description: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.description, self.done = total, description, 0
        self._clock, self._start, self._tenths = clock, clock(), 0

    def advance(self, steps: int) -> str | None:
        self.done += steps
        if self.total <= 0:
            return None
        tenths = min(10, self.done * 10 // self.total)
        if tenths <= self._tenths:
            return None
        self._tenths = tenths
        return self.line()

    def line(self) -> str:
        """``"<description>: 30% (360 of 1200 steps), 12 s elapsed, ETA 28 s"`` for the steps done so far."""
        return f"{self.description}: {self.status()}"

    def status(self) -> str:
        """``"30% (360 of 1200 steps), 12 s elapsed, ETA 28 s"``: the ETA assumes the pace so far."""
        elapsed = self._clock() - self._start
        percent = 100 * self.done // self.total if self.total else 100
        text = f"{percent}% ({self.done} of {self.total} steps), {elapsed:.0f} s elapsed"
        if 0 < self.done < self.total:
            text += f", ETA {elapsed / self.done * (self.total - self.done):.0f} s"
        return text


class TrainingProgress(keras.callbacks.Callback):
    """One bar over all epochs of a ``fit`` (steps done, ETA, current loss and accuracy).

    On a terminal it is a live bar; when ``stream`` is not a terminal it prints a line at every 10% of
    the steps and one line per epoch (percentage, ETA, loss and accuracy).
    """

    def __init__(self, *, description: str = "training", stream: TextIO | None = None) -> None:
        super().__init__()
        self.description = description
        self.stream = stream or sys.stderr
        self._bar: Any = None
        self._lines: Milestones | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        epochs, steps = self.params.get("epochs", 1), self.params.get("steps") or 0
        interactive = _interactive(self.stream)
        self._bar = tqdm(
            total=epochs * steps, desc=self.description, unit="step", file=self.stream,
            disable=not interactive, dynamic_ncols=True, leave=True,
        )
        self._lines = None if interactive else Milestones(epochs * steps, description=self.description)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._bar.update(1)
        if self._lines is not None:
            line = self._lines.advance(1)
            if line and batch + 1 != self.params.get("steps"):  # the epoch's last batch: its epoch line says it
                print(line, file=self.stream, flush=True)
        elif batch % 20 == 0 and logs:
            self._bar.set_postfix(_short(logs), refresh=False)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._lines is not None:
            metrics = " ".join(f"{k}={v}" for k, v in _short(logs or {}).items())
            print(f"{self.description}: epoch {epoch + 1}/{self.params.get('epochs')}, {self._lines.status()} "
                  f"{metrics}".rstrip(),
                  file=self.stream, flush=True)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._bar.close()


def _short(logs: dict) -> dict[str, str]:
    return {k: f"{float(v):.4f}" for k, v in logs.items() if k in ("loss", "accuracy")}


class StepProgress:
    """A bar over many runs' steps with an overall ETA: ``update(total, n)`` adds ``n`` done steps.

    On a terminal it is a live bar; elsewhere it prints a line at every 10% of the steps done
    (:class:`Milestones`).
    """

    def __init__(self, *, description: str, stream: TextIO | None = None) -> None:
        self.description = description
        self.stream = stream or sys.stderr
        self._bar: Any = None
        self._lines: Milestones | None = None

    def __enter__(self) -> StepProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()

    def update(self, total: int, done: int) -> None:
        if self._bar is None and self._lines is None:
            if _interactive(self.stream):
                self._bar = tqdm(total=total, desc=self.description, unit="step", file=self.stream,
                                 dynamic_ncols=True, smoothing=0.05)
            else:
                self._lines = Milestones(total, description=self.description)
        if self._bar is not None:
            self._bar.update(done)
            return
        line = self._lines.advance(done)
        if line:
            print(line, file=self.stream, flush=True)
