"""What both monitors share: the probe, the epoch/batch schedule and the "batches seen" fallback.

Measurement happens in ``on_epoch_end`` (after validation), and the values go into that epoch's
``logs`` dict, which Keras hands on to every later callback: put the monitors *before* ``CSVLogger``,
``TensorBoard`` and ``EarlyStopping`` in the ``callbacks`` list (``History`` always comes last). By
default nothing runs per step: the monitors do not override ``on_train_batch_end``, so Keras keeps
dispatching batch ends asynchronously. With ``batch_frequency=N`` they also measure on the probe every
N batches into the batch logs (that makes every step's end synchronous: use it for diagnosis, not
for speed).

Monitors joined to one :class:`SharedPass` (:func:`relulab.callbacks.default_monitors` joins its two) measure
in one pass over the probe (:func:`relulab.diagnostics.probe_pass.measure_probe`): the first of them to
measure at an epoch's end (or batch) runs the forward and backward pass for all of them, and the others read
that result. Keep them next to each other in the ``callbacks`` list, so that no callback changes the weights
between them.

A model that is not built when ``fit`` begins (a ``Sequential`` without ``keras.Input``) is built by Keras from the
training data at the first step; its monitors take and check their probe at their first measurement, after it.

A monitor keeps its pass (:class:`~relulab.diagnostics.probe_pass.ProbePass`) for the whole ``fit`` and, on
TensorFlow and JAX, compiles it when the ``fit`` plans enough passes for the trace to pay
(:func:`~relulab.diagnostics.probe_pass.worth_compiling`: the epochs, times the batch measurements per epoch
plus one with ``batch_frequency``).
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, ClassVar

import keras
import numpy as np

from relulab import _validate
from relulab.diagnostics.activity import DEFAULT_BATCH_SIZE
from relulab.diagnostics.probe import check_probe, default_probe_size, subset_unchecked
from relulab.diagnostics.probe_pass import ProbeMeasurement, ProbePass, worth_compiling

Key = tuple[int, int | None]  # (epoch, batch or None): when a measurement was taken


@dataclasses.dataclass
class Request:
    """What one monitor needs measured on the probe: the activity of ``sites``; with ``y``, the gradients."""

    sites: list = dataclasses.field(default_factory=list)
    y: Any = None
    loss_fn: Any = None


class SharedPass:
    """One probe pass per epoch end (or measured batch) for all the monitors that joined it.

    Monitors share only when they watch the same model on equal probe inputs (checked once per ``fit``);
    one that does not measures alone. A monitor no one joined has a pass of its own, so every measurement goes
    through here.
    """

    def __init__(self) -> None:
        self.reset()

    def join(self, monitor: Monitor) -> None:
        monitor._shared = self

    def reset(self) -> None:
        """Forget the last measurement, the partners and who trains now."""
        self._key: Key | None = None
        self._result: ProbeMeasurement | None = None
        self._measured: list[Monitor] = []
        self._partners: dict[int, list[Monitor]] = {}
        self._training: list[Monitor] = []
        self._passes: dict[tuple[int, ...], ProbePass] = {}  # per group of partners, for this fit

    def start(self, monitor: Monitor) -> None:
        """``monitor``'s ``fit`` begins: a monitor that starts again begins a new ``fit``, in which only the
        monitors started since are partners (one left out of this ``fit`` is not measured for)."""
        if any(m is monitor for m in self._training):
            self.reset()
        self._training.append(monitor)

    def partners(self, monitor: Monitor) -> list[Monitor]:
        """The monitors measured with ``monitor`` (itself included): same model, equal probe inputs."""
        if id(monitor) not in self._partners:
            self._partners[id(monitor)] = [
                m for m in self._training if m is monitor or (
                    m.model is monitor.model and m.x is not None and m.x.shape == monitor.x.shape
                    and m.x.dtype == monitor.x.dtype and np.array_equal(m.x, monitor.x))]
        return self._partners[id(monitor)]

    def measure(self, monitor: Monitor, key: Key) -> ProbeMeasurement:
        """``monitor``'s measurement at ``key``: the one taken for it at ``key`` already, else a new pass."""
        if self._key == key and self._result is not None and any(m is monitor for m in self._measured):
            return self._result
        for partner in self._training:  # each takes its probe now if it waited for Keras to build the model
            partner._ready()
        partners = self.partners(monitor)
        request = Request()
        for partner in partners:
            own = partner._request()
            request.sites += [site for site in own.sites if site not in request.sites]
            if own.y is not None:
                request.y, request.loss_fn = own.y, own.loss_fn
        group = tuple(id(m) for m in partners)
        if group not in self._passes:
            self._passes[group] = monitor._probe_pass(request, min(m.batch_size for m in partners))
        monitor.synced_model()
        self._result = self._passes[group](monitor.x, request.y)
        self._key, self._measured = key, partners
        return self._result


