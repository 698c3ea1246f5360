"""One pass over the probe for every measurement: activity, kernel gradients and the model's outputs.

:func:`measure_probe` runs ``model`` once per batch of the probe, in inference mode. The forward pass that
the loss gradient needs (:func:`relulab.diagnostics.gradients.loss_gradients`) also records what each site
saw (:mod:`relulab.diagnostics.recording`), and the activity is counted from that record afterwards
(:class:`relulab.diagnostics.activity.ActivityCounter`). So ``diagnose`` and the monitors pay for one
forward and one backward pass, not three forward passes and a backward one. Without targets it is one
forward pass. Eager dispatch, not arithmetic, is most of the cost on small models: the one pass costs about
the gradient pass alone, and a :class:`ProbePass` kept across calls can be compiled (TensorFlow), which the
monitors do when a ``fit`` plans enough passes for the trace to pay (:func:`worth_compiling`).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from relulab.diagnostics.activity import DEFAULT_BATCH_SIZE, ActivityCounter, LayerActivity, site_stats
from relulab.diagnostics.gradients import (GradientSum, as_numpy, backend_gradients, loss_gradients, loss_targets,
                                          model_state)
from relulab.diagnostics.probe import has_positions
from relulab.diagnostics.recording import Tap
from relulab.diagnostics.sites import Site, find_sites, kernel_layers


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


# How many passes a fit must plan before the monitors compile theirs (:func:`worth_compiling`), per backend, for a
# dense model and for one whose activations have positions (a convolution), from the timings in
# :class:`ProbePass`'s docstring: a compiled pass must save its trace (and on JAX, XLA's compilation).
COMPILE_PASSES = {"tensorflow": (10, 2), "jax": (20, 50)}


def worth_compiling(model: keras.Model, passes: int) -> bool:
    """Whether :class:`ProbePass` should be compiled for ``passes`` passes over ``model``'s probe: at least
    :data:`COMPILE_PASSES` of the backend (never on PyTorch, whose eager pass is cheap)."""
    thresholds = COMPILE_PASSES.get(keras.backend.backend())
    return thresholds is not None and passes >= thresholds[1 if has_positions(model) else 0]


class ProbePass:
    """:func:`measure_probe` for one model, its ``sites`` and ``loss_fn``: call it with a probe, as often as needed.

    With ``compiled=True`` (TensorFlow and JAX; on PyTorch the pass stays eager) each batch is one ``tf.function``
    or ``jax.jit`` call that also reduces every registry site's values to
    :func:`~relulab.diagnostics.activity.site_stats` where they are, so only per-unit flags leave it (a custom
    activation's values still come out, for its derivative). Measured on this 2-core CPU, per pass:

    - TensorFlow: 1.7 ms instead of 6 ms for a 64-64 MLP on 1,024 digits, 10 instead of 55 ms for a
      two-convolution CNN on 256 Fashion-MNIST images, after a first call of 45-70 ms (the trace);
    - JAX: 1.2 instead of 12.6 ms for the MLP, 5.4 instead of 21.5 ms for a CNN on 256 digits, 41 instead of 67 ms
      on Fashion-MNIST, after a first call of 220 ms (MLP) to 760 ms (CNN) (trace and XLA compilation).

    So it pays when the pass repeats: the monitors compile it for a ``fit`` of enough passes (:func:`worth_compiling`).
    """

    def __init__(
        self,
        model: keras.Model,
        sites: Sequence[Site] = (),
        loss_fn: Callable[..., Any] | None = None,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        compiled: bool = False,
    ) -> None:
        self.model, self.sites, self.loss_fn, self.batch_size = model, list(sites), loss_fn, batch_size
        self.compiled = compiled and keras.backend.backend() in COMPILE_PASSES
        self._step: Any = None
        self._calls: list[tuple[Site, int, int]] = []  # per activation call of a traced pass: site, rank, units
        self._kernels = [] if loss_fn is None else kernel_layers(model)  # (name, layer): the gradients' variables
        self._variables = [layer.kernel for _, layer in self._kernels]

    def __call__(self, x: np.ndarray, y: np.ndarray | None = None) -> ProbeMeasurement:
        """Activity of the sites, and with ``y`` (fitted to ``loss_fn``) the kernel gradient norms, of the model on
        the already checked probe ``x``. The gradient is that of the mean loss over the whole probe: the batches'
        gradients weighted by size."""
        counter = ActivityCounter(self.sites)
        gradients = None if y is None or self.loss_fn is None else GradientSum(self._kernels, len(x))
        y = None if gradients is None else loss_targets(self.loss_fn, y)
        outputs = []
        for start in range(0, len(x), self.batch_size):
            xb = ops.convert_to_tensor(x[start:start + self.batch_size])
            yb = None if gradients is None else ops.convert_to_tensor(y[start:start + self.batch_size])
            run = self._compiled_batch if self.compiled else self._eager_batch
            grads, y_pred = run(xb, yb, counter)
            if gradients is not None:
                gradients.add(grads, int(xb.shape[0]))
            outputs.append(ops.convert_to_numpy(y_pred))
        norms = None if gradients is None else gradients.norms()
        return ProbeMeasurement(counter.result(), norms, np.concatenate(outputs))

    def _eager_batch(self, xb: Any, yb: Any, counter: ActivityCounter) -> tuple[list[np.ndarray], Any]:
        if yb is None:
            with Tap(self.sites, counter.update, exclusive=True):
                return [], self.model(xb, training=False)
        grads, y_pred, seen = loss_gradients(self.model, self._variables, xb, yb, self.loss_fn, self.sites)
        for site, pre, out in seen:
            counter.update(site, pre, out)
        return grads, y_pred

    def _compiled_batch(self, xb: Any, yb: Any, counter: ActivityCounter) -> tuple[list[np.ndarray], Any]:
        if self._step is None:
            self._step = self._compile()
        grads, y_pred, values = self._step(xb, yb)
        for (site, rank, units), value in zip(self._calls, values):
            if "pre" in value:  # a custom activation: its derivative is taken on the concrete values
                counter.update(site, value["pre"], value["out"])
            else:
                counter.add(site, value, int(xb.shape[0]) if rank > 1 else 1, units)
        return as_numpy(self._variables, grads), y_pred

    def _compile(self) -> Callable[[Any, Any], Any]:
        """:meth:`_traced_step` as one compiled call of ``(xb, yb)``: ``tf.function``, or ``jax.jit`` with the
        model's variable values as arguments (read at each call, so the weights are never frozen into it)."""
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            return tf.function(self._traced_step, reduce_retracing=True, autograph=False)
        import jax

        jitted = jax.jit(lambda state, xb, yb: self._traced_step(xb, yb, state))
        return lambda xb, yb: jitted(model_state(self.model), xb, yb)

    def _traced_step(self, xb: Any, yb: Any, state: Any = None) -> tuple[list[Any], Any, list[dict[str, Any]]]:
        """One batch as it is traced: what each activation call saw, reduced in place where it can be. ``state``:
        the model's variable values on JAX (``stateless_call``), None on TensorFlow (its variables)."""
        seen: list[tuple[Site, Any, Any]] = []
        if yb is None:
            with Tap(self.sites, lambda site, pre, out: seen.append((site, pre, out)), exclusive=True):
                y_pred = self.model(xb, training=False) if state is None else \
                    self.model.stateless_call(*state, xb, training=False)[0]
            grads: list[Any] = []
        else:
            grads, y_pred, seen = backend_gradients(self.model, self._variables, xb, yb, self.loss_fn, self.sites,
                                                    state)
        self._calls = [(site, len(out.shape), int(out.shape[-1]) if len(out.shape) > 1 else 1) for site, _, out in seen]
        values = [site_stats(site, pre, out) if ActivityCounter.measures_in_place(site) else {"pre": pre, "out": out}
                  for site, pre, out in seen]
        return grads, y_pred, values


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
    already checked probe ``x`` (targets ``y`` fitted to ``loss_fn``), from one eager pass per batch
    (:class:`ProbePass`, which the monitors keep and compile across epochs).

    The gradient is that of the mean loss over the whole probe: the batches' gradients weighted by size.
    """
    return ProbePass(model, sites, loss_fn, batch_size=batch_size)(x, y)


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

