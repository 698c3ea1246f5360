"""What both monitors share: the probe, the epoch/batch schedule and the "batches seen" fallback.

Measurement happens in ``on_epoch_end`` (after validation), and the values go into that epoch's
``logs`` dict, which Keras hands on to every later callback: put the monitors *before* ``CSVLogger``,
``TensorBoard`` and ``EarlyStopping`` in the ``callbacks`` list (``History`` always comes last). By
default nothing runs per step: the monitors do not override ``on_train_batch_end``, so Keras keeps
dispatching batch ends asynchronously. With ``batch_frequency=N`` they also measure on the probe every
N batches into the batch logs (that makes every step's end synchronous: use it for diagnosis, not
for speed).
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import keras

from relulab import _validate
from relulab.diagnostics.activity import DEFAULT_BATCH_SIZE
from relulab.diagnostics.probe import DEFAULT_PROBE_SIZE, check_probe, subset


class Monitor(keras.callbacks.Callback, abc.ABC):
    """Base class: subclasses implement ``_prepare`` (at train begin), ``_probe_values`` and
    ``_seen_values``; ``self._seen`` is the batches-seen counter (None in probe mode)."""

    owner: ClassVar[str] = "Monitor"
    needs_targets: ClassVar[bool] = False

    def __init__(
        self,
        probe: Any = None,
        *,
        probe_size: int = DEFAULT_PROBE_SIZE,
        batch_size: int = DEFAULT_BATCH_SIZE,
        batch_frequency: int | None = None,
    ) -> None:
        super().__init__()
        self.probe_size = _validate.positive_int(probe_size, name="probe_size", owner=self.owner)
        self.batch_size = _validate.positive_int(batch_size, name="batch_size", owner=self.owner)
        self._probe = self._split(probe)
        if batch_frequency is not None:
            batch_frequency = _validate.positive_int(batch_frequency, name="batch_frequency", owner=self.owner)
            if probe is None:
                raise ValueError(f"batch_frequency of {self.owner} needs a probe. Received: probe=None")
            self.on_train_batch_end = self._on_batch  # only then: a per-step callback costs every step
        self.batch_frequency = batch_frequency
        self._seen: Any = None
        self.x: Any = None
        self.y: Any = None

    def _split(self, probe: Any) -> tuple[Any, Any] | None:
        if probe is None:
            return None
        if isinstance(probe, tuple) and len(probe) == 2:
            return probe[0], probe[1]
        if self.needs_targets:
            raise TypeError(
                f"probe of {self.owner} must be a pair (x, y) or None. Received: probe={type(probe).__name__}"
            )
        return probe, None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._stop_seen()
        if self._probe is not None:
            x, y = self._probe
            x, y = check_probe(self.model, x, y if self.needs_targets else None, owner=self.owner)
            self.x, self.y = subset(x, y, self.probe_size)
        elif keras.backend.backend() == "jax":
            raise ValueError(
                f"probe of {self.owner} is needed on the JAX backend, whose jitted training step cannot update "
                f"the monitor's counters. Received: probe=None"
            )
        self._prepare()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self._seen is not None:
            self._seen.reset()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        values = self._seen_values() if self._seen is not None else self._probe_values()
        if logs is not None:
            logs.update(values)
        self._after_epoch(epoch, values)

    def _on_batch(self, batch: int, logs: dict | None = None) -> None:
        if (batch + 1) % self.batch_frequency == 0 and logs is not None:
            logs.update(self._probe_values())

    def on_train_end(self, logs: dict | None = None) -> None:
        self._stop_seen()

    def _stop_seen(self) -> None:
        if self._seen is not None:
            self._seen.stop()
            self._seen = None

    def _start_seen(self, counter: Any) -> None:
        self._seen = counter
        counter.start()
        counter.reset()

    @abc.abstractmethod
    def _prepare(self) -> None:
        """Find what to measure on ``self.model``; start the batches-seen counter when there is no probe."""

    @abc.abstractmethod
    def _probe_values(self) -> dict[str, float]:
        """Log entries measured on the probe now."""

    @abc.abstractmethod
    def _seen_values(self) -> dict[str, float]:
        """Log entries from the batches-seen counter."""

    def _after_epoch(self, epoch: int, values: dict[str, float]) -> None:
        """Hook for warnings; default nothing."""
