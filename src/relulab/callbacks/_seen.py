"""The monitors' "batches seen" mode: counts kept inside the training step, read once per epoch.

Without a probe, a monitor measures on every training batch of the epoch, as the step runs, with
the weights of that step: a unit is dead when it was in its flat regime on every example of every
batch of the epoch; sparsity is over all those outputs; ``grad_norm/<layer>`` is the mean, over the
epoch's steps, of the norm of that step's gradient (of the batch loss, as the optimizer received it:
with loss scaling, scaled). The counts are non-trainable ``keras.Variable`` s outside the model,
updated by a few ``keras.ops`` per site and step (a reduction over the batch and an assignment),
reset at each epoch's start and read (one device-to-host copy) at its end. Evaluation and prediction
are not counted. Installing the hooks retraces ``fit``'s train function once per ``fit``. If ``fit``
raises, Keras calls no ``on_train_end``: the hooks stay on the model until the monitor's next ``fit``
removes them; they only count, and change no result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from relulab.callbacks import _hooks
from relulab.diagnostics import regimes
from relulab.diagnostics.activity import LayerActivity
from relulab.diagnostics.recording import Tap
from relulab.diagnostics.sites import Site


def _units(site: Site) -> int:
    try:
        return int(site.layer.output.shape[-1])
    except (AttributeError, ValueError, TypeError):
        raise ValueError(
            f"the monitors' batches-seen mode needs the output width of layer {site.name!r}, which this model "
            f"does not expose (a subclassed model?); pass a probe instead."
        ) from None


def _never(flags: np.ndarray) -> tuple[int, ...]:
    """Indices of the units whose flag was never raised."""
    return tuple(int(i) for i in np.flatnonzero(flags == 0))


def _zeros(shape: tuple[int, ...], dtype: str = "float32") -> keras.Variable:
    return keras.Variable(np.zeros(shape, dtype), trainable=False, dtype=dtype)


class SeenActivity:
    """Per-site activity counted on the training batches."""

    def __init__(self, model: keras.Model, sites: Sequence[Site]) -> None:
        self.model, self.sites = model, list(sites)
        self._vars = {site.name: {"active": _zeros((_units(site),)), "unsaturated": _zeros((_units(site),)),
                                  "zeros": _zeros(()), "examples": _zeros(())} for site in self.sites}
        self._tap = Tap(self.sites, self._count)

    def _count(self, site: Site, pre: Any, out: Any) -> None:
        if not _hooks.in_train_step():
            return
        counts, activation = self._vars[site.name], site.activation
        n = ops.cast(ops.shape(out)[0], "float32")
        counts["zeros"].assign_add(regimes.zero_fraction(out) * n)
        counts["examples"].assign_add(n)
        if activation.kind == "rectifier":
            active = ops.cast(regimes.units_active(pre, activation), "float32")
            counts["active"].assign(ops.maximum(counts["active"].value, active))
        if activation.asymptotes is not None:
            unsaturated = ops.cast(regimes.units_unsaturated(out, activation), "float32")
            counts["unsaturated"].assign(ops.maximum(counts["unsaturated"].value, unsaturated))

    def start(self) -> None:
        _hooks.training_scope(self.model, self, enter=True)
        self._tap.install()
        _hooks.rebuild_train_function(self.model)

    def stop(self) -> None:
        self._tap.remove()
        _hooks.training_scope(self.model, self, enter=False)
        _hooks.rebuild_train_function(self.model)

    def reset(self) -> None:
        for counts in self._vars.values():
            for variable in counts.values():
                variable.assign(ops.zeros_like(variable.value))

    def read(self) -> dict[str, LayerActivity]:
        """Activity of each site that saw at least one training example since :meth:`reset`."""
        results = {}
        for site in self.sites:
            counts = {key: ops.convert_to_numpy(v.value) for key, v in self._vars[site.name].items()}
            if counts["examples"] == 0:
                continue
            dead = _never(counts["active"]) if site.activation.kind == "rectifier" else None
            saturated = _never(counts["unsaturated"]) if site.activation.asymptotes is not None else None
            results[site.name] = LayerActivity(units=len(counts["active"]), dead_units=dead, saturated_units=saturated,
                                               sparsity=float(counts["zeros"] / counts["examples"]))
        return results


class SeenGradients:
    """Per-kernel gradient norms summed over the training steps, from the optimizer's own gradients."""

    def __init__(self, model: keras.Model, kernels: Sequence[tuple[str, keras.layers.Layer]]) -> None:
        self.model = model
        self.names = [name for name, _ in kernels]
        self._index = {id(layer.kernel): i for i, (_, layer) in enumerate(kernels)}
        self._sums = _zeros((len(self.names),))
        self._steps = _zeros(())

    def _count(self, grads: list, variables: list) -> None:
        if not _hooks.in_train_step():
            return
        norms = [ops.zeros(()) for _ in self.names]
        for grad, variable in zip(grads, variables):
            i = self._index.get(id(variable))
            if i is not None and grad is not None:
                norms[i] = ops.sqrt(ops.sum(ops.square(ops.cast(grad, "float32"))))
        self._sums.assign_add(ops.stack(norms))
        self._steps.assign_add(1.0)

    def start(self) -> None:
        _hooks.training_scope(self.model, self, enter=True)
        _hooks.on_apply(self.model.optimizer, self._count, enter=True)
        _hooks.rebuild_train_function(self.model)

    def stop(self) -> None:
        _hooks.on_apply(self.model.optimizer, self._count, enter=False)
        _hooks.training_scope(self.model, self, enter=False)
        _hooks.rebuild_train_function(self.model)

    def reset(self) -> None:
        self._sums.assign(ops.zeros_like(self._sums.value))
        self._steps.assign(0.0)

    def read(self) -> dict[str, float]:
        """Mean per-step gradient norm of each kernel since :meth:`reset` (empty before any step)."""
        steps = float(ops.convert_to_numpy(self._steps.value))
        if steps == 0:
            return {}
        sums = ops.convert_to_numpy(self._sums.value)
        return {name: float(value / steps) for name, value in zip(self.names, sums)}
