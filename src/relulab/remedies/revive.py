"""``revive``: give the dead units of a trained model fresh incoming weights, and nothing else."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from relulab import _validate, models
from relulab.diagnostics.activity import DEFAULT_BATCH_SIZE
from relulab.diagnostics.probe_pass import measure_activity
from relulab.diagnostics.diagnosis import select_sites
from relulab.diagnostics.probe import check_probe
from relulab.diagnostics.sites import kernel_of

_BATCH_NORM_PARTS = ("gamma", "beta", "moving_mean", "moving_variance")
REVIVABLE = ("rectifier", "custom")  # kinds whose dead units are revived (a MyReLU layer included)


def _set_units(variable: keras.Variable, units: Sequence[int], fresh: Any) -> None:
    """Overwrite the last-axis entries ``units`` of ``variable`` with those of ``fresh``; others stay bit-exact."""
    values = ops.convert_to_numpy(variable.value).copy()
    values[..., list(units)] = ops.convert_to_numpy(fresh)[..., list(units)]
    variable.assign(values)


MAX_DRAWS = 20  # fresh draws per dead unit before revive gives up on it and reports it


class ReviveWarning(UserWarning):
    """Some dead units stayed dead on ``x`` after :data:`MAX_DRAWS` fresh draws."""


def _kernel_initializer(initializer: Any, seed: int | None) -> keras.initializers.Initializer:
    if initializer is None:
        return keras.initializers.HeNormal(seed=seed)
    try:
        fresh = models.initializer(initializer, seed=seed)
    except ValueError as error:
        raise ValueError(
            f"initializer of revive must be None (He normal), 'rai', a Keras initializer name or an "
            f"Initializer. Received: initializer={initializer!r}"
        ) from error
    config = fresh.get_config()
    if "seed" in config and seed is not None:  # a Keras name or instance: reseed it, so each draw differs
        fresh = fresh.__class__.from_config({**config, "seed": seed})
    return fresh


def _draw_seed(seed: int | None, draw: int) -> int | None:
    if draw == 0:
        return seed
    base = int(np.random.default_rng().integers(2**31 - 1)) if seed is None else seed
    return (base + 7919 * draw) % (2**31 - 1)


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

    A fresh draw can itself be dead on ``x`` (on non-negative inputs such as images in [0, 1], a
    He-initialised unit with zero bias is dead on every example with real probability): revive measures
    again after each draw and draws the still-dead units again, at most :data:`MAX_DRAWS` times; units
    still dead then are named in a :class:`ReviveWarning` and not counted as revived.

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
        ``{layer name: number of units revived}`` (alive on ``x`` afterwards) for every rectifier or custom
        activation layer measured.

    Raises:
        TypeError / ValueError: as :func:`relulab.diagnose`; an unknown initializer.
    """
    x, _ = check_probe(model, x, owner="revive")
    batch_size = _validate.positive_int(batch_size, name="batch_size", owner="revive")
    _kernel_initializer(initializer, seed)  # checks the name before anything changes
    sites = [s for s in select_sites(model, layers, owner="revive") if s.activation.kind in REVIVABLE]
    activity = measure_activity(model, x, sites, batch_size=batch_size)
    targets: dict[str, tuple] = {}
    for site in sites:
        dead = activity[site.name].dead_units if site.name in activity else ()
        layer, between = kernel_of(site)
        if dead and layer is None:
            warnings.warn(f"revive: {len(dead)} dead unit(s) of layer {site.name!r} are not computed by one "
                          f"kernel layer; left as they are.", stacklevel=2)
            dead = ()
        targets[site.name] = (site, layer, between, tuple(dead or ()))
    pending = {name: target[3] for name, target in targets.items() if target[3]}
    for draw in range(MAX_DRAWS):
        if not pending:
            break
        fresh = _kernel_initializer(initializer, _draw_seed(seed, draw))
        for name, units in pending.items():
            _, layer, between, _ = targets[name]
            _revive_units(layer, between, units, fresh)
        activity = measure_activity(model, x, [targets[name][0] for name in pending], batch_size=batch_size)
        pending = {name: tuple(sorted(set(units) & set(activity[name].dead_units or ())))
                   for name, units in pending.items() if name in activity}
        pending = {name: units for name, units in pending.items() if units}
    if pending:
        listed = "; ".join(f"{name}: {', '.join(map(str, units))}" for name, units in pending.items())
        warnings.warn(ReviveWarning(f"revive: {sum(map(len, pending.values()))} unit(s) stayed dead on x after "
                                    f"{MAX_DRAWS} fresh draws and are not counted as revived ({listed})."),
                      stacklevel=2)
    return {name: len(target[3]) - len(pending.get(name, ())) for name, target in targets.items()}
