"""The activations of a stack of runs: one call per group of runs that share a spec, per layer.

A stack's runs are ordered so that runs with the same activation spec are contiguous: run slices
``start:stop`` along the stack axis. :class:`LayerActivations` applies each group's function once to its
slice of a ``(runs, batch, units)`` pre-activation and concatenates the results:

- PReLU: one learned slope per run and unit, a ``(runs_in_group, units)`` variable started from the solo
  model's slopes (0.25, He et al. 2015);
- RReLU: in training, a fresh slope ``U(lower, upper)`` per run, example and unit, drawn statelessly from
  ``(run seed, layer, step)``, so a run's draws do not depend on the other runs of its stack (they are
  seeded, but not the draws of the solo Keras layer's ``SeedGenerator``); at inference the mean slope;
- a custom layer class (``"package.module:Class"``, :func:`relulab.layers.custom_class`) without weights or
  random state: one instance per group and layer, called on the group's slice;
- every other spec: the registry's pure function with the spec's parameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from relulab import activations, layers
from relulab.activations.functions import prelu
from relulab.activations.registry import Entry
from relulab.layers.base import ActivationLayer

# Activations with state that the stack models itself (a learned slope, a random slope in training).
STATEFUL = ("prelu", "rrelu")


@dataclasses.dataclass(frozen=True)
class Group:
    """Runs ``start:stop`` of a stack, which share the activation ``spec``."""

    spec: str
    start: int
    stop: int
    entry: Entry | None  # None for a custom layer class
    params: dict[str, Any]
    layer_class: type | None = None  # the custom layer class


def groups_of(specs: Sequence[str]) -> list[Group]:
    """The contiguous runs of equal specs in ``specs`` (sort the runs by activation first)."""
    groups: list[Group] = []
    start = 0
    for index in range(1, len(specs) + 1):
        if index == len(specs) or specs[index] != specs[start]:
            custom = layers.custom_class(specs[start])
            resolved = None if custom is not None else activations.resolve(specs[start])
            entry, params = (None, {}) if resolved is None else (resolved.entry, resolved.function_kwargs)
            groups.append(Group(specs[start], start, index, entry, params, custom))
            start = index
    if len({group.spec for group in groups}) != len(groups):
        raise ValueError(f"specs of groups_of must have equal activations next to each other. Received: {list(specs)}")
    return groups


def unstackable_reason(spec: str) -> str | None:
    """Why a run with activation ``spec`` cannot be stacked, or None when it can.

    A stack applies the registry's pure function, so it takes every activation whose layer is Keras'
    ``Activation`` or a relulab layer whose ``call`` is that function, plus PReLU and RReLU (modelled
    here). A layer registered later with its own ``call`` (weights, randomness) is not stackable, nor a
    custom layer class whose instance has variables (weights, or a seed generator's state).
    """
    custom = layers.custom_class(spec)
    if custom is not None:
        layer = custom()
        layer.build((None, 8))
        return f"its layer {custom.__name__} has variables" if layer.variables else None
    resolved = activations.resolve(spec)
    entry = resolved.entry
    if entry.name == "prelu" and (resolved.kwargs["alpha_regularizer"] or resolved.kwargs["alpha_constraint"]):
        return "its PReLU slopes have a regularizer or constraint, which the stack does not model"
    if entry.name in STATEFUL or entry.layer is None or entry.layer.call is ActivationLayer.call:
        return None
    return f"its layer {entry.layer.__name__} has its own call (weights or state the stack does not model)"


class LayerActivations:
    """The activations of one hidden layer of a stack, with the PReLU slopes as variables."""

    def __init__(self, groups: Sequence[Group], *, layer: int, seeds: Sequence[int],
                 alphas: dict[int, np.ndarray]) -> None:
        """``alphas``: for each PReLU group (by index), its runs' initial slopes, shape (runs, units)."""
        self.groups = list(groups)
        self.layer = layer
        self.seeds = [int(seed) for seed in seeds]
        self.alphas = {index: tf.Variable(value, name=f"alpha_{layer}_{index}") for index, value in alphas.items()}
        self.custom = {index: group.layer_class() for index, group in enumerate(self.groups) if group.layer_class}

    @property
    def variables(self) -> list[tf.Variable]:
        return list(self.alphas.values())

    def alpha(self, run: int) -> np.ndarray | None:
        """The PReLU slopes of run ``run`` (its position in the stack), or None for other activations."""
        for index, group in enumerate(self.groups):
            if group.start <= run < group.stop and index in self.alphas:
                return np.asarray(self.alphas[index][run - group.start])
        return None

    def __call__(self, z: tf.Tensor, *, training: bool, step: tf.Tensor | None = None) -> tf.Tensor:
        if len(self.groups) == 1:
            return self._apply(0, z, training=training, step=step)
        # tf.split, not slicing: a slice's gradient is a zero-padded copy of the whole tensor per group
        # (measured 4x slower on the stacked CNN); split's gradient is one concat.
        slices = tf.split(z, [group.stop - group.start for group in self.groups], axis=0)
        parts = [self._apply(index, part, training=training, step=step) for index, part in enumerate(slices)]
        return tf.concat(parts, axis=0)

    def _apply(self, index: int, z: tf.Tensor, *, training: bool, step: tf.Tensor | None) -> tf.Tensor:
        group = self.groups[index]
        if index in self.custom:
            return self.custom[index](z, training=training)
        if group.entry.name == "prelu":
            return prelu(z, self.alphas[index][:, None, :])
        if group.entry.name == "rrelu" and training:
            return prelu(z, self._random_slopes(group, z, step))
        return group.entry.function(z, **group.params)

    def _random_slopes(self, group: Group, z: tf.Tensor, step: tf.Tensor) -> tf.Tensor:
        shape = tf.shape(z)[1:]
        step = tf.cast(step, tf.int64)
        draws = [
            tf.random.stateless_uniform(shape, seed=tf.stack([tf.constant(seed * 1024 + self.layer, tf.int64), step]),
                                        minval=group.params["lower"], maxval=group.params["upper"], dtype=z.dtype)
            for seed in self.seeds[group.start:group.stop]
        ]
        return tf.stack(draws)
