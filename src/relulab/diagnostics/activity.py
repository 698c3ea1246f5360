"""Dead units, sparsity and saturation of every site, measured on probe data in one forward pass.

The probe runs eagerly in inference mode (``training=False``: dropout off, batch normalisation on its
moving statistics, RReLU at its mean slope) in batches of ``batch_size``; per unit, the flags of
:mod:`relulab.diagnostics.regimes` are OR-ed over batches, so a unit is dead only when it is flat on
every example of the probe. A layer that runs more than once per forward pass (a shared layer) is
counted over all its calls.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from relulab.diagnostics import regimes
from relulab.diagnostics.recording import Tap
from relulab.diagnostics.sites import Site, find_sites

# examples per forward (and backward) pass of a probe: the whole default probe in one pass, since eager
# overhead per pass dominates for small models (2 ms instead of 8 ms for the article's MLP); lower it for
# large convolutional models, whose activations for 1,024 examples may not fit in memory.
DEFAULT_BATCH_SIZE = 1024


@dataclasses.dataclass(frozen=True)
class LayerActivity:
    """What one site did on the probe. Unit indices are positions on the last axis."""

    units: int
    sparsity: float  # fraction of exact zeros among the outputs; NaN when not finite
    dead_units: tuple[int, ...] | None  # rectifiers only
    saturated_units: tuple[int, ...] | None  # saturating activations only
    finite: bool = True  # every pre-activation and output was finite (False: a diverged model, NaN weights)

    @property
    def dead_fraction(self) -> float | None:
        """None where it does not apply (not a rectifier), NaN where it was not measured (not finite)."""
        return self._fraction(self.dead_units)

    @property
    def saturation(self) -> float | None:
        """None where it does not apply (no asymptote), NaN where it was not measured (not finite)."""
        return self._fraction(self.saturated_units)

    def _fraction(self, units: tuple[int, ...] | None) -> float | None:
        if units is None:
            return None
        return len(units) / self.units if self.finite else math.nan


class ActivityCounter:
    """Accumulates activity per site over batches; ``update`` is a :class:`Tap` listener."""

    def __init__(self, sites: Sequence[Site]) -> None:
        self.sites = list(sites)
        self._active: dict[str, np.ndarray] = {}
        self._unsaturated: dict[str, np.ndarray] = {}
        self._zeros: dict[str, float] = {}
        self._examples: dict[str, int] = {}
        self._units: dict[str, int] = {}
        self._finite: dict[str, bool] = {}

    def update(self, site: Site, pre: Any, out: Any) -> None:
        name, activation = site.name, site.activation
        n = int(ops.shape(out)[0]) if len(out.shape) > 1 else 1
        self._zeros[name] = self._zeros.get(name, 0.0) + float(regimes.zero_fraction(out)) * n
        self._examples[name] = self._examples.get(name, 0) + n
        self._units[name] = int(out.shape[-1]) if len(out.shape) > 1 else 1
        finite = bool(ops.all(ops.isfinite(pre))) and bool(ops.all(ops.isfinite(out)))
        self._finite[name] = self._finite.get(name, True) and finite
        if activation.kind == "rectifier":
            active = ops.convert_to_numpy(regimes.units_active(pre, activation))
            self._active[name] = self._active.get(name, False) | active
        if activation.asymptotes is not None:
            unsaturated = ops.convert_to_numpy(regimes.units_unsaturated(out, activation))
            self._unsaturated[name] = self._unsaturated.get(name, False) | unsaturated

    def result(self) -> dict[str, LayerActivity]:
        """Activity of every site that ran at least once, in site order."""
        results = {}
        for site in self.sites:
            name = site.name
            if name not in self._examples:
                continue
            active, unsaturated = self._active.get(name), self._unsaturated.get(name)
            finite = self._finite[name]
            results[name] = LayerActivity(
                units=self._units[name],
                sparsity=self._zeros[name] / self._examples[name] if finite else math.nan,
                dead_units=None if active is None else tuple(int(i) for i in np.flatnonzero(~active)),
                saturated_units=None if unsaturated is None else tuple(int(i) for i in np.flatnonzero(~unsaturated)),
                finite=finite,
            )
        return results


def batches(x: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """``x`` split into consecutive batches of at most ``batch_size`` examples."""
    return [x[start:start + batch_size] for start in range(0, len(x), batch_size)]


def measure_activity(
    model: keras.Model,
    x: np.ndarray,
    sites: Sequence[Site] | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> dict[str, LayerActivity]:
    """Per-site :class:`LayerActivity` of ``model`` on ``x`` (already checked), keyed by site name.

    Example:
        >>> measure_activity(model, x_probe)["dense_1"].dead_fraction
        0.03125
    """
    sites = find_sites(model) if sites is None else sites
    counter = ActivityCounter(sites)
    with Tap(sites, counter.update, exclusive=True):
        for chunk in batches(x, batch_size):
            model(ops.convert_to_tensor(chunk), training=False)
    return counter.result()
