"""``revive``: give the dead units of a trained model fresh incoming weights, and nothing else."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from relulab import _validate, models
from relulab.diagnostics.activity import DEFAULT_BATCH_SIZE, measure_activity
from relulab.diagnostics.diagnosis import select_sites
from relulab.diagnostics.probe import check_probe
from relulab.diagnostics.sites import kernel_of

_BATCH_NORM_PARTS = ("gamma", "beta", "moving_mean", "moving_variance")


def _set_units(variable: keras.Variable, units: Sequence[int], fresh: Any) -> None:
    """Overwrite the last-axis entries ``units`` of ``variable`` with those of ``fresh``; others stay bit-exact."""
    values = ops.convert_to_numpy(variable.value).copy()
    values[..., list(units)] = ops.convert_to_numpy(fresh)[..., list(units)]
    variable.assign(values)


def _kernel_initializer(initializer: Any, seed: int | None) -> keras.initializers.Initializer:
    if initializer is None:
        return keras.initializers.HeNormal(seed=seed)
    try:
        return models.initializer(initializer, seed=seed)
    except ValueError as error:
        raise ValueError(
            f"initializer of revive must be None (He normal), 'rai', a Keras initializer name or an "
            f"Initializer. Received: initializer={initializer!r}"
        ) from error


def _revive_units(layer: keras.layers.Layer, between: list, units: Sequence[int], initializer: Any) -> None:
    kernel = layer.kernel
    _set_units(kernel, units, initializer(tuple(kernel.shape), dtype=kernel.dtype))
    bias = getattr(layer, "bias", None)
    if isinstance(bias, keras.Variable):
        _set_units(bias, units, layer.bias_initializer(tuple(bias.shape), dtype=bias.dtype))
    for norm in between:
        for part in _BATCH_NORM_PARTS:
            variable = getattr(norm, part, None)
            if isinstance(variable, keras.Variable):
                start = getattr(norm, f"{part}_initializer")
                _set_units(variable, units, start(tuple(variable.shape), dtype=variable.dtype))


def revive(
    model: keras.Model,
    x: Any,
    *,
    layers: Sequence[str] | None = None,
    initializer: Any = None,
    seed: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> dict[str, int]:
    """Re-initialise, in place, the incoming weights and bias of every rectifier unit dead on ``x``.

    For each dead unit ``j`` of a rectifier layer, column ``j`` of the kernel that computes its
    pre-activation (``kernel[..., j]``: the layer's own for ``Dense(activation=...)``, the preceding
    ``Dense``/``Conv`` for a separate activation layer) gets a fresh draw of ``initializer``, and
    ``bias[j]`` its bias initializer's value (zero by default). Batch normalisation between kernel and
    activation has its ``gamma``, ``beta`` and moving statistics of unit ``j`` reset to their initial
    values. Every other weight is left bit-for-bit unchanged. Dead units whose pre-activation does not
    come from one kernel layer (a model input, a merge) are left alone with a warning.

    Example:
        >>> revive(model, x_train[:2048], seed=0)
        {'dense_1': 7, 'dense_2': 0}

    Args:
        model: a built Keras model. x: the data on which units are judged dead (finite).
        layers: only these layers; default every rectifier layer.
        initializer: the kernel initializer for the fresh columns: None (He normal, default), 'rai'
            (relulab.initializers.RAI), or a Keras initializer name or instance.
        seed: seed for the fresh draws (with the default or 'rai').
        batch_size: examples per forward pass, default 1024.

    Returns:
        ``{layer name: number of units revived}`` for every rectifier layer measured.

    Raises:
        TypeError / ValueError: as :func:`relulab.diagnose`; an unknown initializer.
    """
    x, _ = check_probe(model, x, owner="revive")
    batch_size = _validate.positive_int(batch_size, name="batch_size", owner="revive")
    fresh = _kernel_initializer(initializer, seed)
    sites = [s for s in select_sites(model, layers, owner="revive") if s.activation.kind == "rectifier"]
    activity = measure_activity(model, x, sites, batch_size=batch_size)
    revived = {}
    for site in sites:
        dead = activity[site.name].dead_units if site.name in activity else ()
        layer, between = kernel_of(site)
        if dead and layer is None:
            warnings.warn(f"revive: {len(dead)} dead unit(s) of layer {site.name!r} are not computed by one "
                          f"kernel layer; left as they are.", stacklevel=2)
            dead = ()
        if dead:
            _revive_units(layer, between, dead, fresh)
        revived[site.name] = len(dead)
    return revived
