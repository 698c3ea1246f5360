"""Dead units, sparsity and saturation of every site: what :class:`ActivityCounter` counts in a probe pass.

Dead and saturated are defined through the activation's derivative (:mod:`relulab.diagnostics.slopes`):
custom activations are measured that way; registry activations through the same definitions in closed
form (rectifiers: dead on the flat side; sigmoid, tanh, hard sigmoid, softsign: saturated near an
asymptote). Smooth registry activations (ELU, GELU, ...) report their sparsity only.

The probe runs eagerly in inference mode (``training=False``: dropout off, batch normalisation on its
moving statistics, RReLU at its mean slope) in batches of ``batch_size``
(:func:`relulab.diagnostics.probe_pass.measure_probe`); per unit, the flags of
:mod:`relulab.diagnostics.regimes` are OR-ed over batches, so a unit is dead only when it is flat on
every example of the probe. A layer that runs more than once per forward pass (a shared layer) is
counted over all its calls.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from keras import ops

from relulab.diagnostics import recording, regimes, slopes
from relulab.diagnostics.sites import Site

# examples per forward (and backward) pass of a probe: the whole default probe in one pass, since eager
# overhead per pass dominates for small models (2 ms instead of 8 ms for the article's MLP); lower it for
# large convolutional models, whose activations for 1,024 examples may not fit in memory.
DEFAULT_BATCH_SIZE = 1024


@dataclasses.dataclass(frozen=True)
class LayerActivity:
    """What one site did on the probe. Unit indices are positions on the last axis."""

    units: int
    sparsity: float  # fraction of exact zeros among the outputs; NaN when not finite
    dead_units: tuple[int, ...] | None  # rectifiers and custom activations
    saturated_units: tuple[int, ...] | None  # saturating and custom activations
    finite: bool = True  # every pre-activation and output was finite (False: a diverged model, NaN weights)
    # fraction of all values (examples x positions x units) in the saturated regime; None where it does not apply
    saturated_share: float | None = None

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


def site_stats(site: Site, pre: Any, out: Any, xp: Any = ops) -> dict[str, Any]:
    """What one batch of a registry activation shows (``xp``: ``keras.ops`` inside a traced pass, NumPy on
    concrete values): the fraction of zero outputs, whether every value is finite, and per unit whether some
    example left the flat side (rectifiers) or stayed away from the asymptotes (saturating activations), with
    the share of saturated values. Custom activations need their derivative: :meth:`ActivityCounter.update`."""
    activation = site.activation
    stats = {"zeros": regimes.zero_fraction(out, xp),
             "finite": xp.logical_and(xp.all(xp.isfinite(pre)), xp.all(xp.isfinite(out)))}
    if activation.kind == "rectifier":  # the flat (or small-slope) side
        stats["active"] = regimes.units_active(pre, activation, xp)
    elif activation.asymptotes is not None:  # the output near an asymptote
        stats["unsaturated"] = regimes.units_unsaturated(out, activation, xp)
        stats["saturated"] = regimes.share(regimes.saturated(out, activation, xp), xp)
    return stats


class ActivityCounter:
    """Accumulates activity per site over batches: :meth:`update` from a batch's pre-activations and outputs
    (a :class:`~relulab.diagnostics.recording.Tap` listener), or :meth:`add` from :func:`site_stats` computed
    where the values were (a compiled pass)."""

    def __init__(self, sites: Sequence[Site]) -> None:
        self.sites = list(sites)
        self._active: dict[str, np.ndarray] = {}
        self._unsaturated: dict[str, np.ndarray] = {}
        self._zeros: dict[str, float] = {}
        self._examples: dict[str, int] = {}
        self._units: dict[str, int] = {}
        self._peaks: dict[str, float] = {}
        self._finite: dict[str, bool] = {}
        self._saturated_values: dict[str, float] = {}

    @staticmethod
    def measures_in_place(site: Site) -> bool:
        """Whether :func:`site_stats` covers ``site`` (a registry activation), so its values need not leave
        the pass; a custom activation's derivative is taken here, on its concrete pre-activations."""
        return site.activation.kind != "custom"

    def update(self, site: Site, pre: Any, out: Any) -> None:
        if site.activation.kind == "custom" and tuple(pre.shape) != tuple(out.shape):
            return  # not elementwise after all: not a site
        pre, out = ops.convert_to_numpy(pre), ops.convert_to_numpy(out)  # concrete values: NumPy beats eager ops
        examples, units = (out.shape[0], out.shape[-1]) if out.ndim > 1 else (1, 1)
        if self.measures_in_place(site):
            self.add(site, site_stats(site, pre, out, np), examples, units)
            return
        stats = {"zeros": regimes.zero_fraction(out, np),
                 "finite": bool(np.isfinite(pre).all()) and bool(np.isfinite(out).all())}
        r = self._relative_derivative(site, pre)  # the general definition, through the derivative
        stats["active"] = slopes.unit_flags(r, slopes.DEAD_DERIVATIVE)
        stats["unsaturated"] = slopes.unit_flags(r, slopes.SATURATION_DERIVATIVE)
        # flat values (a rectifier's negative side: derivative 0) are sparsity, not saturation
        stats["saturated"] = np.mean((r > slopes.DEAD_DERIVATIVE) & (r <= slopes.SATURATION_DERIVATIVE))
        self.add(site, stats, examples, units)

    def add(self, site: Site, stats: dict[str, Any], examples: int, units: int) -> None:
        """Count one batch of ``examples`` at ``site`` (``units`` on its last axis) from its :func:`site_stats`."""
        name = site.name
        self._zeros[name] = self._zeros.get(name, 0.0) + float(stats["zeros"]) * examples
        self._examples[name] = self._examples.get(name, 0) + examples
        self._units[name] = units
        self._finite[name] = self._finite.get(name, True) and bool(stats["finite"])
        if "active" in stats:
            self._flag(self._active, name, stats["active"])
        if "unsaturated" in stats:
            self._flag(self._unsaturated, name, stats["unsaturated"])
        if "saturated" in stats:
            self._count_saturated(name, float(stats["saturated"]) * examples)

    def _count_saturated(self, name: str, values: float) -> None:
        self._saturated_values[name] = self._saturated_values.get(name, 0.0) + values

    @staticmethod
    def _flag(store: dict[str, np.ndarray], name: str, flags: np.ndarray) -> None:
        store[name] = store.get(name, False) | np.asarray(flags, bool)

    def _relative_derivative(self, site: Site, pre: Any) -> np.ndarray:
        function = recording.original(site)
        if site.name not in self._peaks:
            self._peaks[site.name] = slopes.peak_derivative(function, tuple(pre.shape[1:]))
        return slopes.relative_derivative(function, pre, self._peaks[site.name])

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
                saturated_share=(None if name not in self._saturated_values else
                                 self._saturated_values[name] / self._examples[name] if finite else math.nan),
            )
        return results


def batches(x: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """``x`` split into consecutive batches of at most ``batch_size`` examples."""
    return [x[start:start + batch_size] for start in range(0, len(x), batch_size)]
