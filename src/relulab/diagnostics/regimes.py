"""Pure functions that say, per unit, whether a batch ever left the flat or saturated regime.

Each takes its array namespace ``xp``: ``keras.ops`` (the default) inside a traced training step, where the
monitors' batches-seen counters run; ``numpy`` on a probe pass's concrete values, which is ~10x faster than
dispatching each op eagerly.

Definitions (a *unit* is one position of the last axis, i.e. a channel: for a convolution it is
counted over every example and every spatial position):

- **Dead** (rectifiers): the pre-activation ``z`` lies on the flat or small-slope side of the kink,
  ``z <= threshold`` (0 for ReLU, leaky ReLU, PReLU, RReLU) or, for capped rectifiers, ``z >= max_value``
  (6 for ReLU6), for every example. Such a unit passes no gradient (ReLU) or only the small slope
  (leaky variants) to its weights: Lu et al. 2019, "Dying ReLU and Initialization".
- **Sparsity**: the fraction of exact zeros among the outputs of the layer. Glorot, Bordes & Bengio
  2011 ("Deep Sparse Rectifier Neural Networks") report about 83% on MNIST rectifier networks.
- **Saturated** (sigmoid, tanh, hard sigmoid, softsign): the output is within
  :data:`SATURATION_TOLERANCE` of the output range (1% of it: ``y < 0.01`` or ``y > 0.99`` for the
  sigmoid, ``|y| > 0.98`` for tanh) of one of its asymptotes, for every example. There the derivative
  is below about 4% of its peak (Glorot & Bengio 2010, "Understanding the difficulty of training deep
  feedforward neural networks"). The **saturated share** of a layer is the fraction of all its values
  (examples x positions x units) in that regime: a tanh layer with N(0, 1) weights has no unit saturated on
  *every* example but 60-85% of its values saturated.

Each function reduces one batch; callers OR the per-unit flags over batches.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from keras import ops

from relulab.diagnostics.classify import Activation

SATURATION_TOLERANCE = 0.01  # distance to an asymptote, as a fraction of the output range


def _unit_axes(x: Any) -> tuple[int, ...]:
    return tuple(range(len(x.shape) - 1))


def per_unit_any(mask: Any, xp: Any = ops) -> Any:
    """Boolean per unit (last axis): True where ``mask`` holds for some example (or position)."""
    return xp.any(mask, axis=_unit_axes(mask))


def units_active(pre: Any, activation: Activation, xp: Any = ops) -> Any:
    """Boolean per unit: True where some example (or position) has ``pre`` outside the flat regime.

    Written as the comparisons that hold outside it (``z > threshold``, and ``z < max_value`` when capped), not as
    the negation of ``z <= threshold``, so that a NaN is never active on any path (a compiled graph may rewrite
    ``not (a <= b)`` as ``a > b``)."""
    outside = pre > activation.threshold
    if activation.max_value is not None:
        outside = xp.logical_and(outside, pre < activation.max_value)
    return per_unit_any(outside, xp)


def saturated(out: Any, activation: Activation, xp: Any = ops) -> Any:
    """Boolean tensor: where ``out`` is within the tolerance of an asymptote of a saturating activation."""
    lower, upper = activation.asymptotes
    tolerance = SATURATION_TOLERANCE * (upper - lower)
    return xp.logical_or(out <= lower + tolerance, out >= upper - tolerance)


def units_unsaturated(out: Any, activation: Activation, xp: Any = ops) -> Any:
    """Boolean per unit: True where some example (or position) has ``out`` away from every asymptote (the
    comparisons that hold there, as in :func:`units_active`)."""
    lower, upper = activation.asymptotes
    tolerance = SATURATION_TOLERANCE * (upper - lower)
    return per_unit_any(xp.logical_and(out > lower + tolerance, out < upper - tolerance), xp)


def share(mask: Any, xp: Any = ops) -> Any:
    """Scalar: the fraction of True among all elements of the boolean ``mask``."""
    return np.mean(mask) if xp is np else ops.mean(ops.cast(mask, "float32"))


def zero_fraction(out: Any, xp: Any = ops) -> Any:
    """Scalar: the fraction of exact zeros among all elements of ``out``."""
    return share(out == 0, xp)
