"""Progress with an ETA for long work: a bar on a terminal, one line per epoch elsewhere (logs, CI)."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

import keras
from tqdm.auto import tqdm


class TrainingProgress(keras.callbacks.Callback):
    """One bar over all epochs of a ``fit`` (steps done, ETA, current loss and accuracy).

    On a terminal it is a live bar; when ``stream`` is not a terminal it prints one line per epoch.
    """

    def __init__(self, *, description: str = "training", stream: TextIO | None = None) -> None:
        super().__init__()
        self.description = description
        self.stream = stream or sys.stderr
        self._bar: Any = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        epochs, steps = self.params.get("epochs", 1), self.params.get("steps") or 0
        interactive = getattr(self.stream, "isatty", lambda: False)()
        self._bar = tqdm(
            total=epochs * steps, desc=self.description, unit="step", file=self.stream,
            disable=not interactive, dynamic_ncols=True, leave=True,
        )

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._bar.update(1)
        if batch % 20 == 0 and logs:
            self._bar.set_postfix(_short(logs), refresh=False)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._bar.disable:
            metrics = " ".join(f"{k}={v}" for k, v in _short(logs or {}).items())
            print(f"{self.description}: epoch {epoch + 1}/{self.params.get('epochs')} {metrics}", file=self.stream)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._bar.close()


def _short(logs: dict) -> dict[str, str]:
    return {k: f"{float(v):.4f}" for k, v in logs.items() if k in ("loss", "accuracy")}


class StepProgress:
    """A bar over many runs' steps with an overall ETA: ``update(total, n)`` adds ``n`` done steps.

    On a terminal it is a live bar; elsewhere it prints a line at every 10% done.
    """

    def __init__(self, *, description: str, stream: TextIO | None = None) -> None:
        self.description = description
        self.stream = stream or sys.stderr
        self._bar: Any = None
        self._next_tenth = 1
        self._start, self._done = time.monotonic(), 0  # the ETA's clock starts when the work does

    def __enter__(self) -> StepProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()

    def update(self, total: int, done: int) -> None:
        if self._bar is None:
            interactive = getattr(self.stream, "isatty", lambda: False)()
            self._bar = tqdm(total=total, desc=self.description, unit="step", file=self.stream,
                             disable=not interactive, dynamic_ncols=True, smoothing=0.05)
        self._bar.update(done)
        self._done += done  # a disabled tqdm bar counts nothing: keep the count here
        if self._bar.disable and total:
            fraction = self._done / total
            while self._next_tenth <= 10 and fraction >= self._next_tenth / 10:
                elapsed = time.monotonic() - self._start
                rate = self._done / elapsed if elapsed > 0 else 0
                eta = f", ETA {(total - self._done) / rate:.0f} s" if rate else ""
                print(f"{self.description}: {self._next_tenth * 10}% of {total} steps{eta}", file=self.stream)
                self._next_tenth += 1
