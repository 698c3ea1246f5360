"""Keras callbacks that watch units die and gradients vanish during ``fit``.

    >>> from relulab.callbacks import DeadUnitMonitor, GradientFlowMonitor
    >>> model.fit(x, y, epochs=5, callbacks=[
    ...     DeadUnitMonitor(x_val), GradientFlowMonitor((x_val, y_val)), keras.callbacks.CSVLogger("h.csv")])
    >>> history.history["dead_fraction/dense_1"], history.history["grad_ratio"]

Keys (stable, one per layer and epoch): ``dead_fraction/<layer>``, ``sparsity/<layer>``,
``saturation/<layer>`` (sigmoid/tanh-like layers), ``grad_norm/<layer>`` and ``grad_ratio``.
:class:`ActivationHistograms` writes each activation layer's pre-activation histogram into TensorBoard;
:class:`AutoRepair` detects a dying, collapsed, vanishing, exploding or NaN training in its first epochs and
repairs the model in place.
"""

from __future__ import annotations

from typing import Any

import keras

from relulab.callbacks._monitor import SharedPass
from relulab.callbacks.auto_repair import AutoRepair, AutoRepairWarning
from relulab.callbacks.dead_units import DeadUnitMonitor, DeadUnitWarning
from relulab.callbacks.gradient_flow import GradientFlowMonitor
from relulab.callbacks.histograms import ActivationHistograms
from relulab.diagnostics.probe import DEFAULT_PROBE_SIZE, subset_unchecked

__all__ = ["DEFAULT_PROBE_SIZE", "ActivationHistograms", "AutoRepair", "AutoRepairWarning", "DeadUnitMonitor", "DeadUnitWarning", "GradientFlowMonitor", "default_monitors"]


def default_monitors(x: Any, y: Any = None, *, probe_size: int | None = None) -> list[keras.callbacks.Callback]:
    """Both monitors on one shared probe: ``probe_size`` examples spread evenly over ``(x, y)`` (default 1,024,
    or 256 for a model whose activations have positions: :func:`relulab.diagnostics.probe.default_probe_size`).

    They measure in one forward and backward pass per epoch end (``SharedPass`` in
    :mod:`relulab.callbacks._monitor`): keep them next to each other in the ``callbacks`` list. Without ``y``
    only the :class:`DeadUnitMonitor` is returned. Only the probe's examples are checked (finite, shaped for the
    model) when training starts: a whole training set may be passed.
    """
    # without a size, each monitor takes its model's default when training starts (the same for both)
    x_probe, y_probe = (x, y) if probe_size is None else subset_unchecked(x, y, probe_size)
    monitors: list[keras.callbacks.Callback] = [DeadUnitMonitor(x_probe, probe_size=probe_size)]
    if y_probe is not None:
        monitors.append(GradientFlowMonitor((x_probe, y_probe), probe_size=probe_size))
    shared = SharedPass()
    for monitor in monitors:
        shared.join(monitor)
    return monitors
