"""What a comparison trains: an experiment's grid, expanded into runs.

A :class:`Grid` is activations x architectures x learning rates x seeds on one dataset; each
combination is one :class:`RunSpec`. Runs with the same seed see the same initial weights in their
shared layers' shapes and the same data order (see :func:`epoch_order`), so differences between
activations are paired.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from typing import Any

import numpy as np

from relulab import _validate, activations, layers
from relulab.models import (DEFAULT_BATCH_SIZE, DEFAULT_EPOCHS, DEFAULT_HIDDEN, DEFAULT_INITIALIZER,
                            DEFAULT_LEARNING_RATE, hidden_sizes, initializer)

# kernel_initializer="auto": the initialisation each activation is usually paired with.
AUTO_INITIALIZERS = {"rectifier": "he_normal", "smooth": "he_normal", "saturating": "glorot_uniform",
                     "linear": "glorot_uniform"}
AUTO_OVERRIDES = {"selu": "lecun_normal"}


def auto_initializer(activation: str) -> str:
    """He et al. 2015 for rectifiers (and custom layers), LeCun for SELU (Klambauer et al. 2017),
    Glorot for sigmoid/tanh."""
    if layers.custom_class(activation) is not None:
        return AUTO_INITIALIZERS["rectifier"]
    entry, _ = activations.resolve(activation)
    return AUTO_OVERRIDES.get(entry.name, AUTO_INITIALIZERS[entry.kind])


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One training run of the grid: everything that differs between runs of one experiment."""

    activation: str  # canonical activation spec
    hidden: tuple[int, ...]  # hidden widths
    learning_rate: float  # Adam step size
    seed: int  # initial weights and data order
    kernel_initializer: str  # resolved initializer name
    epochs: int  # passes over the training set
    batch_size: int  # examples per step

    @property
    def key(self) -> str:
        """A stable, readable identifier, unique within an experiment."""
        hidden = "x".join(map(str, self.hidden))
        return f"{self.activation}|{hidden}|lr={self.learning_rate:g}|{self.kernel_initializer}|seed={self.seed}"

    @property
    def depth(self) -> int:
        return len(self.hidden)

    def steps(self, train_examples: int) -> int:
        """Optimisation steps of the whole run on ``train_examples`` (the last batch may be short)."""
        return self.epochs * math.ceil(train_examples / self.batch_size)

    @property
    def label(self) -> str:
        """The configuration this run is one seed of (what the summary averages over)."""
        return self.key.rsplit("|seed=", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "hidden": list(self.hidden)}

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> RunSpec:
        return cls(**{**payload, "hidden": tuple(payload["hidden"])})


@dataclasses.dataclass(frozen=True)
class Grid:
    """An experiment: the grid, the data and the training settings shared by every run."""

    dataset: str = "digits"
    data_path: str | None = None
    activations: tuple[str, ...] = ("relu",)
    architectures: tuple[tuple[int, ...], ...] = (DEFAULT_HIDDEN,)
    learning_rates: tuple[float, ...] = (DEFAULT_LEARNING_RATE,)
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = DEFAULT_EPOCHS
    batch_size: int = DEFAULT_BATCH_SIZE
    kernel_initializer: str = DEFAULT_INITIALIZER  # or "auto" (per activation, see auto_initializer)
    scaling: str = "unit"
    train_size: int | None = None
    test_size: int | None = None
    baseline: str | None = None  # paired differences are taken against it; None: relu if in the grid, else the first
    diagnostics: bool = True  # record dead units and gradient flow every epoch

    def __post_init__(self) -> None:
        owner = "the grid"
        for name in ("activations", "architectures", "learning_rates", "seeds"):
            if not getattr(self, name):
                raise ValueError(f"{name} of {owner} is empty; give at least one value.")
        specs = tuple(self._canonical(spec) for spec in self.activations)
        if len(set(specs)) != len(specs):
            raise ValueError(f"activations of {owner} repeat a value. Received: activations={list(self.activations)}")
        object.__setattr__(self, "activations", specs)
        if self.baseline is None:
            object.__setattr__(self, "baseline", "relu" if "relu" in specs else specs[0])
        else:
            object.__setattr__(self, "baseline", self._canonical(self.baseline))
            if self.baseline not in specs:
                raise ValueError(f"baseline of {owner} must be one of the activations ({', '.join(specs)}). "
                                 f"Received: baseline={self.baseline!r}")
        object.__setattr__(self, "architectures", tuple(hidden_sizes(list(a)) for a in self.architectures))
        for rate in self.learning_rates:
            _validate.number(rate, name="learning_rate", owner=owner, strictly_above=0.0)
        for seed in self.seeds:
            _validate.seed(seed, name="seeds", owner=owner)
        for name in ("architectures", "learning_rates", "seeds"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise ValueError(f"{name} of {owner} repeat a value. Received: {name}={list(values)}")
        _validate.positive_int(self.epochs, name="epochs", owner=owner)
        _validate.positive_int(self.batch_size, name="batch_size", owner=owner)
        if self.kernel_initializer != "auto":
            initializer(self.kernel_initializer)

    @staticmethod
    def _canonical(spec: str) -> str:
        """The canonical form of ``spec``, after checking that the layer it names can be built."""
        custom = layers.custom_class(spec)
        if custom is not None:
            try:
                custom()
            except TypeError as error:
                raise ValueError(f"custom activation {spec!r} cannot be built without arguments ({error}).") from None
            return spec.replace(" ", "")
        layers.get(spec)  # first, as train does: the layer must accept the spec (PReLU takes alpha_initializer,
        # not alpha), and its checks (a float dtype) give the same message as train's
        entry, params = activations.resolve(spec)
        return entry.spec(params)

    def initializer_for(self, activation: str) -> str:
        return auto_initializer(activation) if self.kernel_initializer == "auto" else self.kernel_initializer

    def runs(self) -> list[RunSpec]:
        """Every run, in a stable order: architecture, learning rate, seed, activation."""
        return [
            RunSpec(activation, hidden, float(rate), seed, self.initializer_for(activation), self.epochs,
                    self.batch_size)
            for hidden in self.architectures
            for rate in self.learning_rates
            for seed in self.seeds
            for activation in self.activations
        ]

    def to_dict(self) -> dict[str, Any]:
        payload = dataclasses.asdict(self)
        payload["architectures"] = [list(a) for a in self.architectures]
        for name in ("activations", "learning_rates", "seeds"):
            payload[name] = list(payload[name])
        return payload

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> Grid:
        payload = dict(payload)
        payload["architectures"] = tuple(tuple(a) for a in payload["architectures"])
        for name in ("activations", "learning_rates", "seeds"):
            payload[name] = tuple(payload[name])
        return cls(**payload)

    def fingerprint(self) -> str:
        """A short hash of what decides the runs: two grids with the same fingerprint train the same runs
        (the baseline only changes the analysis, so it is left out)."""
        payload = {k: v for k, v in self.to_dict().items() if k != "baseline"}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def epoch_order(seed: int, epoch: int, size: int) -> np.ndarray:
    """The order in which a run with ``seed`` visits ``size`` training examples in ``epoch``.

    It depends only on the seed and the epoch, never on the activation, so runs that differ only in
    activation see the same batches (a paired design).
    """
    return np.random.default_rng([seed, epoch]).permutation(size)