class Monitor(keras.callbacks.Callback, abc.ABC):
    """Base class: subclasses implement ``_prepare`` (at train begin), ``_request`` (what to measure on the
    probe), ``_probe_values`` and ``_seen_values``; ``self._seen`` is the batches-seen counter (None in probe
    mode). ``measurement`` holds the latest :class:`~relulab.diagnostics.probe_pass.ProbeMeasurement`
    (the model's outputs on the probe included), None before the first or in the batches-seen mode."""

    owner: ClassVar[str] = "Monitor"
    needs_targets: ClassVar[bool] = False

    def __init__(
        self,
        probe: Any = None,
        *,
        probe_size: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        batch_frequency: int | None = None,
    ) -> None:
        super().__init__()
        self.probe_size = None if probe_size is None else _validate.positive_int(
            probe_size, name="probe_size", owner=self.owner)
        self.batch_size = _validate.positive_int(batch_size, name="batch_size", owner=self.owner)
        self._probe = self._split(probe)
        if batch_frequency is not None:
            batch_frequency = _validate.positive_int(batch_frequency, name="batch_frequency", owner=self.owner)
            if probe is None:
                raise ValueError(f"batch_frequency of {self.owner} needs a probe. Received: probe=None")
            self.on_train_batch_end = self._on_batch  # only then: a per-step callback costs every step
        self.batch_frequency = batch_frequency
        self._seen: Any = None
        self._shared = SharedPass()  # its own until default_monitors joins it to a partner's
        self._shared.join(self)
        self._waiting = False  # training began on an unbuilt model: the probe is taken once Keras has built it
        self._epoch = 0
        self.x: Any = None
        self.y: Any = None
        self.measurement: ProbeMeasurement | None = None

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
        self.measurement = None
        self._shared.start(self)
        self._waiting = False
        if self._probe is not None:
            if not self.model.built:  # Keras builds it from the training data at the first step: wait for that
                self._waiting = True
                return
            self._take_probe()
        elif keras.backend.backend() == "jax":
            raise ValueError(
                f"probe of {self.owner} is needed on the JAX backend, whose jitted training step cannot update "
                f"the monitor's counters. Received: probe=None"
            )
        self._prepare()

    def _take_probe(self) -> None:
        """``self.x``, ``self.y``: the probe's examples, picked first and then checked (a whole training set is
        neither scanned nor copied)."""
        x, y = self._probe[0], self._probe[1] if self.needs_targets else None
        given = len(x) if hasattr(x, "__len__") else None
        x, y = subset_unchecked(x, y, self.probe_size or default_probe_size(self.model))
        try:
            self.x, self.y = check_probe(self.model, x, y, owner=self.owner)
        except ValueError as error:
            if given is None or len(x) == given:
                raise
            raise ValueError(f"{error} (in the probe: the {len(x)} examples {self.owner} measures, spread over the "
                             f"{given} it was given)") from None

    def _ready(self) -> None:
        """Take the probe and find what to measure, if training began on a model not built yet (built now)."""
        if self._waiting:
            self._waiting = False
            self._take_probe()
            self._prepare()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch
        if self._seen is not None:
            self._seen.reset()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._ready()
        values = self._seen_values() if self._seen is not None else self._probe_values((epoch, None))
        if logs is not None:
            logs.update(values)
        self._after_epoch(epoch, values)

    def _on_batch(self, batch: int, logs: dict | None = None) -> None:
        self._ready()
        if (batch + 1) % self.batch_frequency == 0 and logs is not None:
            logs.update(self._probe_values((self._epoch, batch)))

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

    def _measure(self, key: Key) -> ProbeMeasurement:
        """The probe measured now (``key``: this epoch and batch), in the pass it shares (or has alone)."""
        self.measurement = self._shared.measure(self, key)
        return self.measurement

    def synced_model(self) -> keras.Model:
        """The model, its variables holding the values training reached: on JAX, Keras keeps them in the trainer's
        state during ``fit`` and puts them back when a callback reads ``self.model`` (a kept pass must not skip
        that)."""
        return self.model

    def _probe_pass(self, request: Request, batch_size: int) -> ProbePass:
        """The pass for ``request`` this fit keeps: compiled when the passes it plans (the epochs, times one plus
        the batch measurements of an epoch) make the trace pay."""
        params = self.params or {}
        per_epoch = 1 + ((params.get("steps") or 0) // self.batch_frequency if self.batch_frequency else 0)
        planned = (params.get("epochs") or 1) * per_epoch
        return ProbePass(self.model, request.sites, request.loss_fn, batch_size=batch_size,
                         compiled=worth_compiling(self.model, planned))

    @abc.abstractmethod
    def _request(self) -> Request:
        """What this monitor needs from a probe pass."""

    @abc.abstractmethod
    def _probe_values(self, key: Key) -> dict[str, float]:
        """Log entries measured on the probe now (:meth:`_measure` with ``key``)."""

    @abc.abstractmethod
    def _seen_values(self) -> dict[str, float]:
        """Log entries from the batches-seen counter."""

    def _after_epoch(self, epoch: int, values: dict[str, float]) -> None:
        """Hook for warnings; default nothing."""
