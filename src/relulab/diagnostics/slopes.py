"""Dead and saturated units of *any* activation, defined through its derivative.

For an elementwise activation ``f`` and a unit's pre-activations ``z`` over a probe, let
``r(z) = |f'(z)| / max |f'|`` be the derivative relative to its peak (the peak is taken over a grid of
``z`` in ``[-GRID_LIMIT, GRID_LIMIT]`` and over the probe itself). Then

- the unit is **dead** when ``r(z) <= DEAD_DERIVATIVE`` for every example: no gradient reaches its
  incoming weights (Lu et al. 2019, "Dying ReLU and Initialization");
- the unit is **saturated** when ``r(z) <= SATURATION_DERIVATIVE`` for every example: the derivative
  stays below 3.96% of its peak (Glorot & Bengio 2010).

``SATURATION_DERIVATIVE = 4 t (1 - t)`` with ``t = SATURATION_TOLERANCE``: for the sigmoid
(``r = 4 y (1 - y)``) and tanh (``r = 1 - y^2``) it is exactly the output rule of
:mod:`relulab.diagnostics.regimes` (output within ``t`` of the range from an asymptote), so both paths
agree. ``f'`` comes from the backend's autodiff (:func:`relulab.activations.derivative.value_and_derivative`),
so a user's layer (``tf.maximum(0., x)``, an import-path class, a ``Lambda``) is measured like a built-in
one; at a kink it is the backend's choice (0 for ``tf.maximum(0., x)`` at 0, as for ``relu``).

Registry activations use the same definitions in closed form (the fast paths, tested to agree): a
zero-slope rectifier (ReLU, ReLU6) has ``f' = 0`` exactly on its flat side, ``z <= threshold``; a sigmoid
or tanh has ``r`` from its output (:func:`closed_form`), so "saturated" is the output rule. Leaky
rectifiers keep the count of units on their small-slope side (``f'`` is the slope, never 0); smooth and
saturating registry activations report no dead fraction (the lab and the monitors' batches-seen mode
report the same keys).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from relulab.activations.derivative import value_and_derivative
from relulab.diagnostics.regimes import SATURATION_TOLERANCE

DEAD_DERIVATIVE = 1e-6  # relative derivative at or below this on every example: dead
SATURATION_DERIVATIVE = 4 * SATURATION_TOLERANCE * (1 - SATURATION_TOLERANCE)  # 0.0396: saturated
GRID_LIMIT = 10.0  # pre-activations in [-10, 10] on which the peak derivative is sought
GRID_POINTS = 201


def peak_derivative(function: Callable[[Any], Any], example_shape: tuple[int, ...]) -> float:
    """``max |f'|`` over :data:`GRID_POINTS` constant inputs in ``[-GRID_LIMIT, GRID_LIMIT]`` of one example's shape."""
    grid = np.linspace(-GRID_LIMIT, GRID_LIMIT, GRID_POINTS, dtype="float32")
    points = np.broadcast_to(grid.reshape((-1,) + (1,) * len(example_shape)), (GRID_POINTS, *example_shape))
    _, slope = value_and_derivative(function, np.ascontiguousarray(points))
    return float(np.nanmax(np.abs(slope))) if slope.size else 0.0


def relative_derivative(function: Callable[[Any], Any], pre: np.ndarray, peak: float) -> np.ndarray:
    """``r = |f'(pre)| / max(peak, max |f'(pre)|)`` elementwise (0 where the function is constant)."""
    _, slope = value_and_derivative(function, np.ascontiguousarray(pre, dtype="float32"))
    slope = np.abs(np.nan_to_num(slope, nan=0.0))
    top = max(peak, float(slope.max()) if slope.size else 0.0)
    return slope / top if top > 0 else np.zeros_like(slope)


def closed_form(name: str, out: np.ndarray, asymptotes: tuple[float, float]) -> np.ndarray:
    """``r`` of a sigmoid or tanh from its output: ``1 - u^2`` with ``u`` the output scaled to ``[-1, 1]``."""
    lower, upper = asymptotes
    u = (2 * np.asarray(out, "float64") - lower - upper) / (upper - lower)
    return 1 - u * u


def unit_flags(r: np.ndarray, bound: float) -> np.ndarray:
    """Per unit (last axis): True where some example (or position) has ``r`` above ``bound``."""
    return (r > bound).reshape(-1, r.shape[-1]).any(axis=0)
