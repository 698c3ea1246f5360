"""One pass over the probe for every measurement: activity, kernel gradients and the model's outputs.

:func:`measure_probe` runs ``model`` once per batch of the probe, in inference mode. The forward pass that
the loss gradient needs (:func:`relulab.diagnostics.gradients.loss_gradients`) also records what each site
saw (:mod:`relulab.diagnostics.recording`), and the activity is counted from that record afterwards
(:class:`relulab.diagnostics.activity.ActivityCounter`). So ``diagnose`` and the monitors pay for one
forward and one backward pass, not three forward passes and a backward one. Without targets it is one
forward pass. Eager dispatch, not arithmetic, is most of the cost on small models: the one pass costs about
the gradient pass alone.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from relulab.diagnostics.activity import DEFAULT_BATCH_SIZE, ActivityCounter, LayerActivity
from relulab.diagnostics.gradients import GradientSum, loss_gradients
from relulab.diagnostics.recording import Tap
from relulab.diagnostics.sites import Site, find_sites


def spread_of(outputs: np.ndarray) -> float:
    """How much outputs ``(n, ...)`` vary over the examples: the largest standard deviation of any output unit,
    relative to ``max(1, |mean|)`` of that unit. Near 0: the model is a constant function. NaN when every
    output is NaN (a diverged model), 0.0 when there are none."""
    values = np.asarray(outputs, "float64").reshape(len(outputs), -1)
    if not values.size:
        return 0.0
    scale = np.maximum(1.0, np.abs(values.mean(axis=0)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a diverged model's outputs are all NaN: NaN, said elsewhere
        return float(np.nanmax(values.std(axis=0) / scale))


@dataclasses.dataclass(frozen=True)
class ProbeMeasurement:
    """What one pass over the probe measured."""

    activity: dict[str, LayerActivity]  # per site, in site order (sites the pass never reached are absent)
    norms: dict[str, float] | None  # per kernel layer: the mean-loss gradient's norm; None without targets
    outputs: np.ndarray  # the model's outputs on the probe, ``(n, ...)``

    @property
    def spread(self) -> float:
        """:func:`spread_of` the outputs."""
        return spread_of(self.outputs)


def measure_probe(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | None = None,
    loss_fn: Callable[..., Any] | None = None,
    *,
    sites: Sequence[Site] = (),
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ProbeMeasurement:
    """Activity of ``sites``, and with ``y`` and ``loss_fn`` the kernel gradient norms, of ``model`` on the
    already checked probe ``x`` (targets ``y`` fitted to ``loss_fn``), from one pass per batch.

    The gradient is that of the mean loss over the whole probe: the batches' gradients weighted by size.
    """
    counter = ActivityCounter(sites)
    gradients = None if y is None else GradientSum(model, len(x))
    outputs = []
    for start in range(0, len(x), batch_size):
        chunk = x[start:start + batch_size]
        xb = ops.convert_to_tensor(chunk)
        if gradients is None:
            with Tap(sites, counter.update, exclusive=True):
                y_pred = model(xb, training=False)
        else:
            yb = ops.convert_to_tensor(y[start:start + batch_size])
            grads, y_pred, seen = loss_gradients(model, gradients.variables, xb, yb, loss_fn, sites)
            gradients.add(grads, len(chunk))
            for site, pre, out in seen:
                counter.update(site, pre, out)
        outputs.append(ops.convert_to_numpy(y_pred))
    return ProbeMeasurement(counter.result(), None if gradients is None else gradients.norms(), np.concatenate(outputs))


def measure_activity(
    model: keras.Model,
    x: np.ndarray,
    sites: Sequence[Site] | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> dict[str, LayerActivity]:
    """Per-site :class:`~relulab.diagnostics.activity.LayerActivity` of ``model`` on ``x`` (already checked),
    keyed by site name: :func:`measure_probe` without targets (one forward pass); default every site.

    Example:
        >>> measure_activity(model, x_probe)["dense_1"].dead_fraction
        0.03125
    """
    return measure_probe(model, x, sites=find_sites(model) if sites is None else sites, batch_size=batch_size).activity


def gradient_norms(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    loss_fn: Callable[..., Any],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> dict[str, float]:
    """``{layer name: norm of the mean-loss gradient w.r.t. its kernel}`` over all of ``(x, y)``:
    :func:`measure_probe`'s norms, no activity measured. The probe is processed in batches; the mean-loss
    gradient is their size-weighted average."""
    return measure_probe(model, x, y, loss_fn, batch_size=batch_size).norms


def output_spread(model: keras.Model, x: Any, *, batch_size: int = DEFAULT_BATCH_SIZE) -> float:
    """:func:`spread_of` ``model``'s outputs on ``x`` (one forward pass, nothing else measured)."""
    return measure_probe(model, np.asarray(x), batch_size=batch_size).spread

