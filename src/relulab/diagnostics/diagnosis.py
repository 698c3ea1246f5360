"""``diagnose(model, x, y=None)``: are the units of a model dying or saturating, do its gradients vanish?"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from relulab import _validate
from relulab.diagnostics.activity import DEFAULT_BATCH_SIZE, LayerActivity
from relulab.diagnostics.advice import LayerFacts, find_all, remedies_for
from relulab.diagnostics.gradients import gradient_ratio, resolve_loss
from relulab.diagnostics.probe import check_probe
from relulab.diagnostics.probe_pass import measure_probe
from relulab.diagnostics.report import LayerRow, Report
from relulab.diagnostics.sites import Site, find_sites, kernel_layers, kernel_of, output_site, unmeasured
from relulab.diagnostics.targets import chance_loss, choose_loss, fit_labels, loss_name


def select_sites(model: keras.Model, layers: Sequence[str] | None = None, *, owner: str = "diagnose") -> list[Site]:
    """The measurable sites of ``model``, or only those named in ``layers``.

    Raises:
        ValueError: the model has no activation relulab can measure, or ``layers`` names a layer that
            is not one of its measurable sites (the message lists them).
    """
    sites = find_sites(model)
    if not sites:
        others = unmeasured(model)
        found = f"; layers with other activations: {', '.join(others)}" if others else ""
        raise ValueError(
            f"model {model.name!r} has no activation that relulab can measure (a rectifier, smooth or "
            f"saturating activation from relulab.activations.available(), as a layer or as "
            f"Dense(activation=...)){found}."
        )
    if layers is None:
        return sites
    if isinstance(layers, str):
        layers = [layers]
    names = [site.name for site in sites]
    unknown = [name for name in layers if name not in names]
    if unknown or not layers:
        raise ValueError(
            f"layers of {owner} must name measurable layers of the model: {', '.join(names)}. "
            f"Received: layers={list(layers)!r}"
        )
    return [site for site in sites if site.name in layers]


def he_initialised(layer: keras.layers.Layer | None) -> bool | None:
    """Whether ``layer``'s kernel initializer is He-scaled (variance 2 / fan_in) or RAI; None if unknown."""
    from relulab.initializers import RAI

    initializer = getattr(layer, "kernel_initializer", None)
    if initializer is None:
        return None
    if isinstance(initializer, RAI):
        return True
    return (isinstance(initializer, keras.initializers.VarianceScaling)
            and initializer.scale == 2.0 and initializer.mode == "fan_in")


def kernel_scale(layer: keras.layers.Layer | None) -> float | None:
    """The standard deviation of ``layer``'s kernel entries over He's, ``sqrt(2 / fan_in)`` (fan_in: the kernel's
    size over its last axis): 1 for a fresh He-initialised kernel, ~0.6-0.8 for Glorot, and about the factor by
    which the layer scales a rectifier signal. None without a kernel; NaN for non-finite weights."""
    kernel = getattr(layer, "kernel", None)
    if kernel is None or len(kernel.shape) < 2:
        return None
    return _over_he(keras.ops.convert_to_numpy(kernel))


def _over_he(kernel: np.ndarray) -> float | None:
    """The standard deviation of ``kernel``'s entries over He's ``sqrt(2 / fan_in)``; None for an empty one."""
    values = np.asarray(kernel, "float64")
    fan_in = values.size // values.shape[-1] if values.shape[-1] else 0
    return float(values.std() / math.sqrt(2.0 / fan_in)) if fan_in else None


def initial_scale(layer: keras.layers.Layer | None) -> float | None:
    """:func:`kernel_scale` of what ``layer``'s kernel initializer draws for its kernel's shape (drawn with a fixed
    seed, so the global random state is untouched); None when the initializer is not known or cannot draw."""
    initializer, kernel = getattr(layer, "kernel_initializer", None), getattr(layer, "kernel", None)
    if initializer is None or kernel is None or len(kernel.shape) < 2:
        return None
    try:
        config = initializer.get_config()
        if "seed" in config:
            initializer = type(initializer).from_config({**config, "seed": 0})
        drawn = keras.ops.convert_to_numpy(initializer(tuple(kernel.shape), dtype="float32"))
    except Exception:  # noqa: BLE001  (a user's initializer: unknown is the answer)
        return None
    return _over_he(drawn)


def layer_facts(site: Site, activity: LayerActivity, *, output: bool = False) -> LayerFacts:
    """What the advice rules read about one measured site (shared by ``diagnose`` and the monitors' readers);
    ``output``: the site is the model's output activation (:func:`~relulab.diagnostics.sites.output_site`)."""
    kernel, norms_between = kernel_of(site)
    return LayerFacts(site.name, activity.units, activity.dead_fraction, activity.saturation,
                      site.activation.zero_slope, he_initialised(kernel), bool(norms_between), site.activation.kind,
                      activity.saturated_share, output, kernel_scale(kernel), initial_scale(kernel))


def _row(site: Site, activity: LayerActivity, kernel_name: str | None, norms: dict[str, float] | None) -> LayerRow:
    return LayerRow(
        name=site.name, activation=site.activation.spec, kind=site.activation.kind, units=activity.units,
        dead_fraction=activity.dead_fraction, sparsity=activity.sparsity, saturation=activity.saturation,
        grad_norm=None if norms is None or kernel_name is None else norms.get(kernel_name),
        kernel_layer=kernel_name, dead_units=activity.dead_units, saturated_share=activity.saturated_share,
    )


