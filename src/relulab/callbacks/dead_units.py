"""``DeadUnitMonitor``: dead fraction, sparsity and saturation of every activation layer, per epoch."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from relulab import _validate
from relulab.callbacks._monitor import Key, Monitor, Request
from relulab.callbacks._seen import SeenActivity
from relulab.diagnostics.activity import DEFAULT_BATCH_SIZE, LayerActivity
from relulab.diagnostics.diagnosis import select_sites
from relulab.diagnostics.sites import find_sites


class DeadUnitWarning(UserWarning):
    """A layer's dead fraction went above the monitor's ``warn_above``."""


def activity_logs(activity: dict[str, LayerActivity]) -> dict[str, float]:
    """``dead_fraction/<layer>``, ``sparsity/<layer>`` and ``saturation/<layer>`` where each applies."""
    logs = {}
    for name, layer in activity.items():
        if layer.dead_fraction is not None:
            logs[f"dead_fraction/{name}"] = layer.dead_fraction
        logs[f"sparsity/{name}"] = layer.sparsity
        if layer.saturation is not None:
            logs[f"saturation/{name}"] = layer.saturation
    return logs


class DeadUnitMonitor(Monitor):
    """Adds ``dead_fraction/<layer>``, ``sparsity/<layer>`` and ``saturation/<layer>`` to each epoch's logs.

    A rectifier unit is *dead* when its pre-activation is in the flat regime (``<= 0`` for ReLU) on
    every example; *sparsity* is the fraction of exact zeros in a layer's output; a sigmoid/tanh unit is
    *saturated* when its output is within 1% of the output range of an asymptote on every example
    (:mod:`relulab.diagnostics.regimes`). A custom activation layer (the article's ``MyReLU``, a
    ``module:Class`` layer) is measured through its derivative on the probe (dead: ``f'`` = 0 on every
    example; :mod:`relulab.diagnostics.slopes`); in the batches-seen mode it gets its sparsity only.
    Layers are found in any Keras model, as separate activation layers or inside
    ``Dense/Conv(activation=...)`` (:mod:`relulab.diagnostics.sites`).

    With a ``probe`` (recommended), the monitor measures at the end of each epoch, in inference mode,
    on at most ``probe_size`` examples of it (spread evenly over it): one forward pass, nothing per
    step. Without one, it counts on every training batch of the epoch inside the training step
    (see :mod:`relulab.callbacks._seen`; TensorFlow and PyTorch).

    Put it before ``CSVLogger``, ``TensorBoard`` and ``EarlyStopping`` in ``callbacks`` so they see its keys.
    ``last`` holds the latest per-layer :class:`~relulab.diagnostics.LayerActivity` (dead unit indices
    included). The state is reset in ``on_train_begin``: one instance serves several ``fit`` calls.

    Example:
        >>> model.fit(x, y, epochs=5, callbacks=[DeadUnitMonitor(x_val[:1024], warn_above=0.5),
        ...                                     keras.callbacks.CSVLogger("history.csv")])

    Args:
        probe: inputs ``x`` (or ``(x, y)``; ``y`` is ignored), or None for the batches seen.
        probe_size: at most this many probe examples are used; default 1024, or 256 for a model whose
            activations have positions (a convolution; :func:`relulab.diagnostics.probe.default_probe_size`).
        layers: only these layers (names as in the logs); default all measurable ones.
        warn_above: warn (:class:`DeadUnitWarning`) when a layer's dead fraction exceeds this; default None.
        batch_frequency: also measure on the probe every N training batches, into the batch logs.
        batch_size: examples per forward pass of the probe, default 1024.
    """

    owner = "DeadUnitMonitor"

    def __init__(
        self,
        probe: Any = None,
        *,
        probe_size: int | None = None,
        layers: Sequence[str] | None = None,
        warn_above: float | None = None,
        batch_frequency: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        super().__init__(probe, probe_size=probe_size, batch_size=batch_size, batch_frequency=batch_frequency)
        self.layers = layers
        self.warn_above = _validate.number(warn_above, name="warn_above", owner=self.owner, minimum=0.0,
                                           maximum=1.0, optional=True)
        self.last: dict[str, LayerActivity] = {}
        self._sites: list = []

    def _prepare(self) -> None:
        self.last = {}
        if self.layers is None and not find_sites(self.model):
            warnings.warn(f"{self.owner}: model {self.model.name!r} has no activation relulab can measure; "
                          f"nothing will be logged.", stacklevel=2)
            self._sites = []
            return
        self._sites = select_sites(self.model, self.layers, owner=self.owner)
        if self.x is None:
            self._start_seen(SeenActivity(self.model, self._sites))

    def _request(self) -> Request:
        return Request(sites=self._sites)

    def _probe_values(self, key: Key) -> dict[str, float]:
        if not self._sites:
            return {}
        activity = self._measure(key).activity
        self.last = {site.name: activity[site.name] for site in self._sites if site.name in activity}
        return activity_logs(self.last)

    def _seen_values(self) -> dict[str, float]:
        self.last = self._seen.read()
        return activity_logs(self.last)

    def _after_epoch(self, epoch: int, values: dict[str, float]) -> None:
        if self.warn_above is None:
            return
        for name, layer in self.last.items():
            if layer.dead_fraction is not None and layer.dead_fraction > self.warn_above:
                warnings.warn(DeadUnitWarning(
                    f"{self.owner}: {100 * layer.dead_fraction:.0f}% of the {layer.units} units of layer {name!r} "
                    f"are dead after epoch {epoch + 1} (warn_above={self.warn_above:g}); see relulab.diagnose "
                    f"for remedies."), stacklevel=2)
