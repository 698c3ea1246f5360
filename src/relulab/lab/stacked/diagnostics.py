"""Dead units, sparsity, saturation and gradient flow of every run of a stack, in one vectorised pass.

Measured at each epoch's end in inference mode (RReLU at its mean slope) on a fixed probe: at most
:data:`PROBE_SIZE` training examples spread evenly over the training set (first and last included, no
randomness), the same probe as ``relulab.callbacks.default_monitors``. Definitions, per run and hidden
layer ``dense_i`` (a *unit* is one output of the layer):

- ``dead_fraction/dense_i`` (rectifiers: relu, leaky_relu, prelu, rrelu, relu6): the fraction of units
  whose pre-activation ``z`` is in the flat or small-slope regime for every probe example:
  ``z <= threshold`` (0, or ReLU's ``threshold``) or, for a capped rectifier, ``z >= max_value``
  (6 for ReLU6). Smooth (ELU, GELU, ...) and saturating activations have no kink: no dead fraction.
- ``sparsity/dense_i`` (every activation but ``linear``): the fraction of exact zeros in the outputs.
- ``saturation/dense_i`` (sigmoid, hard_sigmoid, tanh, softsign): the fraction of units whose output is
  within :data:`SATURATION_TOLERANCE` of the output range (0.01 for sigmoid, 0.02 for tanh) of one of its
  asymptotes, on every probe example.
- A custom layer class (``"package.module:Class"``): dead and saturated through its derivative, as in
  :mod:`relulab.diagnostics.slopes` (``|f'(z)|`` relative to its largest value over the run's probe at or
  below ``DEAD_DERIVATIVE`` / ``SATURATION_DERIVATIVE`` on every example), and the sparsity.
- ``grad_norm/dense_i``, ``grad_norm/output``: the L2 (Frobenius) norm of the gradient of the mean
  cross-entropy over the probe with respect to the layer's kernel.
- ``grad_ratio``: ``grad_norm/dense_1`` divided by ``grad_norm/output``, the first kernel's over the
  last's (inf or NaN where the last is 0).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from keras import ops

from relulab.diagnostics.classify import ASYMPTOTES
from relulab.diagnostics.probe import DEFAULT_PROBE_SIZE as PROBE_SIZE
from relulab.diagnostics.probe import spread
from relulab.diagnostics.regimes import SATURATION_TOLERANCE
from relulab.diagnostics.slopes import DEAD_DERIVATIVE, SATURATION_DERIVATIVE
from relulab.lab.stacked.activations import Group

__all__ = ["ASYMPTOTES", "PROBE_SIZE", "SATURATION_TOLERANCE", "gradient_entries", "history_entries", "probe_indices",
           "regimes", "unit_fractions"]


def probe_indices(size: int, probe_size: int = PROBE_SIZE) -> np.ndarray:
    """``min(size, probe_size)`` indices spread evenly over ``range(size)``, first and last included: the
    probe of ``relulab.callbacks.default_monitors``."""
    return spread(size, probe_size)


def regimes(group: Group) -> tuple[float, float, float, float]:
    """``(threshold, max_value, lower, upper)`` of a group: NaN where a regime does not apply
    (``max_value`` is inf for an uncapped rectifier)."""
    nan = math.nan
    if group.entry is None:  # a custom layer: not measured
        return nan, nan, nan, nan
    if group.entry.kind == "rectifier":
        threshold = float(group.params.get("threshold", 0.0) or 0.0)
        cap = 6.0 if group.entry.name == "relu6" else group.params.get("max_value")
        return threshold, math.inf if cap is None else float(cap), nan, nan
    lower, upper = ASYMPTOTES.get(group.entry.name, (nan, nan))
    return nan, nan, lower, upper


def unit_fractions(pre: Any, out: Any, threshold: Any, max_value: Any, lower: Any, upper: Any,
                   slope: Any = None) -> tuple[Any, Any, Any]:
    """Per run: the dead fraction, the saturated fraction and the fraction of exact zeros.

    ``pre`` and ``out``: ``(runs, examples, units)``; the regime bounds: ``(runs,)``, NaN where a regime
    does not apply to a run (its fraction is then 0 and meaningless). With ``slope`` (``f'(pre)``, same
    shape), runs without any bound (custom layers) are measured through the derivative. A run with a NaN or
    infinite value gets NaN for all three (not measured). ``keras.ops`` only.
    """
    bounds = [ops.reshape(ops.cast(b, pre.dtype), (-1, 1, 1)) for b in (threshold, max_value, lower, upper)]
    threshold, max_value, lower, upper = bounds
    flat = ops.logical_or(pre <= threshold, pre >= max_value)
    tolerance = SATURATION_TOLERANCE * (upper - lower)
    saturated = ops.logical_or(out <= lower + tolerance, out >= upper - tolerance)
    dead = ops.mean(ops.cast(ops.all(flat, axis=1), "float32"), axis=-1)
    stuck = ops.mean(ops.cast(ops.all(saturated, axis=1), "float32"), axis=-1)
    zeros = ops.mean(ops.cast(ops.equal(out, 0), "float32"), axis=(1, 2))
    if slope is not None:
        size = ops.abs(slope)
        r = size / ops.maximum(ops.max(size, axis=(1, 2), keepdims=True), 1e-30)
        custom = ops.logical_and(ops.isnan(threshold), ops.isnan(lower))[:, 0, 0]
        dead = ops.where(custom, ops.mean(ops.cast(ops.all(r <= DEAD_DERIVATIVE, axis=1), "float32"), axis=-1), dead)
        stuck = ops.where(custom, ops.mean(ops.cast(ops.all(r <= SATURATION_DERIVATIVE, axis=1), "float32"), axis=-1),
                          stuck)
    # a diverged run (NaN or infinite values) is not measured: NaN, shown as "-", not "0% dead"
    finite = ops.logical_and(ops.all(ops.isfinite(pre), axis=(1, 2)), ops.all(ops.isfinite(out), axis=(1, 2)))
    unmeasured = ops.full_like(dead, math.nan)
    return tuple(ops.where(finite, value, unmeasured) for value in (dead, stuck, zeros))


def history_entries(group: Group, layer: str, dead: float, saturated: float, zeros: float) -> dict[str, float]:
    """The keys of one hidden layer that apply to a run of ``group`` (none for linear and custom layers)."""
    if group.entry is None:  # a custom layer: measured through its derivative
        return {f"sparsity/{layer}": zeros, f"dead_fraction/{layer}": dead, f"saturation/{layer}": saturated}
    if group.entry.kind == "linear":
        return {}
    entries = {f"sparsity/{layer}": zeros}
    if group.entry.kind == "rectifier":
        entries[f"dead_fraction/{layer}"] = dead
    if group.entry.name in ASYMPTOTES:
        entries[f"saturation/{layer}"] = saturated
    return entries


def gradient_entries(norms: np.ndarray, layers: list[str]) -> dict[str, float]:
    """``grad_norm/<layer>`` for each kernel and ``grad_ratio`` (first over last) of one run."""
    entries = {f"grad_norm/{name}": float(value) for name, value in zip(layers, norms)}
    with np.errstate(divide="ignore", invalid="ignore"):
        entries["grad_ratio"] = float(np.float64(norms[0]) / np.float64(norms[-1]))
    return entries