def training_losses(history: Any, *, owner: str = "diagnose") -> list[float]:
    """The training loss per epoch from ``history``: a ``keras.callbacks.History`` (what ``fit`` returns), its
    ``history`` dict, or a sequence of numbers (None, as JSON writes NaN, counts as NaN). None gives ``[]``.

    Raises:
        TypeError: anything else (a string, booleans, text values), or a dict without a ``"loss"`` entry.
    """
    if history is None:
        return []
    record = getattr(history, "history", history)
    if isinstance(record, dict):
        if "loss" not in record:
            raise TypeError(f"history of {owner} must hold the training loss: a keras History or its dict with a "
                            f"'loss' entry. Received a dict with keys {sorted(map(str, record))!r}")
        record = record["loss"]
    values = None if isinstance(record, (str, bytes)) else _numbers(record)
    if values is None:
        raise TypeError(f"history of {owner} must be a keras History, its dict, or the training loss per epoch "
                        f"(numbers). Received: history={history!r:.80}")
    return values


def _numbers(record: Any) -> list[float] | None:
    """``record``'s items as floats (None as NaN), or None when it is not a sequence of real numbers."""
    try:
        items = list(np.asarray(record, dtype=object).reshape(-1)) if np.ndim(record) else None
    except (TypeError, ValueError):
        return None
    if items is None or any(isinstance(item, (bool, np.bool_, str, bytes)) for item in items):
        return None
    try:
        return [math.nan if item is None else float(item) for item in items]
    except (TypeError, ValueError):
        return None


def diagnose(
    model: keras.Model,
    x: Any,
    y: Any = None,
    *,
    layers: Sequence[str] | None = None,
    loss: Any = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    history: Any = None,
) -> Report:
    """Measure dead units, sparsity, saturation and (with ``y``) gradient flow of ``model`` on ``x``.

    Works on any Keras model with one input (Sequential, functional, nested, subclassed) whose
    activations are separate layers or ``Dense/Conv(activation=...)``. See
    :mod:`relulab.diagnostics.regimes` for the definitions and :mod:`relulab.diagnostics.advice` for
    the thresholds behind the advice.

    Example:
        >>> report = diagnose(model, x_test[:1000], y_test[:1000])
        >>> report.row("dense_1").dead_fraction, report.grad_ratio
        >>> print(report)                       # the table; report.to_dict() for programs

    Args:
        model: the Keras model. x: probe inputs, shape ``(n, *input_shape)``, finite.
        y: targets for ``x``; with them, gradient norms and their ratio are measured.
        layers: measure only these layers (names as in the report); default all.
        loss: the loss to differentiate; default the model's compiled loss, else one inferred from the
            output layer (:func:`relulab.diagnostics.targets.infer_loss`; the report says so). ``y`` is
            fitted to it (:func:`~relulab.diagnostics.targets.fit_labels`).
        batch_size: examples per forward pass, default 1024.
        history: the training so far, as ``fit`` returned it (or the loss per epoch): a non-finite loss, or
            (for a cross-entropy loss) an epoch's loss at three times that of uniform predictions
            (:func:`~relulab.diagnostics.targets.chance_loss`), is a finding
            (:func:`relulab.diagnostics.advice.loss_findings`). A run that overshot and recovered shows it
            only here: the final weights may look healthy.

    Raises:
        TypeError / ValueError: a bad argument (see :func:`relulab.diagnostics.probe.check_probe`), a
            model without measurable activations, an unknown layer name, no loss for gradients.
    """
    x, y = check_probe(model, x, y)
    batch_size = _validate.positive_int(batch_size, name="batch_size", owner="diagnose")
    losses = training_losses(history)
    sites = select_sites(model, layers)
    loss_fn, inferred = None, False
    if y is not None:
        chosen, inferred = choose_loss(model, loss)
        loss_fn = resolve_loss(model, chosen)
        y = fit_labels(y, model, loss_fn)
    # the yardstick of the diverging-loss rule, only when there is a history to judge
    chance = chance_loss(model, loss_fn if loss_fn is not None else choose_loss(model, loss)[0]) if losses else None
    measured = measure_probe(model, x, y, loss_fn, sites=sites, batch_size=batch_size)
    activity, norms = measured.activity, measured.norms
    kernel_names = {id(layer): name for name, layer in kernel_layers(model)}
    last = output_site(model, sites)
    rows, facts = [], []
    for site in sites:
        if site.name not in activity:
            continue  # a layer the forward pass never reached
        kernel, _ = kernel_of(site)
        rows.append(_row(site, activity[site.name], kernel_names.get(id(kernel)), norms))
        facts.append(layer_facts(site, activity[site.name], output=site.name == last))
    ratio = None if norms is None else gradient_ratio(norms)
    # a probe of one distinct example cannot show whether the output depends on the input
    varied = len(x) > 1 and bool(np.any(x.reshape(len(x), -1) != x[:1].reshape(1, -1)))
    spread = measured.spread if varied else None
    findings = find_all(facts, ratio, norms, spread=spread, losses=losses, chance=chance)
    return Report(model.name, len(x), tuple(rows), norms, ratio, tuple(remedies_for(findings)),
                  tuple(unmeasured(model)), loss=None if loss_fn is None else loss_name(loss_fn),
                  loss_inferred=inferred, output_spread=spread, findings=tuple(findings))
